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

	"github.com/housekeeper-app/housekeeper/internal/retry"
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
	_, err := r.Snapshot(ctx, owner, repo, ref, fn)
	return err
}

// Snapshot is Tarball for a branch: it also returns the commit the tarball
// was built from (git archive's pax comment), so one download names the
// commit, lists the tree and gives every file.
func (r *Reader) Snapshot(ctx context.Context, owner, repo, ref string, fn func(TarEntry) error) (commit string, err error) {
	u, resp, err := r.Client.Repositories.GetArchiveLink(ctx, owner, repo, github.Tarball, &github.RepositoryContentGetOptions{Ref: ref}, 0)
	if err != nil {
		if resp != nil && resp.Response != nil && resp.StatusCode == http.StatusNotFound {
			// go-github reports this status as plain text; keep it a
			// 404 for IsNotFound (an empty repository has no tarball).
			err = &github.ErrorResponse{Response: resp.Response, Message: "Not Found"}
		}
		return "", fmt.Errorf("tarball link for %s: %w", short(ref), err)
	}
	d, err := r.downloader()
	if err != nil {
		return "", fmt.Errorf("tarball for %s: %w", short(ref), err)
	}
	// The link is pre-signed: a plain client fetches it, with no
	// credentials, and errors never show its token.
	dl, err := d.Get(ctx, u.String())
	if err != nil {
		return "", fmt.Errorf("tarball for %s: %w", short(ref), err)
	}
	defer dl.Body.Close()
	if err := readTarball(dl.Body, fn, func(c string) { commit = c }); err != nil {
		return commit, scrub(err, u.String())
	}
	return commit, nil
}

// downloader allows the client's API host and the web host it implies:
// api.github.com → github.com (and api.HOST → HOST on GitHub Enterprise
// Cloud); GitHub Enterprise Server serves both on one host.
func (r *Reader) downloader() (*Downloader, error) {
	api := r.Client.BaseURL
	web := *api
	web.Path, web.RawPath = "/", ""
	web.Host = strings.TrimPrefix(strings.ToLower(api.Host), "api.")
	// Retried as API reads are (5xx, timeouts, lost connections), and never
	// logged: the URL holds the token.
	return NewDownloader(api.String(), web.String(), retry.New(nil, retry.Options{}))
}

// ReadTarball reads a gzip'd tarball as GitHub builds it: every path under
// one top directory, which is stripped.
func ReadTarball(r io.Reader, fn func(TarEntry) error) error {
	return readTarball(r, fn, nil)
}

func readTarball(r io.Reader, fn func(TarEntry) error, commit func(string)) error {
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
		if h.Typeflag == tar.TypeXGlobalHeader {
			if c := h.PAXRecords["comment"]; commit != nil && isSHA(c) {
				commit(c)
			}
			continue
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

func isSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
