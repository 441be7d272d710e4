package setup_test

import (
	"bytes"
	"context"
	"errors"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/server"
	"github.com/housekeeper-app/housekeeper/internal/setup"
	"github.com/housekeeper-app/housekeeper/internal/setup/setuptest"
)

type fixture struct {
	gh  *githubtest.Server
	web *setuptest.Web
	out string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	gh := githubtest.New(t)
	return fixture{gh: gh, web: setuptest.NewWeb(t, gh.ManifestCode), out: t.TempDir()}
}

func (f fixture) options(t *testing.T) setup.Options {
	t.Helper()
	m, err := setup.LoadManifest(filepath.Join("..", "..", "app.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return setup.Options{
		Manifest:  m,
		PublicURL: "https://hk.acme.dev",
		WebURL:    f.web.URL,
		APIURL:    f.gh.URL + "/",
		OutDir:    f.out,
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type running struct {
	base           string
	stdout, stderr *lockedBuffer
	cancel         context.CancelFunc
	done           chan struct{}
	res            *setup.Result
	err            error
}

var openLine = regexp.MustCompile(`Open (http://\S+)/ in a browser`)

// start runs setup.Run on 127.0.0.1:0 and learns its URL from stderr.
func start(t *testing.T, o setup.Options) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.res, r.err = setup.Run(ctx, o, "127.0.0.1:0", r.stdout, r.stderr)
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if m := openLine.FindStringSubmatch(r.stderr.String()); m != nil {
			r.base = m[1]
			return r
		}
		select {
		case <-r.done:
			t.Fatalf("setup ended before serving: %v\n%s", r.err, r.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("setup never printed its URL:\n%s", r.stderr.String())
	return nil
}

func (r *running) wait(t *testing.T) (*setup.Result, error) {
	t.Helper()
	select {
	case <-r.done:
		return r.res, r.err
	case <-time.After(10 * time.Second):
		t.Fatal("setup did not end")
		return nil, nil
	}
}

var (
	formAction    = regexp.MustCompile(`<form id="register" method="post" action="([^"]+)">`)
	manifestInput = regexp.MustCompile(`<input type="hidden" name="manifest" value="([^"]*)">`)
)

// startPage fetches the local page and returns the form's target and the
// manifest it posts.
func startPage(t *testing.T, base string) (action, manifest string) {
	t.Helper()
	res, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	a, m := formAction.FindSubmatch(body), manifestInput.FindSubmatch(body)
	if res.StatusCode != http.StatusOK || a == nil || m == nil {
		t.Fatalf("start page %d:\n%s", res.StatusCode, body)
	}
	return html.UnescapeString(string(a[1])), html.UnescapeString(string(m[1]))
}

// submit posts the form as a browser would and follows GitHub's redirect
// back to the callback; it returns the callback's answer.
func submit(t *testing.T, action, manifest string) (int, string) {
	t.Helper()
	res, err := http.PostForm(action, url.Values{"manifest": {manifest}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func TestSetupRegisters(t *testing.T) {
	for _, org := range []string{"", "acme"} {
		t.Run("org="+org, func(t *testing.T) {
			f := newFixture(t)
			o := f.options(t)
			o.Org = org
			r := start(t, o)

			action, manifest := startPage(t, r.base)
			wantAction := f.web.URL + "settings/apps/new?state="
			if org != "" {
				wantAction = f.web.URL + "organizations/acme/settings/apps/new?state="
			}
			if !strings.HasPrefix(action, wantAction) || len(action) < len(wantAction)+32 {
				t.Errorf("form action %q, want %s<state>", action, wantAction)
			}
			code, page := submit(t, action, manifest)
			if code != http.StatusOK || !strings.Contains(page, `id="done"`) {
				t.Fatalf("callback %d:\n%s", code, page)
			}
			res, err := r.wait(t)
			if err != nil {
				t.Fatal(err)
			}

			posts := f.web.Posts()
			if len(posts) != 1 {
				t.Fatalf("%d posts", len(posts))
			}
			p := posts[0]
			if p.Org != org || p.Manifest.HookAttributes.URL != "https://hk.acme.dev/api/github/hook" ||
				p.Manifest.URL != "https://hk.acme.dev" || p.Manifest.RedirectURL != r.base+"/callback" {
				t.Errorf("posted manifest: %+v", p)
			}

			// The files: mode 0600, exactly what GitHub handed over.
			want := map[string]string{
				setup.AppIDFile:         strconv.FormatInt(f.gh.AppID(), 10) + "\n",
				setup.PrivateKeyFile:    string(f.gh.AppPrivateKeyPEM()),
				setup.WebhookSecretFile: f.gh.WebhookSecret(),
			}
			for name, content := range want {
				path := filepath.Join(f.out, name)
				info, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if info.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v, want 0600", name, info.Mode().Perm())
				}
				if b, _ := os.ReadFile(path); string(b) != content {
					t.Errorf("%s = %q, want %q", name, b, content)
				}
			}
			if res.AppID != f.gh.AppID() || res.InstallURL != res.HTMLURL+"/installations/new" || res.HTMLURL == "" {
				t.Errorf("result %+v", res)
			}

			// stdout is an env file serve accepts; no secret anywhere.
			out := r.stdout.String()
			for _, line := range []string{
				"GITHUB_APP_INTEGRATION_ID=" + strconv.FormatInt(f.gh.AppID(), 10),
				"GITHUB_APP_PRIVATE_KEY_PATH=" + filepath.Join(f.out, setup.PrivateKeyFile),
				"GITHUB_APP_WEBHOOK_SECRET_PATH=" + filepath.Join(f.out, setup.WebhookSecretFile),
				"# Install it on your repositories: " + res.InstallURL,
			} {
				if !strings.Contains(out, line+"\n") {
					t.Errorf("stdout lacks %q:\n%s", line, out)
				}
			}
			assertNoSecrets(t, f.gh, out+r.stderr.String()+page)
			env := parseEnv(out)
			env["GITHUB_V3_API_URL"] = f.gh.URL + "/"
			cfg, err := server.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err != nil {
				t.Fatalf("serve refuses the printed settings: %v", err)
			}
			if cfg.AppID != f.gh.AppID() || string(cfg.WebhookSecret.Bytes()) != f.gh.WebhookSecret() {
				t.Errorf("serve read app %d", cfg.AppID)
			}
		})
	}
}

// assertNoSecrets fails when text shows the webhook secret or any line of
// the private key's body.
func assertNoSecrets(t *testing.T, gh *githubtest.Server, text string) {
	t.Helper()
	if strings.Contains(text, gh.WebhookSecret()) {
		t.Error("the webhook secret was shown")
	}
	for _, line := range strings.Split(string(gh.AppPrivateKeyPEM()), "\n") {
		if len(line) > 20 && !strings.HasPrefix(line, "-----") && strings.Contains(text, line) {
			t.Error("the private key was shown")
			break
		}
	}
}

func parseEnv(out string) map[string]string {
	env := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			env[k] = v
		}
	}
	return env
}

func TestSetupWrongStateWritesNothing(t *testing.T) {
	f := newFixture(t)
	r := start(t, f.options(t))
	action, manifest := startPage(t, r.base)

	f.web.EchoState("forged")
	code, page := submit(t, action, manifest)
	if code != http.StatusBadRequest || !strings.Contains(page, "Wrong state") {
		t.Errorf("forged state: %d\n%s", code, page)
	}
	if code, _ := get(t, r.base+"/callback?code="+f.gh.ManifestCode()); code != http.StatusBadRequest {
		t.Errorf("no state: %d", code)
	}
	assertEmpty(t, f.out)

	// Still waiting: a right answer completes it.
	f.web.EchoState(stateOf(t, action))
	if code, page := submit(t, action, manifest); code != http.StatusOK {
		t.Fatalf("then %d:\n%s", code, page)
	}
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
}

func stateOf(t *testing.T, action string) string {
	t.Helper()
	u, err := url.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("state")
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) > 0 {
		t.Errorf("%s has %d entries; want none", dir, len(entries))
	}
}

func TestSetupBadCodeCanBeRetried(t *testing.T) {
	f := newFixture(t)
	r := start(t, f.options(t))
	action, manifest := startPage(t, r.base)
	code, page := get(t, r.base+"/callback?code=not-a-code&state="+stateOf(t, action))
	if code != http.StatusBadGateway || !strings.Contains(page, "404") {
		t.Errorf("unknown code: %d\n%s", code, page)
	}
	assertEmpty(t, f.out)
	if code, page := submit(t, action, manifest); code != http.StatusOK {
		t.Fatalf("retry %d:\n%s", code, page)
	}
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
}

// The flow's handler alone: one registration at most.
func TestFlowCompletesOnce(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewUnstartedServer(nil)
	flow, err := setup.NewFlow(f.options(t), "http://"+srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = flow.Handler()
	srv.Start()
	defer srv.Close()

	action, manifest := startPage(t, srv.URL)
	if code, page := submit(t, action, manifest); code != http.StatusOK {
		t.Fatalf("%d:\n%s", code, page)
	}
	select {
	case <-flow.Done():
	default:
		t.Fatal("not done after the callback")
	}
	if res, err := flow.Result(); err != nil || res.AppID != f.gh.AppID() {
		t.Errorf("result %+v, %v", res, err)
	}
	if code, _ := get(t, srv.URL+"/callback?code="+f.gh.ManifestCode()+"&state="+stateOf(t, action)); code != http.StatusGone {
		t.Errorf("a second callback: %d, want 410", code)
	}
	if code, _ := get(t, srv.URL+"/nothing"); code != http.StatusNotFound {
		t.Errorf("unknown path: %d", code)
	}
}

func TestSetupRefusesToOverwrite(t *testing.T) {
	f := newFixture(t)
	old := filepath.Join(f.out, setup.PrivateKeyFile)
	if err := os.WriteFile(old, []byte("old key"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := f.options(t)
	var stdout, stderr bytes.Buffer
	_, err := setup.Run(context.Background(), o, "127.0.0.1:0", &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), old+" already exists (use --force to overwrite it)") {
		t.Fatalf("err = %v", err)
	}
	if stderr.Len() > 0 || stdout.Len() > 0 {
		t.Errorf("it started anyway: %s%s", stdout.String(), stderr.String())
	}
	if b, _ := os.ReadFile(old); string(b) != "old key" {
		t.Error("the existing file changed")
	}

	o.Force = true
	r := start(t, o)
	action, manifest := startPage(t, r.base)
	if code, page := submit(t, action, manifest); code != http.StatusOK {
		t.Fatalf("%d:\n%s", code, page)
	}
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(old)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(old); string(b) != string(f.gh.AppPrivateKeyPEM()) || info.Mode().Perm() != 0o600 {
		t.Errorf("--force: mode %v, key replaced %v", info.Mode().Perm(), string(b) != "old key")
	}
	entries, _ := os.ReadDir(f.out)
	if len(entries) != 3 {
		t.Errorf("%d files in the output directory, want 3 (no temporary leftovers)", len(entries))
	}
}

func TestSetupRefusesOtherHosts(t *testing.T) {
	f := newFixture(t)
	r := start(t, f.options(t))
	req, _ := http.NewRequest(http.MethodGet, r.base+"/", nil)
	req.Host = "attacker.example"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("foreign Host: %d", res.StatusCode)
	}
}

func TestSetupStopsOnCancel(t *testing.T) {
	f := newFixture(t)
	r := start(t, f.options(t))
	r.cancel()
	if _, err := r.wait(t); err == nil || !strings.Contains(err.Error(), "stopped before GitHub answered") {
		t.Errorf("err = %v", err)
	}
	assertEmpty(t, f.out)
}

func TestSetupOutputDirMissing(t *testing.T) {
	f := newFixture(t)
	o := f.options(t)
	o.OutDir = filepath.Join(f.out, "nope")
	_, err := setup.Run(context.Background(), o, "127.0.0.1:0", io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "output directory") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
}
