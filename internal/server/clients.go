package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v66/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/coord"
	"github.com/housekeeper-app/housekeeper/internal/metrics"
	"github.com/housekeeper-app/housekeeper/internal/retry"
)

// NewClientCreator builds the GitHub client creator from the settings: App
// ID and key, API URLs and the "housekeeper/<version>" user agent.
//
// Every request goes through, outermost first: the installation token (or
// App JWT) → retries (api_retries, api_max_wait, each attempt bounded by
// api_timeout) → metrics (each attempt counted by endpoint template and
// status class, X-RateLimit-Remaining recorded) → the user agent →
// transport. Retries sit under the token so token requests are retried
// too; an installation client whose token GitHub refuses (401, a token
// revoked or expired early) gets a fresh token and tries once more.
// transport, when non-nil, replaces http.DefaultTransport (tests).
func NewClientCreator(cfg *Config, m *metrics.Metrics, version string, transport http.RoundTripper) (githubapp.ClientCreator, error) {
	if version == "" {
		version = "dev"
	}
	userAgent := "housekeeper/" + version
	if transport == nil {
		transport = http.DefaultTransport
	}
	transport = defaultUserAgent(userAgent, transport)
	if m != nil {
		u, err := url.Parse(cfg.APIURL)
		if err != nil {
			return nil, fmt.Errorf("parse api_url: %w", err)
		}
		transport = m.APIMiddleware(u.Path)(transport)
	}
	onRetry := logRetry
	if m != nil {
		onRetry = func(r *http.Request, attempt int, reason string, wait time.Duration) {
			m.Retry(reason, wait)
			logRetry(r, attempt, reason, wait)
		}
	}
	transport = retry.New(transport, retry.Options{
		Attempts: cfg.APIRetries + 1,
		MaxWait:  cfg.APIMaxWait,
		Timeout:  cfg.APITimeout,
		OnRetry:  onRetry,
	})
	// Each attempt has api_timeout; the whole request, waits included, is
	// bounded too.
	overall := time.Duration(cfg.APIRetries+1)*cfg.APITimeout + time.Duration(cfg.APIRetries)*cfg.APIMaxWait
	var gc githubapp.Config
	gc.V3APIURL = cfg.APIURL
	gc.V4APIURL = cfg.EffectiveGraphQLURL()
	gc.WebURL = cfg.WebURL
	gc.App.IntegrationID = cfg.AppID
	gc.App.PrivateKey = string(cfg.PrivateKey.Bytes())
	gc.App.WebhookSecret = string(cfg.WebhookSecret.Bytes())
	cc, err := githubapp.NewDefaultCachingClientCreator(gc,
		githubapp.WithClientUserAgent(userAgent),
		githubapp.WithClientTimeout(overall),
		githubapp.WithTransport(transport),
	)
	if err != nil {
		return nil, fmt.Errorf("create GitHub client creator: %w", err)
	}
	base, err := url.Parse(cfg.APIURL)
	if err != nil {
		return nil, fmt.Errorf("parse api_url: %w", err)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	// Fail now, not on the first delivery, when the key is unusable.
	if _, err := ghinstallation.New(transport, cfg.AppID, 1, cfg.PrivateKey.Bytes()); err != nil {
		return nil, fmt.Errorf("create GitHub client creator: %w", err)
	}
	return &clientCreator{
		ClientCreator: cc,
		appID:         cfg.AppID,
		key:           cfg.PrivateKey.Bytes(),
		baseURL:       base,
		userAgent:     userAgent,
		timeout:       overall,
		transport:     transport,
		clients:       map[int64]*github.Client{},
	}, nil
}

// maxInstallationClients bounds the cache of installation clients (each
// holds a token); past it the cache starts over.
const maxInstallationClients = 256

// clientCreator is go-githubapp's creator with our own installation
// clients: cached per installation, and re-authenticated when GitHub
// refuses their token.
type clientCreator struct {
	githubapp.ClientCreator
	appID     int64
	key       []byte
	baseURL   *url.URL
	userAgent string
	timeout   time.Duration
	transport http.RoundTripper

	mu      sync.Mutex
	clients map[int64]*github.Client
}

// NewInstallationClient implements githubapp.ClientCreator.
func (c *clientCreator) NewInstallationClient(installationID int64) (*github.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gc := c.clients[installationID]; gc != nil {
		return gc, nil
	}
	auth, err := newReauth(func() (*ghinstallation.Transport, error) {
		t, err := ghinstallation.New(c.transport, c.appID, installationID, c.key)
		if err != nil {
			return nil, err
		}
		// The token is refreshed at the API root, never at the web URL.
		t.BaseURL = strings.TrimSuffix(c.baseURL.String(), "/")
		return t, nil
	})
	if err != nil {
		return nil, fmt.Errorf("installation %d client: %w", installationID, err)
	}
	gc := github.NewClient(&http.Client{Transport: auth, Timeout: c.timeout})
	u := *c.baseURL
	gc.BaseURL = &u
	gc.UserAgent = fmt.Sprintf("%s (installation: %d)", c.userAgent, installationID)
	if len(c.clients) >= maxInstallationClients {
		clear(c.clients)
	}
	c.clients[installationID] = gc
	return gc, nil
}

// reauth authenticates as an installation and, when GitHub answers 401 to
// a token it issued (revoked, or expired before ghinstallation's own clock
// says so), starts over with a new token and tries the request once more.
type reauth struct {
	mk  func() (*ghinstallation.Transport, error)
	mu  sync.Mutex
	cur *ghinstallation.Transport
}

func newReauth(mk func() (*ghinstallation.Transport, error)) (*reauth, error) {
	t, err := mk()
	if err != nil {
		return nil, err
	}
	return &reauth{mk: mk, cur: t}, nil
}

func (a *reauth) current() *ghinstallation.Transport {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur
}

// RoundTrip implements http.RoundTripper.
func (a *reauth) RoundTrip(req *http.Request) (*http.Response, error) {
	rewindable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	var again *http.Request
	if rewindable {
		again = req.Clone(req.Context())
	}
	t := a.current()
	resp, err := t.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || again == nil {
		return resp, err
	}
	// Only one goroutine replaces a given token; the others use its
	// replacement.
	a.mu.Lock()
	if a.cur == t {
		fresh, mkErr := a.mk()
		if mkErr != nil {
			a.mu.Unlock()
			return resp, nil
		}
		a.cur = fresh
	}
	t = a.cur
	a.mu.Unlock()
	if req.Body != nil && req.Body != http.NoBody {
		body, gerr := req.GetBody()
		if gerr != nil {
			return resp, nil
		}
		again.Body = body
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	zerolog.Ctx(req.Context()).Info().Str("method", req.Method).Str("endpoint", metrics.EndpointTemplate(req.Method, req.URL.Path)).
		Msg("GitHub refused the installation token; retrying with a new one")
	return t.RoundTrip(again)
}

// logRetry notes each retry in the request's logger (the handler's, with
// the delivery id), with the endpoint template rather than the path.
func logRetry(r *http.Request, attempt int, reason string, wait time.Duration) {
	zerolog.Ctx(r.Context()).Info().Str("method", r.Method).Str("endpoint", metrics.EndpointTemplate(r.Method, r.URL.Path)).
		Int("attempt", attempt).Str("reason", reason).Dur("wait_ms", wait).Msg("retrying a GitHub request")
}

// defaultUserAgent names us on requests that carry no User-Agent:
// ghinstallation's installation-token requests would otherwise go out as
// Go-http-client.
func defaultUserAgent(ua string, next http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("User-Agent") == "" {
			r = r.Clone(r.Context())
			r.Header.Set("User-Agent", ua)
		}
		return next.RoundTrip(r)
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Deps is what the App's handlers need from the server's setup.
type Deps struct {
	Config        *Config
	Logger        zerolog.Logger
	Metrics       *metrics.Metrics
	ClientCreator githubapp.ClientCreator
	// WebhookSecret keys the HMAC of the App's comment markers (docs/commands.md).
	WebhookSecret []byte
	// ContentPace is content-creating requests a minute; 0 = unpaced.
	ContentPace int
	// Later runs deferred work (Background.Later); nil = none.
	Later func(d time.Duration, f func(context.Context)) bool
	// Shared is the state the replicas share (NewBackend); nil = this
	// process's, in memory.
	Shared *coord.Backend
}
