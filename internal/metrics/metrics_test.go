package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestEndpointTemplate(t *testing.T) {
	tests := map[string]struct {
		method, path, want string
	}{
		"compare":           {"GET", "/repos/acme/infra/compare/main...feature/x", "GET /repos/{owner}/{repo}/compare/{basehead}"},
		"repo":              {"get", "/repos/acme/infra", "GET /repos/{owner}/{repo}"},
		"repo named issues": {"GET", "/repos/acme/issues/issues/7/comments", "GET /repos/{owner}/{repo}/issues/{issue_number}/comments"},
		"issue comments":    {"GET", "/repos/a/b/issues/comments/99", "GET /repos/{owner}/{repo}/issues/comments/{comment_id}"},
		"pr files":          {"GET", "/repos/a/b/pulls/12/files", "GET /repos/{owner}/{repo}/pulls/{pull_number}/files"},
		"contents":          {"GET", "/repos/a/b/contents/docs/dir.md", "GET /repos/{owner}/{repo}/contents/{path}"},
		"check run":         {"PATCH", "/repos/a/b/check-runs/123", "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}"},
		"create check run":  {"POST", "/repos/a/b/check-runs", "POST /repos/{owner}/{repo}/check-runs"},
		"commit pulls":      {"GET", "/repos/a/b/commits/0123456789abcdef0123456789abcdef01234567/pulls", "GET /repos/{owner}/{repo}/commits/{ref}/pulls"},
		"git tree":          {"GET", "/repos/a/b/git/trees/0123456789abcdef0123456789abcdef01234567", "GET /repos/{owner}/{repo}/git/trees/{sha}"},
		"git ref":           {"GET", "/repos/a/b/git/ref/heads/feature/x", "GET /repos/{owner}/{repo}/git/ref/{ref}"},
		"tarball":           {"GET", "/repos/a/b/tarball/refs/heads/main", "GET /repos/{owner}/{repo}/tarball/{ref}"},
		"permission":        {"GET", "/repos/a/b/collaborators/octocat/permission", "GET /repos/{owner}/{repo}/collaborators/{username}/permission"},
		"token":             {"POST", "/app/installations/42/access_tokens", "POST /app/installations/{installation_id}/access_tokens"},
		"deliveries":        {"POST", "/app/hook/deliveries/777/attempts", "POST /app/hook/deliveries/{delivery_id}/attempts"},
		"org repo":          {"GET", "/repos/acme/.github/contents/.github/housekeeper.yml", "GET /repos/{owner}/{repo}/contents/{path}"},
		"unknown words":     {"GET", "/frobnicate/secret-value/42", "GET /{param}/{param}/{id}"},
		"weird method":      {"BREW", "/rate_limit", "OTHER /rate_limit"},
		"root":              {"GET", "/", "GET /"},
		"graphql":           {"POST", "/graphql", "POST /graphql"},
		"too long":          {"GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m", "GET /{param}/{param}/{param}/{param}/{param}/{param}/{param}/{param}/{param}/{param}/{…}"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := EndpointTemplate(tc.method, tc.path); got != tc.want {
				t.Errorf("EndpointTemplate(%q, %q) = %q, want %q", tc.method, tc.path, got, tc.want)
			}
		})
	}
}

func TestWord(t *testing.T) {
	tests := map[string]string{
		"pull_request":                 "pull_request",
		"":                             "none",
		"Pull Request":                 "other",
		"ghp_abc-def":                  "other",
		strings.Repeat("a", maxWord+1): "other",
	}
	for in, want := range tests {
		if got := Word(in); got != want {
			t.Errorf("Word(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatusClass(t *testing.T) {
	tests := map[int]string{0: "error", 200: "2xx", 304: "3xx", 403: "4xx", 502: "5xx", 999: "other"}
	for in, want := range tests {
		if got := StatusClass(in); got != want {
			t.Errorf("StatusClass(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestAPIMiddleware(t *testing.T) {
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "4999")
		w.Header().Set("X-RateLimit-Resource", "core")
		if strings.HasSuffix(r.URL.Path, "/missing") {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer gh.Close()

	m := New("test")
	client := &http.Client{Transport: m.APIMiddleware("/api/v3/")(http.DefaultTransport)}
	for _, p := range []string{"/api/v3/repos/a/b/pulls/1", "/api/v3/repos/c/d/pulls/2", "/api/v3/repos/a/b/missing", "/api/graphql"} {
		res, err := client.Get(gh.URL + p + "?page=2")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	// A transport failure is counted with status "error".
	dead := &http.Client{Transport: m.APIMiddleware("/")(roundTripperFunc(func(*http.Request) (*http.Response, error) {
		return nil, io.ErrUnexpectedEOF
	}))}
	if _, err := dead.Get("http://example.invalid/rate_limit"); err == nil {
		t.Fatal("want an error from the dead transport")
	}

	checks := map[[2]string]float64{
		{"GET /repos/{owner}/{repo}/pulls/{pull_number}", "2xx"}: 2,
		{"GET /repos/{owner}/{repo}/{param}", "4xx"}:             1,
		{"GET /graphql", "2xx"}:                                  1,
		{"GET /rate_limit", "error"}:                             1,
	}
	for labels, want := range checks {
		if got := testutil.ToFloat64(m.apiCalls.WithLabelValues(labels[0], labels[1])); got != want {
			t.Errorf("api calls %v = %v, want %v", labels, got, want)
		}
	}
	if got := testutil.ToFloat64(m.rateLimit.WithLabelValues("core")); got != 4999 {
		t.Errorf("rate limit remaining = %v, want 4999", got)
	}
}

func TestHandlerExposesEverything(t *testing.T) {
	m := New("v1.2.3")
	m.EventReceived("pull_request", "opened")
	m.DeliveryRefused(RefusedSignature)
	m.DeliveryRefused("made-up")
	m.EventIgnored("star")
	m.DeliveryDuplicate()
	m.JobDropped("shutdown")
	m.HandlingDone("pull_request", OutcomeOK, 1500*time.Millisecond)
	m.CheckConclusion("housekeeper/secrets", "failure")
	m.Findings("housekeeper/secrets", "bootstrap", "failure", 2)
	m.Findings("housekeeper/dirs", "", "warning", 1)
	m.APICall("GET /rate_limit", 200)
	m.RateLimitRemaining("", 10)
	m.Enqueued()
	m.WorkerBusy()
	m.Retry("status 502", time.Second)
	m.Retry("secondary rate limit", 60*time.Second)
	m.Retry("rate limit", 90*time.Second)
	m.Retry("something new", time.Second)
	m.ReconcilerPass(nil, 3, 1, 2, 1)
	m.ReconcilerPass(errors.New("list failed"), 0, 0, 0, 0)
	m.QueueWait(250 * time.Millisecond)
	m.FailedClosed("housekeeper/dirs", "rate_limit")
	m.FailedClosed("housekeeper/<script>", "made up")

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()

	// Every metric of ours is documented.
	doc, err := os.ReadFile("../../docs/server.md")
	if err != nil {
		t.Fatal(err)
	}
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if name := f.GetName(); strings.HasPrefix(name, "housekeeper_") && !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/server.md does not document %s", name)
		}
	}
	for _, want := range []string{
		`housekeeper_build_info{version="v1.2.3"} 1`,
		`housekeeper_webhook_events_total{action="opened",event="pull_request"} 1`,
		`housekeeper_webhook_refused_total{reason="signature"} 1`,
		`housekeeper_webhook_refused_total{reason="other"} 1`,
		`housekeeper_webhook_ignored_total{event="star"} 1`,
		`housekeeper_webhook_duplicates_total 1`,
		`housekeeper_jobs_dropped_total{reason="shutdown"} 1`,
		`housekeeper_handler_duration_seconds_count{event="pull_request",outcome="ok"} 1`,
		`housekeeper_check_conclusions_total{check="housekeeper/secrets",conclusion="failure"} 1`,
		`housekeeper_findings_total{check="housekeeper/secrets",level="failure",tier="bootstrap"} 2`,
		`housekeeper_findings_total{check="housekeeper/dirs",level="warning",tier="none"} 1`,
		`housekeeper_github_api_calls_total{endpoint="GET /rate_limit",status="2xx"} 1`,
		`housekeeper_github_rate_limit_remaining{resource="core"} 10`,
		`housekeeper_queue_depth 1`,
		`housekeeper_workers_busy 1`,
		`housekeeper_github_retries_total{reason="server_error"} 1`,
		`housekeeper_github_retries_total{reason="secondary_rate_limit"} 1`,
		`housekeeper_github_retries_total{reason="rate_limit"} 1`,
		`housekeeper_github_retries_total{reason="other"} 1`,
		`housekeeper_github_rate_limit_waits_total{kind="secondary"} 1`,
		`housekeeper_github_rate_limit_wait_seconds_total{kind="primary"} 90`,
		`housekeeper_reconciler_redeliveries_total{outcome="asked"} 3`,
		`housekeeper_reconciler_redeliveries_total{outcome="ask_failed"} 1`,
		`housekeeper_reconciler_redeliveries_total{outcome="deferred"} 2`,
		`housekeeper_reconciler_redeliveries_total{outcome="gave_up"} 1`,
		`housekeeper_reconciler_passes_total{outcome="error"} 1`,
		`housekeeper_queue_wait_seconds_bucket{le="0.5"} 1`,
		`housekeeper_runs_failed_closed_total{check="housekeeper/dirs",reason="rate_limit"} 1`,
		`housekeeper_runs_failed_closed_total{check="other",reason="other"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics output lacks %s", want)
		}
	}
}

// The shared state's metrics keep their labels to fixed vocabularies.
func TestCoordMetricsBounded(t *testing.T) {
	m := New("v1")
	m.BudgetSeen(0.03)
	m.BudgetSeen(1.7) // a report above its limit is counted as full
	m.BudgetDeferred("audit")
	m.BudgetDeferred("installation 12345")
	m.ConsumersPruned(2)
	m.Leading("auditor", true)
	m.LimitWait("content", 0.2)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`housekeeper_api_budget_left_ratio_bucket{le="0.05"} 1`,
		`housekeeper_api_budget_left_ratio_bucket{le="0.8"} 1`,
		`housekeeper_api_budget_left_ratio_bucket{le="1"} 2`,
		`housekeeper_api_budget_deferred_total{work="audit"} 1`,
		`housekeeper_api_budget_deferred_total{work="other"} 1`,
		`housekeeper_queue_consumers_pruned_total 2`,
		`housekeeper_leader{role="auditor"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics output lacks %s", want)
		}
	}
	doc, err := os.ReadFile("../../docs/server.md")
	if err != nil {
		t.Fatal(err)
	}
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if name := f.GetName(); strings.HasPrefix(name, "housekeeper_") && !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/server.md does not document %s", name)
		}
	}
}
