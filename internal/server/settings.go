package server

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/coord"
)

// setting is one row of the settings table: its YAML key, its environment
// variable, its default and how to parse, show and check it. Load, Validate,
// Describe and docs/server.md all follow this one table.
type setting struct {
	key, env string
	def      string // default as text; "" for none
	doc      string
	parse    func(c *Config, v string) error
	show     func(c *Config) string
	check    func(c *Config) string // a problem, or ""
}

// secretPairs are the settings given as a value or as a file path, never
// both. The environment overrides the file for a pair as a whole, so an
// operator can switch a file's private_key_path to GITHUB_APP_PRIVATE_KEY.
var secretPairs = [][2]string{
	{"private_key", "private_key_path"},
	{"webhook_secret", "webhook_secret_path"},
	{"redis_password", "redis_password_path"},
}

var settings = []setting{
	{
		key: "app_id", env: "GITHUB_APP_INTEGRATION_ID",
		doc:   "the GitHub App's numeric ID (About section of the App's settings page)",
		parse: intParse(func(c *Config) *int64 { return &c.AppID }),
		show:  func(c *Config) string { return showInt(c.AppID) },
		check: func(c *Config) string {
			if c.AppID <= 0 {
				return "required: the GitHub App's numeric ID"
			}
			return ""
		},
	},
	{
		key: "private_key", env: "GITHUB_APP_PRIVATE_KEY",
		doc:   "the App's private key, PEM (PKCS#1 or PKCS#8 RSA); or use private_key_path",
		parse: func(c *Config, v string) error { c.PrivateKey = NewSecret([]byte(unescapeNewlines(v))); return nil },
		show:  func(c *Config) string { return showSecret(c.PrivateKey) },
		check: func(c *Config) string {
			if !c.PrivateKey.IsSet() {
				return "required (or GITHUB_APP_PRIVATE_KEY_PATH): the App's private key, PEM"
			}
			if _, err := parseRSAKey(c.PrivateKey.b); err != nil {
				return "not a usable private key: " + err.Error()
			}
			return ""
		},
	},
	{
		key: "private_key_path", env: "GITHUB_APP_PRIVATE_KEY_PATH",
		doc:   "a file holding the App's private key (e.g. a mounted Kubernetes Secret)",
		parse: func(c *Config, v string) error { c.PrivateKeyPath = v; return nil },
		show:  func(c *Config) string { return c.PrivateKeyPath },
	},
	{
		key: "webhook_secret", env: "GITHUB_APP_WEBHOOK_SECRET",
		doc:   "the App's webhook secret; required, since without it signatures would go unchecked",
		parse: func(c *Config, v string) error { c.WebhookSecret = NewSecret([]byte(v)); return nil },
		show:  func(c *Config) string { return showSecret(c.WebhookSecret) },
		check: func(c *Config) string {
			if !c.WebhookSecret.IsSet() {
				return "required (or GITHUB_APP_WEBHOOK_SECRET_PATH): without it webhook signatures would go unchecked"
			}
			return ""
		},
	},
	{
		key: "webhook_secret_path", env: "GITHUB_APP_WEBHOOK_SECRET_PATH",
		doc:   "a file holding the webhook secret (one trailing newline is dropped)",
		parse: func(c *Config, v string) error { c.WebhookSecretPath = v; return nil },
		show:  func(c *Config) string { return c.WebhookSecretPath },
	},
	{
		key: "api_url", env: "GITHUB_V3_API_URL", def: defaultAPIURL,
		doc:   "GitHub REST API root (GitHub Enterprise Server: https://HOST/api/v3/)",
		parse: func(c *Config, v string) error { c.APIURL = v; return nil },
		show:  func(c *Config) string { return c.APIURL },
		check: func(c *Config) string { return checkURL(c.APIURL) },
	},
	{
		key: "graphql_url", env: "GITHUB_V4_API_URL",
		doc:   "GitHub GraphQL endpoint; derived from api_url when unset",
		parse: func(c *Config, v string) error { c.GraphQLURL = v; return nil },
		show:  func(c *Config) string { return c.EffectiveGraphQLURL() },
		check: func(c *Config) string {
			if c.GraphQLURL == "" {
				return ""
			}
			return checkURL(c.GraphQLURL)
		},
	},
	{
		key: "web_url", env: "GITHUB_WEB_URL", def: defaultWebURL,
		doc:   "GitHub web root, for links (GitHub Enterprise Server: https://HOST/)",
		parse: func(c *Config, v string) error { c.WebURL = v; return nil },
		show:  func(c *Config) string { return c.WebURL },
		check: func(c *Config) string { return checkURL(c.WebURL) },
	},
	{
		key: "app_slug", env: "HOUSEKEEPER_APP_SLUG",
		doc:   "the App's slug (URL name), used to recognise its own comments; optional (GitHub tells it at GET /app)",
		parse: func(c *Config, v string) error { c.AppSlug = v; return nil },
		show:  func(c *Config) string { return c.AppSlug },
		check: func(c *Config) string {
			for _, r := range c.AppSlug {
				if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
					return fmt.Sprintf("%q is not a slug (lower-case letters, digits and -)", c.AppSlug)
				}
			}
			return ""
		},
	},
	{
		key: "addr", env: "HOUSEKEEPER_ADDR", def: ":8080",
		doc:   "listen address, host:port (port 0 picks a free one)",
		parse: func(c *Config, v string) error { c.Addr = v; return nil },
		show:  func(c *Config) string { return c.Addr },
		check: func(c *Config) string { return checkAddr(c.Addr) },
	},
	{
		key: "metrics_addr", env: "HOUSEKEEPER_METRICS_ADDR",
		doc:   "serve /metrics on this host:port only, apart from the webhook port (e.g. :9090); unset: /metrics is on addr",
		parse: func(c *Config, v string) error { c.MetricsAddr = v; return nil },
		show:  func(c *Config) string { return c.MetricsAddr },
		check: func(c *Config) string {
			switch {
			case c.MetricsAddr == "":
				return ""
			case c.MetricsAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0"):
				return "must differ from addr (HOUSEKEEPER_ADDR); leave it unset to serve /metrics there"
			}
			return checkAddr(c.MetricsAddr)
		},
	},
	tuningInt("workers", "4", "handler goroutines", 1, func(c *Config) *int { return &c.Workers }),
	tuningInt("queue_size", "100", "accepted deliveries waiting for a worker; a full queue answers 503", 0,
		func(c *Config) *int { return &c.QueueSize }),
	tuningDuration("handler_timeout", "5m", "longest one delivery's handling may take", true,
		func(c *Config) *time.Duration { return &c.HandlerTimeout }),
	tuningDuration("shutdown_timeout", "30s", "on SIGTERM, how long accepted work may finish before it is cancelled", false,
		func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
	{
		key: "log_level", env: "HOUSEKEEPER_LOG_LEVEL", def: "info",
		doc:   "debug, info, warn or error",
		parse: func(c *Config, v string) error { c.LogLevel = v; return nil },
		show:  func(c *Config) string { return c.LogLevel },
		check: func(c *Config) string { return checkOneOf(c.LogLevel, "debug", "info", "warn", "error") },
	},
	{
		key: "log_format", env: "HOUSEKEEPER_LOG_FORMAT", def: "json",
		doc:   "json (one object a line) or text (for people)",
		parse: func(c *Config, v string) error { c.LogFormat = v; return nil },
		show:  func(c *Config) string { return c.LogFormat },
		check: func(c *Config) string { return checkOneOf(c.LogFormat, "json", "text") },
	},
	{
		key: "max_body_bytes", env: "HOUSEKEEPER_MAX_BODY_BYTES", def: "25MiB",
		doc:   "largest webhook body accepted (GitHub caps payloads at 25 MiB); larger ones get 413",
		parse: sizeParse(func(c *Config) *int64 { return &c.MaxBodyBytes }),
		show:  func(c *Config) string { return showInt(c.MaxBodyBytes) },
		check: func(c *Config) string {
			if c.MaxBodyBytes < 1 {
				return fmt.Sprintf("must be at least 1, got %d", c.MaxBodyBytes)
			}
			return ""
		},
	},
	tuningDuration("api_timeout", "30s", "timeout of one GitHub API request", true,
		func(c *Config) *time.Duration { return &c.APITimeout }),
	tuningInt("api_retries", "3", "retries of a failed idempotent GitHub request (reads, check-run updates), with backoff and jitter; 0 = none", 0,
		func(c *Config) *int { return &c.APIRetries }),
	tuningDuration("api_max_wait", "1m", "longest wait before retrying one GitHub request (Retry-After, rate-limit reset); a longer one fails the request", true,
		func(c *Config) *time.Duration { return &c.APIMaxWait }),
	tuningInt("content_pace", "60",
		"content-creating GitHub requests a minute (GitHub's secondary limit is 80); 0 = unpaced, for tests", 0,
		func(c *Config) *int { return &c.ContentPace }),
	tuningDuration("reconcile_interval", "5m", "how often the reconciler asks GitHub to redeliver failed deliveries; 0 = off", false,
		func(c *Config) *time.Duration { return &c.ReconcileInterval }),
	tuningDuration("dedup_window", "72h", "how long an accepted delivery GUID is remembered, so a redelivery is not handled twice; 0 = off", false,
		func(c *Config) *time.Duration { return &c.DedupWindow }),
	tuningInt("dedup_size", "10000", "most delivery GUIDs remembered (oldest forgotten first); 0 = off", 0,
		func(c *Config) *int { return &c.DedupSize }),
	{
		key: "redis_url", env: "HOUSEKEEPER_REDIS_URL",
		doc:   "Redis holding the state the replicas share: redis://[:password@]host:port[/db], rediss://… (TLS), redis+sentinel://host:port[,host:port…]/master[/db] or redis+cluster://host:port[,host:port…]; unset = in memory, one replica",
		parse: func(c *Config, v string) error { c.RedisURL = NewSecret([]byte(strings.TrimSpace(v))); return nil },
		show:  func(c *Config) string { return showRedisURL(c.RedisURL) },
		check: func(c *Config) string {
			if !c.RedisURL.IsSet() {
				return ""
			}
			if _, err := coord.ParseRedisURL(string(c.RedisURL.Bytes())); err != nil {
				return "not a usable Redis URL: " + err.Error()
			}
			return ""
		},
	},
	{
		key: "redis_password", env: "HOUSEKEEPER_REDIS_PASSWORD",
		doc:   "Redis password, replacing the URL's; or use redis_password_path",
		parse: func(c *Config, v string) error { c.RedisPassword = NewSecret([]byte(v)); return nil },
		show:  func(c *Config) string { return showSecret(c.RedisPassword) },
	},
	{
		key: "redis_password_path", env: "HOUSEKEEPER_REDIS_PASSWORD_PATH",
		doc:   "a file holding the Redis password (one trailing newline is dropped)",
		parse: func(c *Config, v string) error { c.RedisPasswordPath = v; return nil },
		show:  func(c *Config) string { return c.RedisPasswordPath },
	},
	{
		key: "redis_prefix", env: "HOUSEKEEPER_REDIS_PREFIX", def: coord.DefaultPrefix,
		doc:   "prefix of every Redis key; give each deployment sharing a Redis its own",
		parse: func(c *Config, v string) error { c.RedisPrefix = v; return nil },
		show:  func(c *Config) string { return c.RedisPrefix },
		check: func(c *Config) string {
			if c.RedisPrefix == "" || len(c.RedisPrefix) > 64 || strings.ContainsAny(c.RedisPrefix, "{} \t\r\n") {
				return fmt.Sprintf("want 1 to 64 characters without spaces or braces, got %q", c.RedisPrefix)
			}
			return ""
		},
	},
	{
		key: "redis_ca_file", env: "HOUSEKEEPER_REDIS_CA_FILE",
		doc:   "PEM bundle of the CAs that sign a rediss:// server's certificate (default: the system's)",
		parse: func(c *Config, v string) error { c.RedisCAFile = v; return nil },
		show:  func(c *Config) string { return c.RedisCAFile },
		check: func(c *Config) string {
			if c.RedisCAFile == "" {
				return ""
			}
			if _, err := os.Stat(c.RedisCAFile); err != nil {
				return "cannot read the file: " + err.Error()
			}
			return ""
		},
	},
	tuningDuration("reclaim_idle", "30s", "with Redis: work a replica took and stopped renewing (it died) goes to another replica after this long", true,
		func(c *Config) *time.Duration { return &c.ReclaimIdle }),
	func() setting {
		s := tuningInt("queue_share", "50", "percent of queue_size one installation may hold; beyond it its deliveries get 503 (the reconciler brings them back)", 1,
			func(c *Config) *int { return &c.QueueShare })
		s.check = func(c *Config) string {
			if c.QueueShare < 1 || c.QueueShare > 100 {
				return fmt.Sprintf("must be a percentage from 1 to 100, got %d", c.QueueShare)
			}
			return ""
		}
		return s
	}(),
	tuningInt("command_limit_user", "10", "slash commands a minute per user and repository (usage errors and help included); 0 = unlimited", 0,
		func(c *Config) *int { return &c.CommandLimitUser }),
	tuningInt("command_limit_installation", "60", "slash commands a minute per installation (usage errors and help included); 0 = unlimited", 0,
		func(c *Config) *int { return &c.CommandLimitInstallation }),
}

// showRedisURL prints a Redis URL with its password redacted.
func showRedisURL(s Secret) string {
	if !s.IsSet() {
		return ""
	}
	u, err := url.Parse(string(s.Bytes()))
	if err != nil {
		return redacted
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), redacted)
	}
	u.RawQuery = "" // sentinel_password
	return u.String()
}

func tuningEnv(key string) string { return "HOUSEKEEPER_" + strings.ToUpper(key) }

func tuningInt(key, def, doc string, min int, field func(*Config) *int) setting {
	return setting{
		key: key, env: tuningEnv(key), def: def, doc: doc,
		parse: func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("expected a whole number, got %q", v)
			}
			*field(c) = n
			return nil
		},
		show: func(c *Config) string { return strconv.Itoa(*field(c)) },
		check: func(c *Config) string {
			if n := *field(c); n < min {
				return fmt.Sprintf("must be at least %d, got %d", min, n)
			}
			return ""
		},
	}
}

func tuningDuration(key, def, doc string, positive bool, field func(*Config) *time.Duration) setting {
	return setting{
		key: key, env: tuningEnv(key), def: def, doc: doc,
		parse: func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("expected a duration such as 30s or 5m, got %q", v)
			}
			*field(c) = d
			return nil
		},
		show: func(c *Config) string { return showDuration(*field(c)) },
		check: func(c *Config) string {
			d := *field(c)
			switch {
			case positive && d <= 0:
				return fmt.Sprintf("must be more than 0, got %s", d)
			case d < 0:
				return fmt.Sprintf("must not be negative, got %s", d)
			}
			return ""
		},
	}
}

func intParse(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("expected a whole number, got %q", v)
		}
		*field(c) = n
		return nil
	}
}

func sizeParse(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := parseSize(v)
		if err != nil {
			return err
		}
		*field(c) = n
		return nil
	}
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"B", 1},
}

// parseSize reads a byte count: 26214400, 25MiB, 512KiB, 10MB.
func parseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > (1<<62)/mult {
		return 0, fmt.Errorf("expected a size such as 25MiB or 1048576, got %q", v)
	}
	return n * mult, nil
}

// showDuration prints 5m rather than 5m0s.
func showDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func showInt(n int64) string { return strconv.FormatInt(n, 10) }

func showSecret(s Secret) string {
	if !s.IsSet() {
		return ""
	}
	return s.String()
}

// unescapeNewlines accepts a PEM squeezed onto one line with literal \n, as
// some secret stores and .env files deliver it.
func unescapeNewlines(v string) string {
	if strings.Contains(v, "\n") || !strings.Contains(v, `\n`) {
		return v
	}
	return strings.ReplaceAll(v, `\n`, "\n")
}
