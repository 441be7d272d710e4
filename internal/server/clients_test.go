package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/metrics"
)

// TestClientCreator drives an installation client against a fake GitHub:
// the token exchange and the API call are both counted by endpoint template,
// the rate limit is recorded and the user agent names the version.
func TestClientCreator(t *testing.T) {
	var mu sync.Mutex
	var agents []string
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.UserAgent())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/v3/app/installations/42/access_tokens":
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
				t.Errorf("token request without the App JWT")
			}
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"token": "ghs_test", "expires_at": time.Now().Add(time.Hour)})
		case r.Method == http.MethodGet && r.URL.Path == "/api/v3/repos/acme/infra":
			if r.Header.Get("Authorization") != "token ghs_test" {
				t.Errorf("API call authorised with %q", r.Header.Get("Authorization"))
			}
			w.Header().Set("X-RateLimit-Remaining", "4321")
			w.Header().Set("X-RateLimit-Resource", "core")
			_, _ = w.Write([]byte(`{"name":"infra","full_name":"acme/infra"}`))
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer gh.Close()

	cfg := testConfig(t, func(c *Config) { c.APIURL = gh.URL + "/api/v3/" })
	m := metrics.New("test")
	cc, err := NewClientCreator(cfg, m, "1.2.3", nil)
	if err != nil {
		t.Fatal(err)
	}
	client, err := cc.NewInstallationClient(42)
	if err != nil {
		t.Fatal(err)
	}
	repo, _, err := client.Repositories.Get(context.Background(), "acme", "infra")
	if err != nil {
		t.Fatal(err)
	}
	if repo.GetFullName() != "acme/infra" {
		t.Errorf("repo = %q", repo.GetFullName())
	}

	for labels, want := range map[[2]string]float64{
		{"POST /app/installations/{installation_id}/access_tokens", "2xx"}: 1,
		{"GET /repos/{owner}/{repo}", "2xx"}:                               1,
	} {
		if got := counterValue(m, "housekeeper_github_api_calls_total", map[string]string{"endpoint": labels[0], "status": labels[1]}); got != want {
			t.Errorf("api calls %v = %v, want %v", labels, got, want)
		}
	}
	if got := counterValue(m, "housekeeper_github_rate_limit_remaining", map[string]string{"resource": "core"}); got != 4321 {
		t.Errorf("rate limit remaining = %v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, ua := range agents {
		if !strings.HasPrefix(ua, "housekeeper/1.2.3") {
			t.Errorf("user agent %q", ua)
		}
	}
}

// emulatorConfig points the settings at an emulated GitHub with one
// installed repository.
func emulatorConfig(t *testing.T, opts ...githubtest.Option) (*githubtest.Server, *Config, int64) {
	t.Helper()
	gh := githubtest.New(t, opts...)
	gh.AddOrg("acme")
	gh.AddRepo(githubtest.Repo{Owner: "acme", Name: "infra"})
	inst := gh.AddInstallation(githubtest.Installation{Account: "acme", Repos: []string{"acme/infra"}})
	cfg := testConfig(t, func(c *Config) {
		c.APIURL = gh.URL + "/"
		c.AppID = gh.AppID()
		c.PrivateKey = NewSecret(gh.AppPrivateKeyPEM())
		c.APITimeout = 500 * time.Millisecond
		c.APIMaxWait = 3 * time.Second
	})
	return gh, cfg, inst
}

// TestInstallationClientRecovers: server errors (the token request's
// included), a timeout and a secondary rate limit are retried; a token
// GitHub stops accepting mid-run is replaced.
func TestInstallationClientRecovers(t *testing.T) {
	gh, cfg, inst := emulatorConfig(t)
	gh.AddFault(githubtest.Fault{Kind: githubtest.FaultServerError, Operation: "POST /app/installations/{installation_id}/access_tokens", Times: 1})
	gh.AddFault(githubtest.Fault{Kind: githubtest.FaultServerError, Operation: "GET /repos/{owner}/{repo}", Times: 2})
	gh.AddFault(githubtest.Fault{Kind: githubtest.FaultTimeout, Operation: "GET /repos/{owner}/{repo}/branches/{branch}", Times: 1})
	gh.AddFault(githubtest.Fault{Kind: githubtest.FaultSecondaryRateLimit, Operation: "GET /repos/{owner}/{repo}/branches/{branch}", Times: 1, RetryAfter: time.Second})
	gh.Push("acme", "infra", "main", map[string]string{"README.md": "hi\n"})
	m := metrics.New("test")
	cc, err := NewClientCreator(cfg, m, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	client, err := cc.NewInstallationClient(inst)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := client.Repositories.Get(ctx, "acme", "infra"); err != nil {
		t.Fatalf("get repository through two 502/503 and a failed token request: %v", err)
	}
	if _, _, err := client.Repositories.GetBranch(ctx, "acme", "infra", "main", 0); err != nil {
		t.Fatalf("get branch through a timeout and a secondary limit: %v", err)
	}
	gh.ExpireTokens()
	if _, _, err := client.Repositories.Get(ctx, "acme", "infra"); err != nil {
		t.Fatalf("get repository after the token expired early: %v", err)
	}
	calls := gh.Calls()
	if n := calls.Count("POST /app/installations/{installation_id}/access_tokens"); n != 3 {
		t.Errorf("%d token requests, want 3 (a failed one, its retry, the replacement)", n)
	}
	// Each retry is counted by reason, and the rate-limit wait with it.
	for want, v := range map[string]float64{
		`housekeeper_github_retries_total{reason="server_error"}`:         3,
		`housekeeper_github_retries_total{reason="timeout"}`:              1,
		`housekeeper_github_retries_total{reason="secondary_rate_limit"}`: 1,
		`housekeeper_github_rate_limit_waits_total{kind="secondary"}`:     1,
	} {
		if got := metricValue(t, m, want); got != v {
			t.Errorf("%s = %v, want %v", want, got, v)
		}
	}
	if got := metricValue(t, m, `housekeeper_github_rate_limit_wait_seconds_total{kind="secondary"}`); got < 1 {
		t.Errorf("secondary rate-limit wait %v s, want at least the 1 s Retry-After", got)
	}
}

// metricValue reads one sample from the exposition format.
func metricValue(t *testing.T, m *metrics.Metrics, series string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

// TestAppClientRetries: the App's own client (the reconciler's) retries
// too.
func TestAppClientRetries(t *testing.T) {
	gh, cfg, _ := emulatorConfig(t)
	gh.AddFault(githubtest.Fault{Kind: githubtest.FaultServerError, Operation: "GET /app/hook/deliveries", Times: 2})
	cc, err := NewClientCreator(cfg, nil, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	app, err := cc.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := app.Apps.ListHookDeliveries(context.Background(), nil); err != nil {
		t.Fatalf("list deliveries through two server errors: %v", err)
	}
}
