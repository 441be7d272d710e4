package server

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/metrics"
)

// NewClientCreator builds go-githubapp's caching client creator from the
// settings: App ID and key, API URLs, a per-request timeout and the
// "housekeeper/<version>" user agent. When m is set, every request is
// counted by endpoint template and status class and X-RateLimit-Remaining is
// recorded. The counting transport sits under ghinstallation (WithTransport
// rather than WithClientMiddleware) so installation-token requests are
// counted too; transport, when non-nil, replaces http.DefaultTransport
// beneath it (tests).
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
	var gc githubapp.Config
	gc.V3APIURL = cfg.APIURL
	gc.V4APIURL = cfg.EffectiveGraphQLURL()
	gc.WebURL = cfg.WebURL
	gc.App.IntegrationID = cfg.AppID
	gc.App.PrivateKey = string(cfg.PrivateKey.Bytes())
	gc.App.WebhookSecret = string(cfg.WebhookSecret.Bytes())
	cc, err := githubapp.NewDefaultCachingClientCreator(gc,
		githubapp.WithClientUserAgent(userAgent),
		githubapp.WithClientTimeout(cfg.APITimeout),
		githubapp.WithTransport(transport),
	)
	if err != nil {
		return nil, fmt.Errorf("create GitHub client creator: %w", err)
	}
	return cc, nil
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
	// WebhookSecret keys the HMAC of the App's comment markers (§2.4).
	WebhookSecret []byte
	// ContentPace is content-creating requests a minute; 0 = unpaced.
	ContentPace int
}
