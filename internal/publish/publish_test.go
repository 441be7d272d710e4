package publish

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/checkrun"
	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

// lossy forwards requests to GitHub, but loses the answer of the first
// `lose` creates: the run is made, the App never hears so.
type lossy struct {
	next http.RoundTripper
	mu   sync.Mutex
	lose int
}

func (l *lossy) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err != nil || r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/check-runs") {
		return resp, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lose == 0 {
		return resp, err
	}
	l.lose--
	resp.Body.Close()
	return nil, errors.New("connection reset by peer")
}

func setup(t *testing.T, lose int) (*githubtest.Server, *Publisher, Target) {
	t.Helper()
	gh := githubtest.New(t)
	gh.AddOrg("acme")
	gh.AddRepo(githubtest.Repo{Owner: "acme", Name: "infra"})
	inst := gh.AddInstallation(githubtest.Installation{Account: "acme", Repos: []string{"acme/infra"}})
	sha := gh.Push("acme", "infra", "main", map[string]string{"a.txt": "a\n"})
	client := github.NewClient(&http.Client{Transport: &lossy{next: http.DefaultTransport, lose: lose}}).WithAuthToken(gh.InstallationToken(inst))
	client, err := client.WithEnterpriseURLs(gh.URL+"/", gh.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	client.BaseURL.Path = "/"
	return gh, &Publisher{Client: client, AppID: gh.AppID()}, Target{Owner: "acme", Repo: "infra", SHA: sha, ExternalID: "7"}
}

func check(name string, findings int) checkrun.Check {
	c := checkrun.Check{Name: name, Conclusion: checkrun.Failure, Title: "2 problems", Summary: "summary"}
	for i := range findings {
		c.Findings = append(c.Findings, checkrun.Finding{Kind: "unregistered", Path: "apps", File: "apps/x.go", Line: i + 1, Level: "failure", Message: "m"})
	}
	return c
}

// TestCreateWhoseAnswerIsLost: a create that landed but whose answer was
// lost is looked up, not repeated, and its annotations are not doubled.
func TestCreateWhoseAnswerIsLost(t *testing.T) {
	for name, findings := range map[string]int{"one batch": 3, "several batches": 120} {
		t.Run(name, func(t *testing.T) {
			gh, p, target := setup(t, 1)
			if err := p.Complete(context.Background(), target, Runs{}, check(checkrun.NameDirs, findings), nil); err != nil {
				t.Fatal(err)
			}
			runs := gh.CheckRuns("acme", "infra", target.SHA)
			if len(runs) != 1 {
				t.Fatalf("%d runs, want 1", len(runs))
			}
			r := runs[0]
			if r.Status != "completed" || r.Conclusion != "failure" || len(r.Output.Annotations) != findings {
				t.Errorf("run %s/%s with %d annotations, want completed/failure with %d", r.Status, r.Conclusion, len(r.Output.Annotations), findings)
			}
			if n := gh.Calls().Count("POST /repos/{owner}/{repo}/check-runs"); n != 1 {
				t.Errorf("%d creates, want 1", n)
			}
		})
	}
}

// TestStartWhoseAnswerIsLost: the same for a run marked in progress.
func TestStartWhoseAnswerIsLost(t *testing.T) {
	gh, p, target := setup(t, 1)
	runs := Runs{}
	if err := p.Start(context.Background(), target, runs, checkrun.NameSecrets); err != nil {
		t.Fatal(err)
	}
	if err := p.Complete(context.Background(), target, runs, check(checkrun.NameSecrets, 1), nil); err != nil {
		t.Fatal(err)
	}
	got := gh.CheckRuns("acme", "infra", target.SHA)
	if len(got) != 1 || got[0].Status != "completed" {
		t.Fatalf("runs %+v, want one completed", got)
	}
}

// TestCreateThatDidNotLand: a 502 that did not land is created once more
// after the lookup finds nothing; a 422 is not retried at all.
func TestCreateThatDidNotLand(t *testing.T) {
	gh, p, target := setup(t, 0)
	gh.AddFault(githubtest.Fault{Kind: githubtest.FaultServerError, Operation: "POST /repos/{owner}/{repo}/check-runs", Times: 1})
	if err := p.Complete(context.Background(), target, Runs{}, check(checkrun.NameDirs, 1), nil); err != nil {
		t.Fatal(err)
	}
	if runs := gh.CheckRuns("acme", "infra", target.SHA); len(runs) != 1 || runs[0].Status != "completed" {
		t.Fatalf("runs %+v, want one completed", runs)
	}
	calls := gh.Calls()
	if calls.Count("POST /repos/{owner}/{repo}/check-runs") != 2 || calls.Count("GET /repos/{owner}/{repo}/commits/{ref}/check-runs") != 1 {
		t.Errorf("calls %v, want create, lookup, create", calls.ByOperation)
	}

	gh.ResetCalls()
	bad := check(checkrun.NameSecrets, 0)
	bad.Conclusion = "not-a-conclusion"
	if err := p.Complete(context.Background(), target, Runs{}, bad, nil); err == nil {
		t.Fatal("an invalid run was accepted")
	}
	gh.TakeViolations()
	if n := gh.Calls().Count("GET /repos/{owner}/{repo}/commits/{ref}/check-runs"); n != 0 {
		t.Errorf("a refused create was looked up %d times", n)
	}
}

func TestMayHaveLanded(t *testing.T) {
	resp := func(code int) *http.Response { return &http.Response{StatusCode: code, Request: &http.Request{}} }
	tests := map[string]struct {
		err  error
		want bool
	}{
		"no answer":    {errors.New("connection reset"), true},
		"502":          {&github.ErrorResponse{Response: resp(502)}, true},
		"422":          {&github.ErrorResponse{Response: resp(422)}, false},
		"rate limit":   {&github.RateLimitError{Response: resp(403)}, false},
		"secondary":    {&github.AbuseRateLimitError{Response: resp(403)}, false},
		"wrapped 503":  {errors.Join(errors.New("x"), &github.ErrorResponse{Response: resp(503)}), true},
		"cancellation": {context.Canceled, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := MayHaveLanded(tc.err); got != tc.want {
				t.Errorf("MayHaveLanded = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPacerGivesBackUnusedSlots: a caller that gives up (cancelled, or a
// deadline before its slot) does not push later callers further out.
func TestPacerGivesBackUnusedSlots(t *testing.T) {
	p := NewPacer(600) // one slot every 100 ms, a burst of 60
	for range 60 {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		if err := p.Wait(ctx); err == nil {
			t.Fatal("a wait past the deadline succeeded")
		}
		cancel()
	}
	start := time.Now()
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Errorf("next slot after %s: abandoned waits were kept", d)
	}
}
