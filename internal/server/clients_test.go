package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

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
