package server

import (
	"net/url"
	"strings"
	"time"
)

// Config is everything `housekeeper serve` needs. Load fills it from the
// defaults, then the optional YAML file named by HOUSEKEEPER_CONFIG, then the
// environment (which wins); Validate reports every problem at once.
type Config struct {
	// The GitHub App (go-githubapp's environment names).
	AppID             int64  // GITHUB_APP_INTEGRATION_ID / app_id
	PrivateKey        Secret // GITHUB_APP_PRIVATE_KEY / private_key (PEM)
	PrivateKeyPath    string // GITHUB_APP_PRIVATE_KEY_PATH / private_key_path
	WebhookSecret     Secret // GITHUB_APP_WEBHOOK_SECRET / webhook_secret
	WebhookSecretPath string // GITHUB_APP_WEBHOOK_SECRET_PATH / webhook_secret_path
	APIURL            string // GITHUB_V3_API_URL / api_url
	GraphQLURL        string // GITHUB_V4_API_URL / graphql_url (derived from APIURL when unset)
	WebURL            string // GITHUB_WEB_URL / web_url
	AppSlug           string // HOUSEKEEPER_APP_SLUG / app_slug

	// The server and its tuning (HOUSEKEEPER_<KEY> / <key>).
	Addr              string
	MetricsAddr       string // "": /metrics is served on Addr
	Workers           int
	QueueSize         int
	HandlerTimeout    time.Duration
	ShutdownTimeout   time.Duration
	LogLevel          string
	LogFormat         string
	MaxBodyBytes      int64
	APITimeout        time.Duration
	APIRetries        int
	APIMaxWait        time.Duration
	ContentPace       int // content-creating GitHub requests a minute; 0 = unpaced
	ReconcileInterval time.Duration
	DedupWindow       time.Duration
	DedupSize         int

	// Several replicas: the shared state in Redis (unset: in memory).
	RedisURL          Secret // may carry a password
	RedisPassword     Secret
	RedisPasswordPath string
	RedisPrefix       string
	RedisCAFile       string
	ReclaimIdle       time.Duration // a replica's untouched work is taken over after this

	// Fair sharing between installations.
	QueueShare               int // percent of the queue one installation may hold
	CommandLimitUser         int // commands a minute per user and repository
	CommandLimitInstallation int // commands a minute per installation

	// File is the settings file that was read ("" for none).
	File string

	origin   map[string]origin // where each explicitly set key came from
	problems []problem         // found while loading, reported by Validate
	bad      map[string]bool   // keys whose value could not be parsed
}

// Default returns the settings before any file or environment is applied.
func Default() *Config {
	c := &Config{}
	for _, s := range settings {
		if s.def != "" {
			// Defaults are constants checked by TestDefaults.
			_ = s.parse(c, s.def)
		}
	}
	return c
}

// Every `addr` and URL default lives in the settings table (settings.go).
const (
	defaultAPIURL = "https://api.github.com/"
	defaultWebURL = "https://github.com/"
)

// graphQLURL derives the GraphQL endpoint from the REST one: github.com
// serves it at /graphql, GitHub Enterprise Server at /api/graphql beside
// /api/v3.
func graphQLURL(apiURL string) string {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return ""
	}
	p := strings.TrimSuffix(u.Path, "/")
	if base, ok := strings.CutSuffix(p, "/api/v3"); ok {
		p = base + "/api"
	}
	u.Path = p + "/graphql"
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// EffectiveGraphQLURL is GraphQLURL, or the one derived from APIURL.
func (c *Config) EffectiveGraphQLURL() string {
	if c.GraphQLURL != "" {
		return c.GraphQLURL
	}
	return graphQLURL(c.APIURL)
}
