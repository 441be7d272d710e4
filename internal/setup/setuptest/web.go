// Package setuptest fakes the browser-facing half of GitHub's App-manifest
// flow for tests: the "new GitHub App" form endpoints that receive the
// manifest and redirect back with a one-time code. The code is one the
// emulator (internal/githubtest) exchanges at
// POST /app-manifests/{code}/conversions.
package setuptest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// Manifest is the part of a posted manifest the fake checks.
type Manifest struct {
	Name           string `json:"name"`
	URL            string `json:"url"`
	HookAttributes struct {
		URL    string `json:"url"`
		Active *bool  `json:"active"`
	} `json:"hook_attributes"`
	RedirectURL        string            `json:"redirect_url"`
	DefaultEvents      []string          `json:"default_events"`
	DefaultPermissions map[string]string `json:"default_permissions"`
}

// Post is one form submission the fake received.
type Post struct {
	Org      string // "" for the user's account
	State    string
	Manifest Manifest
	Raw      string
}

// Web is a fake github.com serving POST /settings/apps/new and
// POST /organizations/{org}/settings/apps/new.
type Web struct {
	URL string

	t    testing.TB
	srv  *httptest.Server
	code func() string

	mu    sync.Mutex
	posts []Post
	// state, when set, replaces the state echoed back (to test a mismatch).
	state *string
}

// NewWeb starts the fake; code hands out the code for each redirect
// (typically the emulator's ManifestCode). It is closed at cleanup.
func NewWeb(t testing.TB, code func() string) *Web {
	t.Helper()
	w := &Web{t: t, code: code}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /settings/apps/new", func(rw http.ResponseWriter, r *http.Request) { w.newApp(rw, r, "") })
	mux.HandleFunc("POST /organizations/{org}/settings/apps/new", func(rw http.ResponseWriter, r *http.Request) {
		w.newApp(rw, r, r.PathValue("org"))
	})
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		t.Errorf("setuptest: unexpected request %s %s", r.Method, r.URL)
		http.NotFound(rw, r)
	})
	w.srv = httptest.NewServer(mux)
	w.URL = w.srv.URL + "/"
	t.Cleanup(w.srv.Close)
	return w
}

// EchoState makes the next redirects carry this state instead of the one
// posted, as a forged or stale callback would.
func (w *Web) EchoState(state string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state = &state
}

// Posts returns the submissions so far.
func (w *Web) Posts() []Post {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Post(nil), w.posts...)
}

func (w *Web) newApp(rw http.ResponseWriter, r *http.Request, org string) {
	if err := r.ParseForm(); err != nil {
		w.t.Errorf("setuptest: form: %v", err)
		http.Error(rw, "bad form", http.StatusBadRequest)
		return
	}
	state := r.URL.Query().Get("state")
	raw := r.PostForm.Get("manifest")
	if state == "" || raw == "" {
		w.t.Errorf("setuptest: POST %s without state or manifest (state %q, %d bytes of manifest)", r.URL.Path, state, len(raw))
		http.Error(rw, "missing state or manifest", http.StatusUnprocessableEntity)
		return
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		w.t.Errorf("setuptest: manifest is not JSON: %v", err)
		http.Error(rw, "bad manifest", http.StatusUnprocessableEntity)
		return
	}
	back, err := url.Parse(m.RedirectURL)
	if err != nil || back.Host == "" || m.Name == "" || m.URL == "" || m.HookAttributes.URL == "" {
		w.t.Errorf("setuptest: incomplete manifest: %s", raw)
		http.Error(rw, "incomplete manifest", http.StatusUnprocessableEntity)
		return
	}
	w.mu.Lock()
	w.posts = append(w.posts, Post{Org: org, State: state, Manifest: m, Raw: raw})
	if w.state != nil {
		state = *w.state
	}
	w.mu.Unlock()
	q := back.Query()
	q.Set("code", w.code())
	q.Set("state", state)
	back.RawQuery = q.Encode()
	http.Redirect(rw, r, back.String(), http.StatusFound)
}
