package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestDefaults(t *testing.T) {
	for _, s := range settings {
		if s.def == "" {
			continue
		}
		if err := s.parse(&Config{}, s.def); err != nil {
			t.Errorf("default of %s does not parse: %v", s.key, err)
		}
		if s.check != nil {
			if p := s.check(Default()); p != "" && s.key != "private_key" && s.key != "webhook_secret" && s.key != "app_id" {
				t.Errorf("default of %s is invalid: %s", s.key, p)
			}
		}
	}
	c := Default()
	want := map[string]any{
		"Addr": ":8080", "Workers": 4, "QueueSize": 100, "HandlerTimeout": 5 * time.Minute,
		"ShutdownTimeout": 30 * time.Second, "LogLevel": "info", "LogFormat": "json",
		"MaxBodyBytes": int64(25 << 20), "APITimeout": 30 * time.Second, "ContentPace": 60,
		"APIRetries": 3, "APIMaxWait": time.Minute,
		"ReconcileInterval": 5 * time.Minute, "DedupWindow": 72 * time.Hour, "DedupSize": 10000,
		"APIURL": "https://api.github.com/", "WebURL": "https://github.com/",
	}
	v := reflect.ValueOf(c).Elem()
	for field, w := range want {
		if got := v.FieldByName(field).Interface(); got != w {
			t.Errorf("default %s = %v, want %v", field, got, w)
		}
	}
	if got := c.EffectiveGraphQLURL(); got != "https://api.github.com/graphql" {
		t.Errorf("graphql url = %q", got)
	}
}

func TestGraphQLURL(t *testing.T) {
	tests := map[string]string{
		"https://api.github.com/":          "https://api.github.com/graphql",
		"https://ghe.example.com/api/v3/":  "https://ghe.example.com/api/graphql",
		"https://ghe.example.com/api/v3":   "https://ghe.example.com/api/graphql",
		"http://127.0.0.1:9999/":           "http://127.0.0.1:9999/graphql",
		"http://127.0.0.1:9999/prefix/api": "http://127.0.0.1:9999/prefix/api/graphql",
	}
	for in, want := range tests {
		if got := graphQLURL(in); got != want {
			t.Errorf("graphQLURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoadEnv(t *testing.T) {
	e := validEnv(t)
	e["GITHUB_V3_API_URL"] = "https://ghe.example.com/api/v3/"
	e["HOUSEKEEPER_WORKERS"] = "2"
	e["HOUSEKEEPER_HANDLER_TIMEOUT"] = "90s"
	e["HOUSEKEEPER_MAX_BODY_BYTES"] = "1KiB"
	e["HOUSEKEEPER_CONTENT_PACE"] = "0"
	e["HOUSEKEEPER_QUEUE_SIZE"] = "" // empty counts as unset
	c, err := Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	if c.AppID != 12345 || c.Workers != 2 || c.HandlerTimeout != 90*time.Second || c.MaxBodyBytes != 1024 ||
		c.ContentPace != 0 || c.QueueSize != 100 || string(c.WebhookSecret.Bytes()) != testSecret {
		t.Errorf("unexpected config: %+v", c)
	}
	if got := c.EffectiveGraphQLURL(); got != "https://ghe.example.com/api/graphql" {
		t.Errorf("graphql url = %q", got)
	}
}

func TestLoadEscapedPEM(t *testing.T) {
	e := validEnv(t)
	e["GITHUB_APP_PRIVATE_KEY"] = strings.ReplaceAll(e["GITHUB_APP_PRIVATE_KEY"], "\n", `\n`)
	if _, err := Load(env(e)); err != nil {
		t.Fatal(err)
	}
}

func TestLoadFileAndPaths(t *testing.T) {
	dir := t.TempDir()
	_, pk8 := testKeys(t)
	writeFile(t, dir, "key.pem", string(pk8))
	secretPath := writeFile(t, dir, "hook-secret", testSecret+"\n")
	file := writeFile(t, dir, "housekeeper.yml", fmt.Sprintf(`# server settings
app_id: 777
private_key_path: key.pem          # relative to this file
webhook_secret_path: %s
workers: 8
queue_size: 10
handler_timeout: 1m
max_body_bytes: 26214400
log_format: text
`, secretPath))
	c, err := Load(env(map[string]string{
		ConfigEnv:             file,
		"HOUSEKEEPER_WORKERS": "3", // the environment wins
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.AppID != 777 || c.Workers != 3 || c.QueueSize != 10 || c.HandlerTimeout != time.Minute ||
		c.MaxBodyBytes != 25<<20 || c.LogFormat != "text" || c.File != file {
		t.Errorf("unexpected config: %+v", c)
	}
	if got := string(c.WebhookSecret.Bytes()); got != testSecret {
		t.Errorf("webhook secret from file = %q, want the trailing newline dropped", got)
	}
	if !bytes.Equal(c.PrivateKey.Bytes(), pk8) {
		t.Error("private key not read from the relative path")
	}

	var out bytes.Buffer
	if err := c.Describe(&out); err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(out.String(), "\n") {
		lines[strings.Join(strings.Fields(l), " ")] = true
	}
	for _, want := range []string{
		"SETTING VALUE FROM",
		"app_id 777 " + file + ":2",
		"private_key REDACTED " + file + ":3",
		"workers 3 HOUSEKEEPER_WORKERS",
		"queue_size 10 " + file + ":6",
		"handler_timeout 1m " + file + ":7",
		"dedup_window 72h default",
		"addr :8080 default",
		"graphql_url https://api.github.com/graphql api_url",
		"app_slug - -",
	} {
		if !lines[want] {
			t.Errorf("Describe lacks %q:\n%s", want, out.String())
		}
	}

	// The environment replaces a secret given in the file as a whole, so a
	// path in the file and a value in the environment do not conflict.
	e := validEnv(t)
	e[ConfigEnv] = file
	if c, err := Load(env(e)); err != nil {
		t.Errorf("env secret over file path: %v", err)
	} else if string(c.WebhookSecret.Bytes()) != testSecret || c.AppID != 12345 {
		t.Errorf("env did not win: %+v", c)
	}
}

func TestLoadProblems(t *testing.T) {
	dir := t.TempDir()
	pk, _ := testKeys(t)
	goodKey := writeFile(t, dir, "good.pem", string(pk))
	ecKey := writeFile(t, dir, "ec.pem", string(ecKeyPEM(t)))
	sec1Key := writeFile(t, dir, "sec1.pem", string(sec1KeyPEM(t)))
	emptyFile := writeFile(t, dir, "empty", "\n")
	missing := filepath.Join(dir, "missing")
	tests := map[string]struct {
		env  map[string]string
		file string // settings file content, when set
		want []string
	}{
		"nothing set": {
			env: map[string]string{},
			want: []string{
				"GITHUB_APP_INTEGRATION_ID: required: the GitHub App's numeric ID",
				"GITHUB_APP_PRIVATE_KEY: required (or GITHUB_APP_PRIVATE_KEY_PATH): the App's private key, PEM",
				"GITHUB_APP_WEBHOOK_SECRET: required (or GITHUB_APP_WEBHOOK_SECRET_PATH): without it webhook signatures would go unchecked",
			},
		},
		"everything wrong at once": {
			env: map[string]string{
				"GITHUB_APP_INTEGRATION_ID":      "twelve",
				"GITHUB_APP_PRIVATE_KEY":         "not a key",
				"GITHUB_APP_PRIVATE_KEY_PATH":    goodKey,
				"GITHUB_APP_WEBHOOK_SECRET_PATH": missing,
				"GITHUB_V3_API_URL":              "ftp://api.example.com/",
				"GITHUB_WEB_URL":                 "https://user:pw@github.com/",
				"HOUSEKEEPER_APP_SLUG":           "My App",
				"HOUSEKEEPER_ADDR":               "8080",
				"HOUSEKEEPER_WORKERS":            "0",
				"HOUSEKEEPER_QUEUE_SIZE":         "-1",
				"HOUSEKEEPER_HANDLER_TIMEOUT":    "soon",
				"HOUSEKEEPER_SHUTDOWN_TIMEOUT":   "-1s",
				"HOUSEKEEPER_LOG_LEVEL":          "loud",
				"HOUSEKEEPER_LOG_FORMAT":         "xml",
				"HOUSEKEEPER_MAX_BODY_BYTES":     "big",
				"HOUSEKEEPER_API_TIMEOUT":        "0s",
				"HOUSEKEEPER_CONTENT_PACE":       "-60",
				"HOUSEKEEPER_DEDUP_SIZE":         "-2",
			},
			want: []string{
				`GITHUB_APP_INTEGRATION_ID: expected a whole number, got "twelve"`,
				"GITHUB_APP_PRIVATE_KEY: cannot be combined with GITHUB_APP_PRIVATE_KEY_PATH; give the value or a file, not both",
				"GITHUB_APP_WEBHOOK_SECRET_PATH: cannot read the file: open " + missing + ": no such file or directory",
				`GITHUB_V3_API_URL: "ftp://api.example.com/" is not an http(s) URL`,
				`GITHUB_WEB_URL: "https://user:pw@github.com/" must not carry a query, fragment or credentials`,
				`HOUSEKEEPER_APP_SLUG: "My App" is not a slug (lower-case letters, digits and -)`,
				`HOUSEKEEPER_ADDR: "8080" is not host:port (e.g. :8080)`,
				"HOUSEKEEPER_WORKERS: must be at least 1, got 0",
				"HOUSEKEEPER_QUEUE_SIZE: must be at least 0, got -1",
				`HOUSEKEEPER_HANDLER_TIMEOUT: expected a duration such as 30s or 5m, got "soon"`,
				"HOUSEKEEPER_SHUTDOWN_TIMEOUT: must not be negative, got -1s",
				`HOUSEKEEPER_LOG_LEVEL: must be one of debug, info, warn, error; got "loud"`,
				`HOUSEKEEPER_LOG_FORMAT: must be one of json, text; got "xml"`,
				`HOUSEKEEPER_MAX_BODY_BYTES: expected a size such as 25MiB or 1048576, got "big"`,
				"HOUSEKEEPER_API_TIMEOUT: must be more than 0, got 0s",
				"HOUSEKEEPER_CONTENT_PACE: must be at least 0, got -60",
				"HOUSEKEEPER_DEDUP_SIZE: must be at least 0, got -2",
			},
		},
		"unusable keys": {
			env: map[string]string{
				"GITHUB_APP_INTEGRATION_ID":   "1",
				"GITHUB_APP_PRIVATE_KEY_PATH": ecKey,
				"GITHUB_APP_WEBHOOK_SECRET":   "x",
			},
			want: []string{"GITHUB_APP_PRIVATE_KEY_PATH: not a usable private key: this is an EC (elliptic-curve) key, not an RSA key; " + keyHint},
		},
		"EC key as openssl ecparam writes it": {
			env: map[string]string{
				"GITHUB_APP_INTEGRATION_ID":   "1",
				"GITHUB_APP_PRIVATE_KEY_PATH": sec1Key,
				"GITHUB_APP_WEBHOOK_SECRET":   "x",
			},
			want: []string{"GITHUB_APP_PRIVATE_KEY_PATH: not a usable private key: this is an EC (elliptic-curve) key, not an RSA key; GitHub App keys are RSA: use the .pem file GitHub downloads from the App's settings (Private keys → Generate a private key), which is PKCS#1 (-----BEGIN RSA PRIVATE KEY-----)"},
		},
		"a public key": {
			env: map[string]string{
				"GITHUB_APP_INTEGRATION_ID": "1",
				"GITHUB_APP_PRIVATE_KEY":    "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
				"GITHUB_APP_WEBHOOK_SECRET": "x",
			},
			want: []string{"GITHUB_APP_PRIVATE_KEY: not a usable private key: the PEM block is a public key, not the private key; " + keyHint},
		},
		"empty secret files": {
			env: map[string]string{
				"GITHUB_APP_INTEGRATION_ID":      "1",
				"GITHUB_APP_PRIVATE_KEY_PATH":    emptyFile,
				"GITHUB_APP_WEBHOOK_SECRET_PATH": emptyFile,
			},
			want: []string{
				"GITHUB_APP_PRIVATE_KEY_PATH: the file " + emptyFile + " is empty; it must hold the App's private key: the .pem file GitHub downloads from the App's settings (Private keys → Generate a private key), an RSA key in PKCS#1 PEM",
				"GITHUB_APP_WEBHOOK_SECRET_PATH: the file " + emptyFile + " is empty; it must hold the webhook secret, the same value as in the App's settings (Webhook secret); any random string works for a local try, e.g. openssl rand -hex 32",
			},
		},
		"garbage key": {
			env: map[string]string{
				"GITHUB_APP_INTEGRATION_ID": "1",
				"GITHUB_APP_PRIVATE_KEY":    "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
				"GITHUB_APP_WEBHOOK_SECRET": "x",
			},
			want: []string{"GITHUB_APP_PRIVATE_KEY: not a usable private key: the RSA PRIVATE KEY block does not parse as PKCS#1 (damaged or cut short?)"},
		},
		"file problems name file, line and key": {
			env: map[string]string{"GITHUB_APP_WEBHOOK_SECRET": "x"},
			file: `app_id: 1
private_key_path: good.pem
workers: many
wokers: 2
queue_size: 5
queue_size: 6
log_level: [info]
api_timeout:
webhook_secret: "in the file"
`,
			want: []string{
				"FILE:4: wokers: unknown key (valid keys: " + strings.Join(settingKeys(), ", ") + ")",
				`FILE:3: workers: expected a whole number, got "many"`,
				"FILE:6: queue_size: set twice (first on line 5)",
				"FILE:7: log_level: expected a single value, got a list",
				"FILE:8: api_timeout: has no value (remove the key to use the default)",
			},
		},
		"invalid YAML": {
			env:  map[string]string{},
			file: "app_id: 1\n\tworkers: 2\n",
			want: []string{
				"FILE:2: invalid YAML: found a tab character that violates indentation",
				"GITHUB_APP_INTEGRATION_ID: required: the GitHub App's numeric ID",
				"GITHUB_APP_PRIVATE_KEY: required (or GITHUB_APP_PRIVATE_KEY_PATH): the App's private key, PEM",
				"GITHUB_APP_WEBHOOK_SECRET: required (or GITHUB_APP_WEBHOOK_SECRET_PATH): without it webhook signatures would go unchecked",
			},
		},
		"not a mapping": {
			env:  validEnv(t),
			file: "- workers: 2\n",
			want: []string{"FILE:1: expected a mapping of settings (key: value)"},
		},
		"unreadable settings file": {
			env:  map[string]string{ConfigEnv: missing, "GITHUB_APP_INTEGRATION_ID": "1", "GITHUB_APP_PRIVATE_KEY_PATH": goodKey, "GITHUB_APP_WEBHOOK_SECRET": "x"},
			want: []string{"HOUSEKEEPER_CONFIG: cannot read the settings file: open " + missing + ": no such file or directory"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			file := ""
			if tc.file != "" {
				file = writeFile(t, dir, strings.ReplaceAll(name, " ", "-")+".yml", tc.file)
				tc.env[ConfigEnv] = file
			}
			_, err := Load(env(tc.env))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Load error = %v, want a *ConfigError", err)
			}
			want := make([]string, len(tc.want))
			for i, w := range tc.want {
				want[i] = strings.ReplaceAll(w, "FILE", file)
			}
			if !reflect.DeepEqual(ce.Problems, want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(ce.Problems, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

func TestConfigErrorMessage(t *testing.T) {
	one := &ConfigError{Problems: []string{"A: bad"}}
	if got := one.Error(); got != "invalid settings: A: bad" {
		t.Errorf("one problem: %q", got)
	}
	two := &ConfigError{Problems: []string{"A: bad", "B: worse"}}
	if got := two.Error(); got != "invalid settings (2 problems):\n  A: bad\n  B: worse" {
		t.Errorf("two problems: %q", got)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	c, err := Load(env(validEnv(t)))
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := testKeys(t)
	keyLine := strings.Split(string(pk), "\n")[1]

	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
		outputs = append(outputs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, c.WebhookSecret))
	}
	j, _ := json.Marshal(c)
	outputs = append(outputs, string(j))
	var logs bytes.Buffer
	log := zerolog.New(&logs)
	log.Info().Interface("config", c).Stringer("secret", c.WebhookSecret).Object("key", c.PrivateKey).Msg("x")
	outputs = append(outputs, logs.String())
	var desc bytes.Buffer
	if err := c.Describe(&desc); err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, desc.String())

	for _, out := range outputs {
		if strings.Contains(out, testSecret) || strings.Contains(out, keyLine) ||
			strings.Contains(out, fmt.Sprintf("%x", testSecret)) {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if !strings.Contains(desc.String(), "REDACTED") || !strings.Contains(logs.String(), `"secret":"REDACTED"`) {
		t.Errorf("want REDACTED in:\n%s\n%s", desc.String(), logs.String())
	}
}
