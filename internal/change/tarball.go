package change

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-github/v66/github"
)

// TarEntry is one file of a repository tarball. Reader is nil for anything
// that is not a regular file (links are never followed).
type TarEntry struct {
	Path    string
	Size    int64
	Regular bool
	Reader  io.Reader
}

// Tarball streams a repository's tarball at ref (one API call for the link,
// one download), calling fn for each file; nothing is written to disk.
func (r *Reader) Tarball(ctx context.Context, owner, repo, ref string, fn func(TarEntry) error) error {
	u, _, err := r.Client.Repositories.GetArchiveLink(ctx, owner, repo, github.Tarball, &github.RepositoryContentGetOptions{Ref: ref}, 0)
	if err != nil {
		return fmt.Errorf("tarball link for %s: %w", short(ref), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("tarball for %s: %w", short(ref), err)
	}
	resp, err := r.Client.Client().Do(req)
	if err != nil {
		return fmt.Errorf("download tarball for %s: %w", short(ref), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download tarball for %s: %s", short(ref), resp.Status)
	}
	return ReadTarball(resp.Body, fn)
}

// ReadTarball reads a gzip'd tarball as GitHub builds it: every path under
// one top directory, which is stripped.
func ReadTarball(r io.Reader, fn func(TarEntry) error) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("read tarball: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tarball: %w", err)
		}
		_, rel, ok := strings.Cut(h.Name, "/")
		if !ok || rel == "" || strings.HasSuffix(rel, "/") {
			continue
		}
		e := TarEntry{Path: rel, Size: h.Size}
		switch h.Typeflag {
		case tar.TypeReg:
			e.Regular, e.Reader = true, tr
		case tar.TypeSymlink, tar.TypeLink:
		default:
			continue // directories, pax headers
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}
