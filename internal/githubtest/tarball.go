package githubtest

import (
	"archive/tar"
	"compress/gzip"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

// GitHub answers a tarball request with a 302 to codeload, a separate host
// that needs no Authorization (a short-lived token rides in the query).
// Here codeload lives on the same server under codeloadPrefix.
const codeloadPrefix = "/_codeload/"

type codeloadGrant struct {
	repo    *repoState
	sha     string
	expires time.Time
}

func handleTarball(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	ref := c.param("ref")
	sha := s.resolveLocked(r, ref)
	if sha == "" {
		c.notFound()
		return
	}
	token := randomToken("", 24)
	s.codeload[token] = codeloadGrant{repo: r, sha: sha, expires: s.now().Add(5 * time.Minute)}
	loc := s.URL + codeloadPrefix + r.fullName() + "/legacy.tar.gz/" + ref + "?token=" + token
	c.w.Header().Set("Location", loc)
	c.send(http.StatusFound, "", nil)
}

// serveCodeload streams a gzip tar of a commit as GitHub's legacy tarball:
// a pax global header carrying the commit SHA, then every entry under an
// "owner-repo-<short sha>/" directory.
func (s *Server) serveCodeload(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	grant, ok := s.codeload[r.URL.Query().Get("token")]
	if !ok || s.now().After(grant.expires) {
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	commit := s.objects.commits[grant.sha]
	files := s.objects.flatten(commit.Tree)
	blobs := make(map[string][]byte, len(files))
	for p, f := range files {
		blobs[p] = s.objects.blobs[f.SHA]
	}
	prefix := grant.repo.Owner.Login + "-" + grant.repo.Name + "-" + grant.sha[:7] + "/"
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/x-gzip")
	w.Header().Set("Content-Disposition", "attachment; filename="+strings.TrimSuffix(prefix, "/")+".tar.gz")
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	mtime := commit.Committer.When
	_ = tw.WriteHeader(&tar.Header{
		Typeflag:   tar.TypeXGlobalHeader,
		Name:       "pax_global_header",
		PAXRecords: map[string]string{"comment": grant.sha},
		Format:     tar.FormatPAX,
	})
	paths := make([]string, 0, len(files))
	dirs := map[string]bool{}
	for p := range files {
		paths = append(paths, p)
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			dirs[d+"/"] = true
		}
	}
	for d := range dirs {
		paths = append(paths, d)
	}
	sort.Strings(paths)
	_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: prefix, Mode: 0o775, ModTime: mtime, Format: tar.FormatPAX})
	for _, p := range paths {
		if dirs[p] {
			_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: prefix + p, Mode: 0o775, ModTime: mtime, Format: tar.FormatPAX})
			continue
		}
		f := files[p]
		data := blobs[p]
		switch f.Mode {
		case ModeSymlink:
			_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: prefix + p, Linkname: string(data), Mode: 0o777, ModTime: mtime, Format: tar.FormatPAX})
		default:
			mode := int64(0o664)
			if f.Mode == ModeExecutable {
				mode = 0o775
			}
			_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: prefix + p, Size: int64(len(data)), Mode: mode, ModTime: mtime, Format: tar.FormatPAX})
			_, _ = tw.Write(data)
		}
	}
	_ = tw.Close()
	_ = gz.Close()
}

// rawPrefix serves contents' download_url (raw.githubusercontent.com on
// GitHub): /_raw/owner/repo/ref/path, the ref being one path segment.
const rawPrefix = "/_raw/"

func (s *Server) serveRaw(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, rawPrefix), "/", 4)
	if len(parts) < 4 {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	repo := s.repoLocked(parts[0], parts[1])
	if repo == nil {
		http.NotFound(w, r)
		return
	}
	sha := s.resolveLocked(repo, parts[2])
	if sha == "" {
		http.NotFound(w, r)
		return
	}
	f, ok := s.objects.flatten(s.objects.commits[sha].Tree)[parts[3]]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(s.objects.blobs[f.SHA])
}
