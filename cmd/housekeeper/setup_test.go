package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/setup"
	"github.com/housekeeper-app/housekeeper/internal/setup/setuptest"
)

// setupRun is `housekeeper setup` running through run.
type setupRun struct {
	base           string
	stdout, stderr *lockedBuffer
	exited         chan int
}

var setupOpenLine = regexp.MustCompile(`Open (http://\S+)/ in a browser`)

// startSetup runs the command against an emulated GitHub (API) and a fake
// github.com (the form endpoints), on 127.0.0.1:0, and waits for its URL.
func startSetup(t *testing.T, args ...string) (*setupRun, *githubtest.Server, *setuptest.Web) {
	t.Helper()
	gh := githubtest.New(t)
	web := setuptest.NewWeb(t, gh.ManifestCode)
	t.Setenv("GITHUB_WEB_URL", web.URL)
	t.Setenv("GITHUB_V3_API_URL", gh.URL+"/")
	ctx, cancel := context.WithCancel(context.Background())
	r := &setupRun{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan int, 1)}
	args = append([]string{"setup", "--listen", "127.0.0.1:0", "--manifest", filepath.Join("..", "..", "app.yml")}, args...)
	go func() { r.exited <- run(ctx, args, strings.NewReader(""), r.stdout, r.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.exited:
		case <-time.After(10 * time.Second):
			t.Error("setup did not stop")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := setupOpenLine.FindStringSubmatch(r.stderr.String()); m != nil {
			r.base = m[1]
			return r, gh, web
		}
		select {
		case code := <-r.exited:
			t.Fatalf("setup exited %d before serving:\n%s", code, r.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("setup never printed its URL:\n%s", r.stderr.String())
	return nil, nil, nil
}

func (r *setupRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.exited:
		r.exited <- code // for the cleanup
		return code
	case <-time.After(20 * time.Second):
		t.Fatalf("setup did not end:\n%s", r.stderr.String())
		return -1
	}
}

// checkRegistered checks the files and the output of a completed setup.
func checkRegistered(t *testing.T, r *setupRun, gh *githubtest.Server, out string) {
	t.Helper()
	want := map[string]string{
		"app-id":          strconv.FormatInt(gh.AppID(), 10) + "\n",
		"private-key.pem": string(gh.AppPrivateKeyPEM()),
		"webhook-secret":  gh.WebhookSecret(),
	}
	for name, content := range want {
		p := filepath.Join(out, name)
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, info.Mode().Perm())
		}
		if b, _ := os.ReadFile(p); string(b) != content {
			t.Errorf("%s: wrong content", name)
		}
	}
	stdout := r.stdout.String()
	for _, line := range []string{
		"GITHUB_APP_INTEGRATION_ID=" + strconv.FormatInt(gh.AppID(), 10),
		"GITHUB_APP_PRIVATE_KEY_PATH=" + filepath.Join(out, "private-key.pem"),
		"GITHUB_APP_WEBHOOK_SECRET_PATH=" + filepath.Join(out, "webhook-secret"),
		"/apps/" + gh.AppSlug() + "/installations/new",
	} {
		if !strings.Contains(stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, stdout)
		}
	}
	all := stdout + r.stderr.String()
	if strings.Contains(all, gh.WebhookSecret()) {
		t.Error("setup printed the webhook secret")
	}
	for _, line := range strings.Split(string(gh.AppPrivateKeyPEM()), "\n") {
		if len(line) > 20 && !strings.HasPrefix(line, "-----") && strings.Contains(all, line) {
			t.Fatal("setup printed the private key")
		}
	}
}

var (
	setupFormAction = regexp.MustCompile(`action="([^"]+)"`)
	setupManifest   = regexp.MustCompile(`name="manifest" value="([^"]*)"`)
)

func TestSetupCommand(t *testing.T) {
	out := t.TempDir()
	r, gh, web := startSetup(t, "--url", "https://hk.acme.dev", "--org", "acme", "--name", "housekeeper-acme", "--out", out)

	res, err := http.Get(r.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	a, m := setupFormAction.FindSubmatch(page), setupManifest.FindSubmatch(page)
	if a == nil || m == nil {
		t.Fatalf("start page:\n%s", page)
	}
	res, err = http.PostForm(html.UnescapeString(string(a[1])), url.Values{"manifest": {html.UnescapeString(string(m[1]))}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("callback: %d", res.StatusCode)
	}
	if code := r.wait(t); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	checkRegistered(t, r, gh, out)
	if !strings.Contains(r.stdout.String(), "GITHUB_WEB_URL="+web.URL+"\n") {
		t.Errorf("an Enterprise web URL is not printed:\n%s", r.stdout.String())
	}
	posts := web.Posts()
	if len(posts) != 1 || posts[0].Org != "acme" || posts[0].Manifest.Name != "housekeeper-acme" ||
		posts[0].Manifest.HookAttributes.URL != "https://hk.acme.dev/api/github/hook" {
		t.Errorf("posts: %+v", posts)
	}
}

func TestSetupCommandRefuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("name: x\nurl: https://x\nhook_attributes: {url: https://x/api/github/hook}\ndefault_events: [push]\ndefault_permissions: {metadata: read}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	existing := t.TempDir()
	if err := os.WriteFile(filepath.Join(existing, "webhook-secret"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join("..", "..", "app.yml")
	tests := map[string]struct {
		args []string
		code int
		want string
	}{
		"no url":          {[]string{"setup", "--manifest", app}, exitUsage, "setup needs --url"},
		"relative url":    {[]string{"setup", "--manifest", app, "--url", "hk.acme.dev"}, exitUsage, `public URL: "hk.acme.dev" is not an absolute http(s) URL`},
		"bad manifest":    {[]string{"setup", "--manifest", bad, "--url", "https://hk"}, exitUsage, bad + `: default_events[0]: "push" needs the contents permission`},
		"no manifest":     {[]string{"setup", "--manifest", filepath.Join(dir, "none.yml"), "--url", "https://hk"}, exitUsage, "none.yml: no such file"},
		"existing file":   {[]string{"setup", "--manifest", app, "--url", "https://hk", "--out", existing, "--listen", "127.0.0.1:0"}, exitSetupFailed, "webhook-secret already exists (use --force to overwrite it)"},
		"bad org":         {[]string{"setup", "--manifest", app, "--url", "https://hk", "--org", "../x", "--out", dir, "--listen", "127.0.0.1:0"}, exitSetupFailed, `organisation "../x" is not a GitHub login`},
		"extra arguments": {[]string{"setup", "now"}, exitUsage, "unknown command"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout: %q", stdout)
			}
		})
	}
	// Outside a checkout (the test runs in cmd/housekeeper, which has no
	// app.yml) the message says where the manifest is and how to name it.
	if _, stderr, code := runCLI(t, "setup", "--url", "https://hk"); code != exitUsage ||
		stderr != "housekeeper: no app.yml in this directory: setup registers the App from Housekeeper's manifest, app.yml at the top of a Housekeeper checkout; run it there, or give --manifest PATH/TO/app.yml\n" {
		t.Errorf("outside a checkout: exit %d, stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(existing, "webhook-secret")); string(b) != "old" {
		t.Error("an existing file was overwritten")
	}
}

func TestSetupURLs(t *testing.T) {
	tests := map[string]struct {
		env           map[string]string
		wantWeb, want string
	}{
		"github.com":    {nil, "https://github.com/", "https://api.github.com/"},
		"enterprise":    {map[string]string{"GITHUB_WEB_URL": "https://ghe.acme.dev/"}, "https://ghe.acme.dev/", "https://ghe.acme.dev/api/v3/"},
		"enterprise v3": {map[string]string{"GITHUB_WEB_URL": "https://ghe.acme.dev", "GITHUB_V3_API_URL": "https://api.ghe.acme.dev/"}, "https://ghe.acme.dev", "https://api.ghe.acme.dev/"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			web, api := setupURLs(func(k string) string { return tc.env[k] })
			if web != tc.wantWeb || api != tc.want {
				t.Errorf("got %s %s", web, api)
			}
		})
	}
}

// chromium finds a Chromium or Chrome to drive.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestSetupInBrowser is the whole flow in a real headless browser: the
// setup page, its form posted to (fake) GitHub, GitHub's redirect back with
// a code, the success page, and the files. It skips without Chromium unless
// HOUSEKEEPER_REQUIRE_BROWSER=1 (as in CI).
func TestSetupInBrowser(t *testing.T) {
	browser := chromium()
	if browser == "" {
		if os.Getenv("HOUSEKEEPER_REQUIRE_BROWSER") == "1" {
			t.Fatal("HOUSEKEEPER_REQUIRE_BROWSER=1 but no chromium on PATH")
		}
		t.Skip("no chromium on PATH (apt-get install chromium); HOUSEKEEPER_REQUIRE_BROWSER=1 makes this a failure")
	}
	out := t.TempDir()
	profile := t.TempDir()
	r, gh, web := startSetup(t, "--url", "https://hk.acme.dev", "--out", out)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
	)
	defer cancelAlloc() // stops the browser before the profile is removed
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()

	err := chromedp.Do(bctx,
		chromedp.Navigate(r.base+"/"),
		chromedp.WaitVisible(chromedp.ID("submit")),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	if err != nil {
		t.Fatalf("browser: %v\nsetup stderr:\n%s", err, r.stderr.String())
	}
	heading, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("done")))
	if err != nil {
		t.Fatal(err)
	}
	install, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.ID("install"), "href"))
	if err != nil {
		t.Fatal(err)
	}
	location, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(heading, "registered") || !strings.HasPrefix(location, r.base+"/callback?") {
		t.Errorf("ended on %s with %q", location, heading)
	}
	if code := r.wait(t); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	if !strings.HasSuffix(install.Value, "/apps/"+gh.AppSlug()+"/installations/new") ||
		!strings.Contains(r.stdout.String(), "# Install it on your repositories: "+install.Value+"\n") {
		t.Errorf("install link %q; stdout:\n%s", install.Value, r.stdout.String())
	}
	checkRegistered(t, r, gh, out)
	if p := web.Posts(); len(p) != 1 || p[0].Manifest.RedirectURL != r.base+setup.CallbackPath {
		t.Errorf("posts: %+v", p)
	}
}

// The emulator and the fake github.com are for tests and the demo only:
// nothing of them may reach the housekeeper binary.
func TestEmulatorStaysOutOfTheBinary(t *testing.T) {
	forbidden := []string{module + "/internal/githubtest", module + "/internal/setup/setuptest", "github.com/chromedp/"}
	seen := walkImports(t, ".", module+"/cmd/housekeeper", func(imp string, chain []string) {
		for _, f := range forbidden {
			if strings.HasPrefix(imp, f) {
				t.Errorf("the binary imports %s (via %s)", imp, strings.Join(chain, " → "))
			}
		}
	})
	if !seen[module+"/internal/setup"] {
		t.Error("the walk did not reach internal/setup")
	}
}
