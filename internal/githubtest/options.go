package githubtest

import (
	"crypto/rsa"
	"fmt"
	"net"
	"time"
)

type config struct {
	appID             int64
	appSlug           string
	appName           string
	appKey            *rsa.PrivateKey
	webhookURL        string
	webhookSecret     string
	addr              string
	latency           time.Duration
	seed              int64
	faults            []Fault
	rateLimit         int
	contentPerMinute  int
	tokenTTL          time.Duration
	treeLimit         int
	maxPatch          int
	clock             func() time.Time
	validateResponses bool
	failOnViolation   bool
	logf              func(format string, args ...any)
}

func defaultConfig() config {
	return config{
		appID:            424242,
		appSlug:          "housekeeper",
		appName:          "Housekeeper",
		webhookSecret:    "githubtest-webhook-secret",
		seed:             1,
		rateLimit:        5000,
		contentPerMinute: 80,
		tokenTTL:         time.Hour,
		treeLimit:        100_000,
		maxPatch:         400 * 1024,
		failOnViolation:  true,
	}
}

// Option configures a Server.
type Option func(*config)

// WithApp sets the App under test's ID and slug (defaults 424242,
// "housekeeper"); its bot user is "<slug>[bot]".
func WithApp(id int64, slug string) Option {
	return func(c *config) { c.appID, c.appSlug = id, slug }
}

// WithAppKey uses a given RSA key for the App instead of the shared one
// the emulator generates once per process.
func WithAppKey(key *rsa.PrivateKey) Option {
	return func(c *config) { c.appKey = key }
}

// WithWebhook sets where Send and redeliveries post, and the secret that
// signs them (default "githubtest-webhook-secret").
func WithWebhook(url, secret string) Option {
	return func(c *config) { c.webhookURL, c.webhookSecret = url, secret }
}

// WithAddr listens on a fixed address (e.g. "127.0.0.1:8081") instead of
// a random port; for the demo command.
func WithAddr(addr string) Option {
	return func(c *config) { c.addr = addr }
}

// WithLatency delays every API answer by d (e.g. 20ms, a fast GitHub).
func WithLatency(d time.Duration) Option {
	return func(c *config) { c.latency = d }
}

// WithSeed seeds the random faults so a run is reproducible (default 1).
func WithSeed(seed int64) Option {
	return func(c *config) { c.seed = seed }
}

// WithFaults installs fault rules from the start (see AddFault).
func WithFaults(f ...Fault) Option {
	return func(c *config) { c.faults = append(c.faults, f...) }
}

// WithServerErrors answers a fraction of requests 502 or 503.
func WithServerErrors(rate float64) Option {
	return WithFaults(Fault{Kind: FaultServerError, Rate: rate})
}

// WithTimeouts holds a fraction of requests until the client gives up.
func WithTimeouts(rate float64) Option {
	return WithFaults(Fault{Kind: FaultTimeout, Rate: rate})
}

// WithSecondaryRateLimit answers a fraction of requests with GitHub's
// secondary rate limit (403, Retry-After).
func WithSecondaryRateLimit(rate float64, retryAfter time.Duration) Option {
	return WithFaults(Fault{Kind: FaultSecondaryRateLimit, Rate: rate, RetryAfter: retryAfter})
}

// WithRateLimit sets the primary limit per installation per hour (default
// 5,000, GitHub's minimum for an installation).
func WithRateLimit(perHour int) Option {
	return func(c *config) { c.rateLimit = perHour }
}

// WithContentCreationLimit sets the ceiling of content-creating requests
// (POST, PATCH, PUT, DELETE) per minute per installation (default 80,
// GitHub's); above it requests get a secondary rate limit answer and are
// recorded in LimitHits. n <= 0 disables it.
func WithContentCreationLimit(n int) Option {
	return func(c *config) { c.contentPerMinute = n }
}

// WithTokenTTL sets installation tokens' lifetime (GitHub: one hour).
func WithTokenTTL(d time.Duration) Option {
	return func(c *config) { c.tokenTTL = d }
}

// WithTreeLimit sets how many entries a recursive tree lists before it
// says truncated (GitHub: 100,000).
func WithTreeLimit(n int) Option {
	return func(c *config) { c.treeLimit = n }
}

// WithMaxPatchSize sets the size above which a file's patch is omitted, as
// GitHub omits large diffs (default 400 KiB).
func WithMaxPatchSize(bytes int) Option {
	return func(c *config) { c.maxPatch = bytes }
}

// WithClock replaces the wall clock for token expiry, rate windows,
// JWT checks and timestamps.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.clock = now }
}

// WithResponseValidation checks every answer of the emulator against the
// response schemas too (the emulator's own tests use it).
func WithResponseValidation() Option {
	return func(c *config) { c.validateResponses = true }
}

// AllowViolations stops New from failing the test on violations; they are
// still recorded.
func AllowViolations() Option {
	return func(c *config) { c.failOnViolation = false }
}

// WithLogf receives a line for each violation and fault (e.g. t.Logf).
func WithLogf(logf func(format string, args ...any)) Option {
	return func(c *config) { c.logf = logf }
}

func (s *Server) listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.http.Listener.Close()
	s.http.Listener = l
	return nil
}
