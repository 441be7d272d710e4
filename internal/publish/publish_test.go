package publish

import (
	"bytes"
	"context"
	"errors"
	"io"
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
	return setupTransport(t, &lossy{next: http.DefaultTransport, lose: lose})
}

func setupTransport(t *testing.T, rt http.RoundTripper) (*githubtest.Server, *Publisher, Target) {
	t.Helper()
	gh := githubtest.New(t)
	gh.AddOrg("acme")
	gh.AddRepo(githubtest.Repo{Owner: "acme", Name: "infra"})
	inst := gh.AddInstallation(githubtest.Installation{Account: "acme", Repos: []string{"acme/infra"}})
	sha := gh.Push("acme", "infra", "main", map[string]string{"a.txt": "a\n"})
	client := github.NewClient(&http.Client{Transport: rt}).WithAuthToken(gh.InstallationToken(inst))
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

// late plays a GitHub that is slow to carry out a create: the first create
// gets no answer (as after a client timeout), yet the request is still
// under way on GitHub's side and lands when release is called. onCreate,
// when set, runs as the create is sent (a shutdown cancelling the job).
type late struct {
	t        *testing.T
	next     http.RoundTripper
	mu       sync.Mutex
	held     *http.Request
	used     bool
	drop     bool // the held create never lands
	onCreate func()
}

func (l *late) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/check-runs") {
		return l.next.RoundTrip(r)
	}
	if l.onCreate != nil {
		l.onCreate()
	}
	l.mu.Lock()
	first := !l.used
	l.used = true
	l.mu.Unlock()
	if !first {
		return l.next.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	held := r.Clone(context.Background())
	held.Body = io.NopCloser(bytes.NewReader(body))
	held.ContentLength = int64(len(body))
	l.mu.Lock()
	if !l.drop {
		l.held = held
	}
	l.mu.Unlock()
	return nil, errors.New("read tcp: i/o timeout")
}

// release lets the held create land.
func (l *late) release() {
	l.mu.Lock()
	held := l.held
	l.held = nil
	l.mu.Unlock()
	if held == nil {
		return
	}
	resp, err := l.next.RoundTrip(held)
	if err != nil {
		l.t.Errorf("held create: %v", err)
		return
	}
	resp.Body.Close()
}

func setupLate(t *testing.T, l *late) (*githubtest.Server, *Publisher, Target) {
	t.Helper()
	l.t, l.next = t, http.DefaultTransport
	gh, p, target := setupTransport(t, l)
	// Waiting for the create to settle is when the held create lands.
	p.Sleep = func(ctx context.Context, d time.Duration) error {
		if d <= 0 || d > DefaultSettleAfter {
			t.Errorf("settle wait %s, want within (0, %s]", d, DefaultSettleAfter)
		}
		l.release()
		return ctx.Err()
	}
	return gh, p, target
}

// TestCreateLandingAfterTheLookup: a create that got no answer lands only
// after the lookup that follows it found nothing. The run is not created a
// second time: the lookup is made again once the create has settled, and
// the run it finds is updated. (Before, the App created a second run at
// once: two runs of one name on one commit.)
func TestCreateLandingAfterTheLookup(t *testing.T) {
	l := &late{}
	gh, p, target := setupLate(t, l)
	err := p.Complete(context.Background(), target, Runs{}, check(checkrun.NameDirs, 2), nil)
	l.release() // whatever was still held lands now at the latest
	if err != nil {
		t.Fatal(err)
	}
	runs := gh.CheckRuns("acme", "infra", target.SHA)
	if len(runs) != 1 {
		t.Fatalf("%d runs of %s, want 1", len(runs), checkrun.NameDirs)
	}
	if r := runs[0]; r.Status != "completed" || r.Conclusion != "failure" || len(r.Output.Annotations) != 2 {
		t.Errorf("run %s/%s with %d annotations, want completed/failure with 2", r.Status, r.Conclusion, len(r.Output.Annotations))
	}
	if n := gh.Calls().Count("GET /repos/{owner}/{repo}/commits/{ref}/check-runs"); n != 2 {
		t.Errorf("%d lookups, want 2 (at once, and once the create settled)", n)
	}
}

// TestCreateThatNeverLands: no answer and nothing lands: once the create
// has settled, the run is created.
func TestCreateThatNeverLands(t *testing.T) {
	gh, p, target := setupLate(t, &late{drop: true})
	if err := p.Complete(context.Background(), target, Runs{}, check(checkrun.NameDirs, 1), nil); err != nil {
		t.Fatal(err)
	}
	if runs := gh.CheckRuns("acme", "infra", target.SHA); len(runs) != 1 || runs[0].Status != "completed" {
		t.Fatalf("runs %+v, want one completed", runs)
	}
}

// TestCreateUnsettledAtShutdown: the job is cancelled while a create is
// under way and gets no answer. Nothing is created in its place; failing
// the run closed afterwards (a fresh context, as the runner's) waits for
// the create to settle and updates the run that landed.
func TestCreateUnsettledAtShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	l := &late{onCreate: cancel}
	gh, p, target := setupLate(t, l)
	runs := Runs{}
	err := p.Start(ctx, target, runs, checkrun.NameSecrets)
	if !errors.Is(err, ErrUnsettled) {
		t.Fatalf("start: %v, want ErrUnsettled", err)
	}
	if n := len(gh.CheckRuns("acme", "infra", target.SHA)); n != 0 {
		t.Fatalf("%d runs before the create landed, want 0", n)
	}
	c := check(checkrun.NameSecrets, 0)
	c.Title = "Housekeeper could not finish this check"
	if err := p.Complete(context.Background(), target, runs, c, nil); err != nil {
		t.Fatal(err)
	}
	l.release()
	got := gh.CheckRuns("acme", "infra", target.SHA)
	if len(got) != 1 || got[0].Status != "completed" || got[0].Output.Title != c.Title {
		t.Fatalf("runs %+v, want the landed run, completed", got)
	}
}

// TestCreateNotCutByCancellation: a job cancelled while its create is on
// the wire (a shutdown) does not cut the create off: its answer says what
// happened, and nothing needs looking up.
func TestCreateNotCutByCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	gh, p, target := setupTransport(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost {
			cancel()
		}
		return http.DefaultTransport.RoundTrip(r)
	}))
	runs := Runs{}
	if err := p.Start(ctx, target, runs, checkrun.NameDirs); err != nil {
		t.Fatalf("start: %v", err)
	}
	got := gh.CheckRuns("acme", "infra", target.SHA)
	if len(got) != 1 || got[0].Status != "in_progress" || runs[checkrun.NameDirs].GetID() != got[0].ID {
		t.Fatalf("runs %+v (known %v), want the one created, in progress", got, runs[checkrun.NameDirs])
	}
	if n := gh.Calls().Count("GET /repos/{owner}/{repo}/commits/{ref}/check-runs"); n != 0 {
		t.Errorf("%d lookups, want none", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
