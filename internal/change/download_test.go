package change

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v66/github"
)

const (
	installationToken = "ghs_installationTokenNeverSentToCodeload"
	downloadToken     = "AAAAPRESIGNEDDOWNLOADTOKEN"
)

// fakeGitHub answers the tarball link with a redirect, as GitHub does,
// and serves the download; next says where the download goes from there.
type fakeGitHub struct {
	srv  *httptest.Server
	mu   sync.Mutex
	auth []string // Authorization headers the download paths received
	// download handles /_codeload/; nil serves a tarball.
	download http.HandlerFunc
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/repos/acme/infra/tarball/"):
			if r.Header.Get("Authorization") != "token "+installationToken {
				http.Error(w, "no auth", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, f.srv.URL+"/_codeload/acme/infra/legacy.tar.gz/main?token="+downloadToken, http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/_codeload/"):
			f.mu.Lock()
			f.auth = append(f.auth, r.Header.Get("Authorization"))
			f.mu.Unlock()
			if f.download != nil {
				f.download(w, r)
				return
			}
			if r.URL.Query().Get("token") != downloadToken {
				http.NotFound(w, r)
				return
			}
			w.Write(tarball(t, map[string]string{"a.txt": "alpha\n", "dir/b.txt": "beta\n"}))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// auths is what the download paths received, in order.
func (f *fakeGitHub) auths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auth...)
}

// reader is an installation client: its transport adds the token to
// every request, redirects included, as ghinstallation does.
func (f *fakeGitHub) reader(t *testing.T) *Reader {
	auth := roundTrip(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "token "+installationToken)
		return http.DefaultTransport.RoundTrip(r)
	})
	c := github.NewClient(&http.Client{Transport: auth})
	u, _ := url.Parse(f.srv.URL + "/")
	c.BaseURL = u
	return &Reader{Client: c}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func tarball(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for p, c := range files {
		if err := tw.WriteHeader(&tar.Header{Name: "acme-infra-abc1234/" + p, Mode: 0o644, Size: int64(len(c)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(c))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func fetchTarball(r *Reader) (map[string]string, error) {
	got := map[string]string{}
	err := r.Tarball(context.Background(), "acme", "infra", "main", func(e TarEntry) error {
		var b bytes.Buffer
		if e.Reader != nil {
			b.ReadFrom(e.Reader)
		}
		got[e.Path] = b.String()
		return nil
	})
	return got, err
}

// Problem 6: the installation token must not go with the download.
func TestTarballDownloadCarriesNoCredentials(t *testing.T) {
	f := newFakeGitHub(t)
	got, err := fetchTarball(f.reader(t))
	if err != nil {
		t.Fatal(err)
	}
	if got["a.txt"] != "alpha\n" || got["dir/b.txt"] != "beta\n" {
		t.Errorf("files %v", got)
	}
	if a := f.auths(); len(a) != 1 || a[0] != "" {
		t.Errorf("the download received Authorization %q", a)
	}
}

// Issue 10 item 5: no failure names the download URL with its token.
func TestTarballErrorsCarryNoToken(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a download went to a host outside GitHub's: %s (Authorization %q)", r.URL.Path, r.Header.Get("Authorization"))
	}))
	defer other.Close()
	tests := map[string]struct {
		download http.HandlerFunc
		want     string
	}{
		"connection dropped": {func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}, "EOF"},
		"not found": {func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, "404 Not Found"},
		"redirect off GitHub": {func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/steal?token="+downloadToken, http.StatusFound)
		}, "not one of GitHub's download hosts"},
		"redirect loop": {func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.String()+"&again=1", http.StatusFound)
		}, "more than 3 redirects"},
		"truncated archive": {func(w http.ResponseWriter, r *http.Request) {
			w.Write(tarball(t, map[string]string{"a.txt": strings.Repeat("x", 4096)})[:100])
		}, "read tarball"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFakeGitHub(t)
			f.download = tc.download
			_, err := fetchTarball(f.reader(t))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, downloadToken) || strings.Contains(msg, "token=") || strings.Contains(msg, installationToken) {
				t.Errorf("the error shows a token: %s", msg)
			}
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "tarball") {
				t.Errorf("error %q, want it to say %q", msg, tc.want)
			}
			for _, a := range f.auths() {
				if a != "" {
					t.Errorf("the download received Authorization %q", a)
				}
			}
		})
	}
}
