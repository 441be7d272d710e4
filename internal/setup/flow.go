package setup

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v66/github"
)

// Defaults for github.com.
const (
	DefaultWebURL = "https://github.com/"
	DefaultAPIURL = "https://api.github.com/"
)

// CallbackPath is where GitHub sends the browser back with the code.
const CallbackPath = "/callback"

// Options configure one registration.
type Options struct {
	// Manifest is the loaded app.yml.
	Manifest *Manifest
	// Org registers the App for an organisation; "" for the user's account.
	Org string
	// Name overrides the manifest's name.
	Name string
	// PublicURL is the App's public base URL (see RewriteOptions).
	PublicURL string
	// WebURL and APIURL are GitHub's (GitHub Enterprise Server: its own).
	WebURL, APIURL string
	// OutDir receives the credential files; Force overwrites existing ones.
	OutDir string
	Force  bool
	// HTTPClient makes the conversion call (nil: a client with a timeout).
	HTTPClient *http.Client
	// ListenPublic allows Run to bind an address other peers can reach;
	// LocalURL (http://HOST:PORT) is then required: it is the redirect URL
	// GitHub is given, and its Host the only one accepted from peers other
	// than this machine.
	ListenPublic bool
	LocalURL     string
}

// Credentials are what GitHub hands over once, on the conversion.
type Credentials struct {
	AppID         int64
	Slug, Name    string
	HTMLURL       string
	Owner         string
	PrivateKeyPEM []byte
	WebhookSecret []byte
}

// Result is a completed registration. It holds no secret.
type Result struct {
	AppID      int64
	Slug, Name string
	Owner      string
	HTMLURL    string
	// InstallURL is the page that installs the App on repositories.
	InstallURL string
	Files      Files
}

// Flow is the local side of the manifest flow: the start page and the
// callback. It completes at most one registration.
type Flow struct {
	opts         Options
	files        Files
	state        string
	action       string // GitHub's form endpoint, with the state
	manifest     *Manifest
	manifestJSON string
	allowedHosts []string // from a loopback peer
	publicHost   string   // from any other peer, with ListenPublic only
	client       *github.Client

	mu     sync.Mutex // serialises exchanges
	result *Result
	done   chan struct{}
	failed error // credentials could not be written after the App was created
}

// orgLogin is compiled on first use: its bounded repetition makes a large
// program, and every CLI run would pay for it at start.
var orgLogin = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
})

// NewFlow prepares a registration whose pages are served at base (the
// local server's URL, e.g. http://127.0.0.1:3000). It checks the output
// files first, so nothing is registered that could not be saved.
func NewFlow(o Options, base string) (*Flow, error) {
	if o.Manifest == nil {
		return nil, errors.New("no App manifest")
	}
	if o.Org != "" && !orgLogin().MatchString(o.Org) {
		return nil, fmt.Errorf("organisation %q is not a GitHub login", o.Org)
	}
	if o.WebURL == "" {
		o.WebURL = DefaultWebURL
	}
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	if msg := checkURL(o.WebURL); msg != "" {
		return nil, fmt.Errorf("GitHub web URL: %s", msg)
	}
	api, err := url.Parse(strings.TrimRight(o.APIURL, "/") + "/")
	if err != nil || checkURL(o.APIURL) != "" {
		return nil, fmt.Errorf("GitHub API URL: %s", checkURL(o.APIURL))
	}
	if o.OutDir == "" {
		o.OutDir = "."
	}
	files, err := credentialFiles(o.OutDir)
	if err != nil {
		return nil, err
	}
	if err := files.checkWritable(o.Force); err != nil {
		return nil, err
	}
	b, err := url.Parse(base)
	if err != nil || b.Host == "" {
		return nil, fmt.Errorf("local URL %q: not an absolute URL", base)
	}
	m, err := o.Manifest.Rewrite(RewriteOptions{
		Name:        o.Name,
		PublicURL:   o.PublicURL,
		RedirectURL: strings.TrimRight(base, "/") + CallbackPath,
	})
	if err != nil {
		return nil, err
	}
	js, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode the manifest: %w", err)
	}
	state, err := randomState()
	if err != nil {
		return nil, err
	}
	web := strings.TrimRight(o.WebURL, "/")
	action := web + "/settings/apps/new?state=" + state
	if o.Org != "" {
		action = web + "/organizations/" + url.PathEscape(o.Org) + "/settings/apps/new?state=" + state
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	client := github.NewClient(hc)
	client.BaseURL = api
	client.UserAgent = "housekeeper-setup"
	hosts := []string{b.Host}
	if port := b.Port(); port != "" {
		hosts = append(hosts, "localhost:"+port, "127.0.0.1:"+port, "[::1]:"+port)
	}
	public := ""
	if o.ListenPublic {
		if err := checkLocalURL(base); err != nil {
			return nil, err
		}
		public = b.Host
	}
	return &Flow{
		opts: o, files: files, state: state, action: action, manifest: m, manifestJSON: string(js),
		allowedHosts: hosts, publicHost: public, client: client, done: make(chan struct{}),
	}, nil
}

// CheckListen says whether setup may serve its page on addr: an address
// other machines can reach needs ListenPublic and a LocalURL, since anyone
// who reads the page learns the state and could answer GitHub's redirect
// first with their own App's code.
func CheckListen(addr string, o Options) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", addr, err)
	}
	if o.LocalURL != "" && !o.ListenPublic {
		return errors.New("--local-url is for --listen-public only: a loopback page is reached as http://127.0.0.1:PORT")
	}
	if isLoopbackHost(host) {
		return nil
	}
	if !o.ListenPublic {
		return fmt.Errorf("--listen %s is reachable from other machines: the setup page would hand them its state, and the credentials written could be another App's. "+
			"Keep the default 127.0.0.1 (with ssh -L to reach it from elsewhere), or pass --listen-public with --local-url http://HOST:PORT, the address your browser uses", addr)
	}
	if o.LocalURL == "" {
		return errors.New("--listen-public needs --local-url http://HOST:PORT, the address your browser uses to reach the setup page")
	}
	return checkLocalURL(o.LocalURL)
}

// checkLocalURL accepts http(s)://HOST[:PORT] with no path, query or user,
// and a host that is not a loopback one (a loopback Host from another
// machine is exactly what a hijacker sends).
func checkLocalURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--local-url %q: want http://HOST:PORT", raw)
	}
	if isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("--local-url %q: a loopback address needs no --listen-public; bind 127.0.0.1 instead", raw)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackPeer reports whether a request comes from this machine
// (127.0.0.0/8, ::1, or ::ffff:127.0.0.1 on a dual-stack socket).
func loopbackPeer(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func randomState() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random state: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Manifest is the manifest as posted to GitHub.
func (f *Flow) Manifest() *Manifest { return f.manifest }

// Done is closed once a registration completed (or its files could not be
// written); Result then tells which.
func (f *Flow) Done() <-chan struct{} { return f.done }

// Result is the completed registration, or the error that ended it.
func (f *Flow) Result() (*Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.result, f.failed
}

// Handler serves the start page at / and the callback.
func (f *Flow) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", f.start)
	mux.HandleFunc("GET "+CallbackPath, f.callback)
	return f.checkHost(mux)
}

// checkHost refuses requests addressed to another host name (a DNS
// rebinding page could otherwise read the start page and its state). A
// loopback Host is accepted only from a loopback peer: any machine can
// send "Host: 127.0.0.1:PORT". Other peers reach the page only with
// ListenPublic, and only under LocalURL's Host.
func (f *Flow) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := f.publicHost != "" && strings.EqualFold(r.Host, f.publicHost)
		if !ok && loopbackPeer(r.RemoteAddr) {
			for _, h := range f.allowedHosts {
				if strings.EqualFold(r.Host, h) {
					ok = true
					break
				}
			}
		}
		if !ok {
			http.Error(w, "unexpected Host header", http.StatusMisdirectedRequest)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

func (f *Flow) start(w http.ResponseWriter, _ *http.Request) {
	m := f.manifest
	account := "your personal account"
	if f.opts.Org != "" {
		account = "the organisation " + f.opts.Org
	}
	perms := make([]string, 0, len(m.DefaultPermissions))
	for _, k := range sortedKeys(m.DefaultPermissions) {
		perms = append(perms, k+": "+m.DefaultPermissions[k])
	}
	render(w, http.StatusOK, startPage, map[string]any{
		"Name":         m.Name,
		"Account":      account,
		"Web":          strings.TrimRight(f.opts.WebURL, "/"),
		"Action":       template.URL(f.action), // built from checked URLs and a hex state
		"ManifestJSON": f.manifestJSON,
		"HookURL":      m.HookAttributes.URL,
		"Events":       strings.Join(m.DefaultEvents, ", "),
		"Permissions":  strings.Join(perms, ", "),
		"OutDir":       f.files.Dir,
	})
}

func (f *Flow) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state, code := q.Get("state"), q.Get("code")
	if subtle.ConstantTimeCompare([]byte(state), []byte(f.state)) != 1 {
		render(w, http.StatusBadRequest, errorPage, map[string]any{
			"Title":   "Wrong state",
			"Message": "This answer does not belong to this setup run (its state differs), so it was ignored and nothing was written. Start again from the setup page.",
		})
		return
	}
	if code == "" || len(code) > 256 {
		render(w, http.StatusBadRequest, errorPage, map[string]any{
			"Title": "No code", "Message": "GitHub's answer has no code. Start again from the setup page.",
		})
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.result != nil || f.failed != nil {
		render(w, http.StatusGone, errorPage, map[string]any{
			"Title": "Already done", "Message": "This setup run has already registered its App.",
		})
		return
	}
	creds, err := f.exchange(r.Context(), code)
	if err != nil {
		render(w, http.StatusBadGateway, errorPage, map[string]any{
			"Title":   "GitHub refused the code",
			"Message": err.Error() + ". Codes are valid for one hour and only once; start again from the setup page.",
		})
		return
	}
	res := &Result{
		AppID: creds.AppID, Slug: creds.Slug, Name: creds.Name, Owner: creds.Owner, HTMLURL: creds.HTMLURL,
		InstallURL: strings.TrimRight(creds.HTMLURL, "/") + "/installations/new", Files: f.files,
	}
	if err := f.files.write(creds, f.opts.Force); err != nil {
		f.failed = fmt.Errorf("the App %q (id %d, %s) was created, but its credentials could not be saved: %w; "+
			"generate a new private key in the App's settings", creds.Name, creds.AppID, creds.HTMLURL, err)
		render(w, http.StatusInternalServerError, errorPage, map[string]any{"Title": "Could not save the credentials", "Message": f.failed.Error()})
		close(f.done)
		return
	}
	f.result = res
	render(w, http.StatusOK, donePage, res)
	close(f.done)
}

// exchange trades the one-time code for the App's credentials.
func (f *Flow) exchange(ctx context.Context, code string) (*Credentials, error) {
	cfg, _, err := f.client.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		var ge *github.ErrorResponse
		if errors.As(err, &ge) && ge.Response != nil {
			return nil, fmt.Errorf("POST /app-manifests/{code}/conversions: %s", ge.Response.Status)
		}
		return nil, fmt.Errorf("POST /app-manifests/{code}/conversions: %w", err)
	}
	c := &Credentials{
		AppID: cfg.GetID(), Slug: cfg.GetSlug(), Name: cfg.GetName(), HTMLURL: cfg.GetHTMLURL(),
		Owner: cfg.GetOwner().GetLogin(), PrivateKeyPEM: []byte(cfg.GetPEM()), WebhookSecret: []byte(cfg.GetWebhookSecret()),
	}
	var missing []string
	if c.AppID == 0 {
		missing = append(missing, "id")
	}
	if len(c.PrivateKeyPEM) == 0 {
		missing = append(missing, "pem")
	}
	if len(c.WebhookSecret) == 0 {
		missing = append(missing, "webhook_secret")
	}
	if c.HTMLURL == "" {
		missing = append(missing, "html_url")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("GitHub's answer lacks %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// Run listens on addr, prints the page to open, and serves the flow until
// one registration completes (its settings then go to stdout, never a
// secret) or ctx ends. Progress goes to stderr.
func Run(ctx context.Context, o Options, addr string, stdout, stderr io.Writer) (*Result, error) {
	// Fail on the output files before binding anything.
	files, err := credentialFiles(orDefault(o.OutDir, "."))
	if err != nil {
		return nil, err
	}
	if err := files.checkWritable(o.Force); err != nil {
		return nil, err
	}
	if err := CheckListen(addr, o); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	defer ln.Close()
	base := "http://" + localHost(ln.Addr().(*net.TCPAddr))
	if o.ListenPublic {
		base = strings.TrimRight(o.LocalURL, "/")
	}
	f, err := NewFlow(o, base)
	if err != nil {
		return nil, err
	}
	if o.ListenPublic {
		// This machine may still use the bound port directly.
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		f.allowedHosts = append(f.allowedHosts, "localhost:"+port, "127.0.0.1:"+port, "[::1]:"+port)
		host, _, _ := net.SplitHostPort(addr)
		bound := net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
		fmt.Fprintf(stderr, "Warning: --listen-public serves the setup page on %s to every machine that can reach it.\n"+
			"Whoever opens %s/ before you reads its one-time state and can answer GitHub's redirect\n"+
			"with their own App's code: the files written would then hold their App's id, key and webhook secret.\n"+
			"Use it only on a network you trust (an SSH tunnel to the default 127.0.0.1 is safer), and check\n"+
			"that the App printed at the end is the one you created.\n", bound, base)
	}
	srv := &http.Server{Handler: f.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	target := "your personal account"
	if o.Org != "" {
		target = "the organisation " + o.Org
	}
	fmt.Fprintf(stderr, "Open %s/ in a browser to register the GitHub App %q for %s on %s\n(webhook %s).\nWaiting for GitHub; Ctrl-C to stop.\n",
		base, f.manifest.Name, target, strings.TrimRight(orDefault(o.WebURL, DefaultWebURL), "/"), f.manifest.HookAttributes.URL)

	var runErr error
	select {
	case <-f.Done():
	case err := <-served:
		runErr = fmt.Errorf("serve the setup page: %w", err)
	case <-ctx.Done():
		runErr = fmt.Errorf("stopped before GitHub answered: %w", ctx.Err())
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx) // lets the success page finish
	if runErr != nil {
		return nil, runErr
	}
	res, err := f.Result()
	if err != nil {
		return nil, err
	}
	printResult(stdout, res, o)
	return res, nil
}

// printResult prints the settings for `housekeeper serve` as an env file:
// comments, then NAME=value lines. No secret is printed, only file paths.
func printResult(w io.Writer, r *Result, o Options) {
	fmt.Fprintf(w, "# GitHub App %q (id %d) registered for %s: %s\n", r.Name, r.AppID, orDefault(r.Owner, "your account"), r.HTMLURL)
	fmt.Fprintf(w, "# Credentials written (mode 0600): %s, %s, %s\n", r.Files.AppID, r.Files.PrivateKey, r.Files.WebhookSecret)
	fmt.Fprintf(w, "# Install it on your repositories: %s\n", r.InstallURL)
	fmt.Fprintf(w, "# Settings for housekeeper serve:\n")
	fmt.Fprintf(w, "GITHUB_APP_INTEGRATION_ID=%s\n", strconv.FormatInt(r.AppID, 10))
	fmt.Fprintf(w, "GITHUB_APP_PRIVATE_KEY_PATH=%s\n", r.Files.PrivateKey)
	fmt.Fprintf(w, "GITHUB_APP_WEBHOOK_SECRET_PATH=%s\n", r.Files.WebhookSecret)
	if web := orDefault(o.WebURL, DefaultWebURL); strings.TrimRight(web, "/") != strings.TrimRight(DefaultWebURL, "/") {
		fmt.Fprintf(w, "GITHUB_WEB_URL=%s\n", web)
	}
	if api := orDefault(o.APIURL, DefaultAPIURL); strings.TrimRight(api, "/") != strings.TrimRight(DefaultAPIURL, "/") {
		fmt.Fprintf(w, "GITHUB_V3_API_URL=%s\n", api)
	}
}

// localHost is the address to print and to redirect to: a wildcard bind is
// reached through the loopback address.
func localHost(a *net.TCPAddr) string {
	ip := a.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(a.Port))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func render(w http.ResponseWriter, status int, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action http: https:")
	w.WriteHeader(status)
	_ = t.Execute(w, data)
}

const pageHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{block "title" .}}Housekeeper setup{{end}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
dt{font-weight:600}dd{margin:0 0 .6rem 0}button{font-size:1.1rem;padding:.5rem 1.2rem}code{word-break:break-all}</style>
</head><body>`

var (
	startPage = template.Must(template.New("start").Parse(pageHead + `
<h1>Register the GitHub App “{{.Name}}”</h1>
<p>This creates a GitHub App for {{.Account}} on {{.Web}} from <code>app.yml</code>.
GitHub shows the settings below and asks you to confirm; you can change the name there.</p>
<dl>
<dt>Webhook</dt><dd><code>{{.HookURL}}</code></dd>
<dt>Events</dt><dd>{{.Events}}</dd>
<dt>Permissions</dt><dd>{{.Permissions}}</dd>
<dt>Credentials will be written to</dt><dd><code>{{.OutDir}}</code></dd>
</dl>
<form id="register" method="post" action="{{.Action}}">
<input type="hidden" name="manifest" value="{{.ManifestJSON}}">
<button id="submit" type="submit">Create the GitHub App on GitHub</button>
</form>
</body></html>
`))

	donePage = template.Must(template.New("done").Parse(pageHead + `
<h1 id="done">GitHub App “{{.Name}}” registered</h1>
<p>App id {{.AppID}}. Its private key and webhook secret are in <code>{{.Files.PrivateKey}}</code> and
<code>{{.Files.WebhookSecret}}</code> (mode 0600); move them to your secret store and delete the local copies.
The settings for <code>housekeeper serve</code> are printed in the terminal.</p>
<p><a id="install" href="{{.InstallURL}}">Install the App on your repositories</a>. You can close this page.</p>
</body></html>
`))

	errorPage = template.Must(template.New("error").Parse(pageHead + `
<h1 id="error">{{.Title}}</h1>
<p>{{.Message}}</p>
</body></html>
`))
)
