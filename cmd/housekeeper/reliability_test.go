package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/reliability"
)

// The reliability suite (docs/reliability.md): the real `serve`, in
// process, over loopback against the emulator, with faults, bursts,
// shutdown and hostile input. The heavy load run is scripts/load.sh.

// served is one `housekeeper serve` started through run.
type served struct {
	base           string
	stdout, stderr *lockedBuffer
	cancel         context.CancelFunc
	exited         chan int
	once           sync.Once
	code           int
	took           time.Duration
}

func serveWith(t *testing.T, env map[string]string) *served {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, cancel: cancel, exited: make(chan int, 1)}
	go func() { s.exited <- run(ctx, []string{"serve"}, strings.NewReader(""), s.stdout, s.stderr) }()
	s.base = waitListening(t, s.stderr, s.exited)
	t.Cleanup(func() {
		if code, _ := s.stop(30 * time.Second); code != exitOK {
			t.Errorf("serve exited %d", code)
		}
	})
	return s
}

// stop cancels serve (SIGTERM) and waits for its exit; -1 when it did not
// exit within `within`.
func (s *served) stop(within time.Duration) (int, time.Duration) {
	s.once.Do(func() {
		start := time.Now()
		s.cancel()
		select {
		case s.code = <-s.exited:
		case <-time.After(within):
			s.code = -1
		}
		s.took = time.Since(start)
	})
	return s.code, s.took
}

func report(t *testing.T, o reliability.Outcome, label string) {
	t.Helper()
	var b strings.Builder
	o.Print(&b, label)
	t.Log("\n" + b.String())
	if !o.OK() {
		t.Errorf("%s: not every delivery completed cleanly:\n%s", label, b.String())
	}
}

// TestReliabilityBurst: a burst through a small queue, with same-SHA bursts
// (synchronize + check_suite.requested + a re-request): refused deliveries
// are answered 503, redelivered by the reconciler and completed; no run is
// stuck or duplicated.
func TestReliabilityBurst(t *testing.T) {
	gh := githubtest.New(t, githubtest.WithLatency(5*time.Millisecond))
	f := reliability.NewFixture(gh, 12, 5)
	app := serveWith(t, reliability.Env(gh, gh.URL, map[string]string{
		"HOUSEKEEPER_WORKERS": "2", "HOUSEKEEPER_QUEUE_SIZE": "4", "HOUSEKEEPER_RECONCILE_INTERVAL": "300ms",
		"HOUSEKEEPER_LOG_LEVEL": "info",
	}))
	gh.SetWebhook(app.base+"/api/github/hook", gh.WebhookSecret())
	sent := reliability.Send(context.Background(), gh, f.Plan(36, 3), 12)
	o := reliability.WaitSettled(context.Background(), f, sent, 60*time.Second)
	report(t, o, "burst")
	if o.Refused == 0 {
		t.Errorf("no delivery was refused: the burst did not fill the queue")
	}
	// Each refused GUID was asked for once, or again when its redelivery
	// was refused too (rare now that the room check is the queue's own
	// rule; five asks each is far more than it takes).
	if n := gh.Calls().Count("POST /app/hook/deliveries/{delivery_id}/attempts"); n < o.Refused || n > 5*o.Refused {
		t.Errorf("%d redelivery requests for %d refused deliveries", n, o.Refused)
	}
}

// TestReliabilityFaults: 20% of API calls answer 502/503, some time out,
// some hit a secondary rate limit with Retry-After: every accepted
// delivery still ends with both runs completed, none in progress, none
// duplicated, and a run that could not finish says why.
func TestReliabilityFaults(t *testing.T) {
	gh := githubtest.New(t, githubtest.WithLatency(2*time.Millisecond), githubtest.WithSeed(7),
		githubtest.WithFaults(
			githubtest.Fault{Kind: githubtest.FaultServerError, Rate: 0.2},
			githubtest.Fault{Kind: githubtest.FaultTimeout, Rate: 0.02},
			githubtest.Fault{Kind: githubtest.FaultSecondaryRateLimit, Rate: 0.03, RetryAfter: time.Second},
		))
	f := reliability.NewFixture(gh, 8, 3)
	app := serveWith(t, reliability.Env(gh, gh.URL, map[string]string{
		"HOUSEKEEPER_API_TIMEOUT": "500ms", "HOUSEKEEPER_LOG_LEVEL": "info",
	}))
	gh.SetWebhook(app.base+"/api/github/hook", gh.WebhookSecret())
	sent := reliability.Send(context.Background(), gh, f.Plan(16, 4), 4)
	o := reliability.WaitSettled(context.Background(), f, sent, 90*time.Second)
	report(t, o, "faults")
}

// TestReliabilityTokenExpiresMidRun: GitHub stops accepting the
// installation token while a run is under way; the App gets a new one and
// the runs complete as if nothing happened.
func TestReliabilityTokenExpiresMidRun(t *testing.T) {
	gh := githubtest.New(t, githubtest.WithLatency(20*time.Millisecond))
	f := reliability.NewFixture(gh, 1, 0)
	app := serveWith(t, reliability.Env(gh, gh.URL, nil))
	gh.SetWebhook(app.base+"/api/github/hook", gh.WebhookSecret())
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && gh.Calls().Count("GET /repos/{owner}/{repo}/compare/{basehead}") == 0 {
			time.Sleep(2 * time.Millisecond)
		}
		gh.ExpireTokens()
	}()
	sent := reliability.Send(context.Background(), gh, f.Plan(1, 0), 1)
	o := reliability.WaitSettled(context.Background(), f, sent, 20*time.Second)
	report(t, o, "token")
	for _, r := range gh.CheckRuns("acme", "infra", f.PRs[0].HeadSHA) {
		if r.Conclusion != "success" {
			t.Errorf("%s: %s %q, want success", r.Name, r.Conclusion, r.Output.Title)
		}
	}
	if n := gh.Calls().Count("POST /app/installations/{installation_id}/access_tokens"); n < 2 {
		t.Errorf("%d token requests, want a second after the expiry", n)
	}
}

// TestReliabilityPrimaryLimit: with the installation's hourly limit used
// up and resetting in a few seconds, the App waits for the reset and
// finishes; with the reset an hour away, the runs fail closed saying when
// to re-run.
func TestReliabilityPrimaryLimit(t *testing.T) {
	t.Run("resets soon", func(t *testing.T) {
		var mu sync.Mutex
		var shift time.Duration
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(shift) }
		gh := githubtest.New(t, githubtest.WithClock(clock))
		f := reliability.NewFixture(gh, 1, 0)
		// The installation's window opened almost an hour ago: used up,
		// resetting in 2 s.
		mu.Lock()
		shift = -time.Hour + 2*time.Second
		mu.Unlock()
		gh.ExhaustRateLimit(f.Inst)
		mu.Lock()
		shift = 0
		mu.Unlock()
		app := serveWith(t, reliability.Env(gh, gh.URL, nil))
		gh.SetWebhook(app.base+"/api/github/hook", gh.WebhookSecret())
		sent := reliability.Send(context.Background(), gh, f.Plan(1, 0), 1)
		o := reliability.WaitSettled(context.Background(), f, sent, 20*time.Second)
		report(t, o, "primary limit, soon")
		for _, r := range gh.CheckRuns("acme", "infra", f.PRs[0].HeadSHA) {
			if r.Conclusion != "success" {
				t.Errorf("%s: %s %q, want success after the reset", r.Name, r.Conclusion, r.Output.Title)
			}
		}
	})
	t.Run("resets after the longest wait", func(t *testing.T) {
		// Used up until 4 s from now, past api_max_wait (1 s): the App does
		// not wait in the request; GitHub (and go-github, which then
		// refuses requests itself until the reset) leaves it unable even to
		// fail closed, so the check is run again at the reset.
		var mu sync.Mutex
		var shift time.Duration
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(shift) }
		gh := githubtest.New(t, githubtest.WithClock(clock))
		f := reliability.NewFixture(gh, 1, 0)
		mu.Lock()
		shift = -time.Hour + 4*time.Second
		mu.Unlock()
		gh.ExhaustRateLimit(f.Inst)
		mu.Lock()
		shift = 0
		mu.Unlock()
		app := serveWith(t, reliability.Env(gh, gh.URL, map[string]string{"HOUSEKEEPER_API_MAX_WAIT": "1s"}))
		gh.SetWebhook(app.base+"/api/github/hook", gh.WebhookSecret())
		sent := reliability.Send(context.Background(), gh, f.Plan(1, 0), 1)
		o := reliability.WaitSettled(context.Background(), f, sent, 20*time.Second)
		report(t, o, "primary limit, late")
		for _, r := range gh.CheckRuns("acme", "infra", f.PRs[0].HeadSHA) {
			if r.Conclusion != "success" {
				t.Errorf("%s: %s %q, want success once the check ran again", r.Name, r.Conclusion, r.Output.Title)
			}
		}
		if !strings.Contains(app.stderr.String(), "running the check again later") {
			t.Error("the check was not deferred to the reset")
		}
		if os.Getenv("DEBUG_RELIABILITY") != "" {
			t.Log(app.stderr.String())
		}
	})
}

// TestReliabilityShutdownUnderLoad: SIGTERM mid-burst. Serve exits in
// time; every accepted delivery's runs are completed (checked, or failed
// closed saying the App was shutting down); none is in progress. A restart
// then redelivers what was refused meanwhile and completes it.
func TestReliabilityShutdownUnderLoad(t *testing.T) {
	gh := githubtest.New(t, githubtest.WithLatency(20*time.Millisecond))
	f := reliability.NewFixture(gh, 12, 0)
	env := reliability.Env(gh, gh.URL, map[string]string{
		"HOUSEKEEPER_WORKERS": "2", "HOUSEKEEPER_QUEUE_SIZE": "8", "HOUSEKEEPER_SHUTDOWN_TIMEOUT": "300ms",
		"HOUSEKEEPER_RECONCILE_INTERVAL": "300ms", "HOUSEKEEPER_LOG_LEVEL": "info",
	})
	app := serveWith(t, env)
	gh.SetWebhook(app.base+"/api/github/hook", gh.WebhookSecret())
	done := make(chan []reliability.Sent)
	go func() { done <- reliability.Send(context.Background(), gh, f.Plan(24, 0), 2) }()
	time.Sleep(300 * time.Millisecond)
	code, took := app.stop(20 * time.Second)
	if code != exitOK || took > 15*time.Second {
		t.Fatalf("serve exited %d after %s, want 0 within shutdown_timeout and its grace", code, took)
	}
	sent := <-done
	t.Logf("stopped after %s", took)
	// Right after the exit: nothing in progress, nothing duplicated, and
	// every delivery accepted before the stop has its runs.
	var accepted []reliability.Sent
	for _, s := range sent {
		if s.Status == http.StatusAccepted {
			accepted = append(accepted, s)
		}
	}
	o := reliability.Assess(f, accepted)
	if o.Stuck != 0 || o.Duplicates != 0 || o.Unexplained != 0 || o.Completed != len(accepted) {
		report(t, o, "after shutdown")
	}
	shutdownFailures := 0
	for _, pr := range f.PRs {
		for _, r := range gh.CheckRuns("acme", "infra", pr.HeadSHA) {
			if r.Conclusion == "failure" && strings.Contains(r.Output.Summary, "shutting down") {
				shutdownFailures++
			}
		}
	}
	t.Logf("accepted before the stop: %d; runs failed closed by the shutdown: %d", len(accepted), shutdownFailures)

	// A restart: the reconciler redelivers what was refused or unanswered.
	app2 := serveWith(t, env)
	gh.SetWebhook(app2.base+"/api/github/hook", gh.WebhookSecret())
	report(t, reliability.WaitSettled(context.Background(), f, retag(sent), 60*time.Second), "after restart")
}

// retag treats a delivery nobody answered like a refused one (the
// reconciler asks for both).
func retag(sent []reliability.Sent) []reliability.Sent {
	out := append([]reliability.Sent(nil), sent...)
	for i := range out {
		if out[i].Status == 0 {
			out[i].Status = http.StatusServiceUnavailable
		}
	}
	return out
}

// TestReliabilitySecretsStaySecret: 30 planted secrets across the rules;
// every byte the App emitted (debug logs, requests to GitHub with the check
// outputs and comments, webhook answers, the metrics scrape) is searched
// for each value: none is there.
func TestReliabilitySecretsStaySecret(t *testing.T) {
	gh := githubtest.New(t)
	reliability.NewFixture(gh, 0, 0)
	planted, err := reliability.Plant(30, 20261126)
	if err != nil {
		t.Fatal(err)
	}
	base := gh.Branch("acme", "infra", "main")
	gh.SetBranch("acme", "infra", "leaks", base)
	gh.Push("acme", "infra", "leaks", planted.Files)
	pr := gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: "leaks"})
	rec := &reliability.Recorder{Next: gh.Handler()}
	proxy := httptest.NewServer(rec)
	defer proxy.Close()
	app := serveWith(t, reliability.Env(gh, proxy.URL, nil))
	gh.SetWebhook(app.base+"/api/github/hook", gh.WebhookSecret())
	ctx := context.Background()
	if _, err := gh.Send(ctx, "pull_request", gh.PullRequestEvent("opened", "acme/infra", pr.Number)); err != nil {
		t.Fatal(err)
	}
	runs := waitRuns(t, gh, "acme", "infra", pr.HeadSHA)
	sec := runs["housekeeper/secrets"]
	if sec.Conclusion != "failure" || len(sec.Output.Annotations) < 30 {
		t.Fatalf("secrets run %s with %d annotations, want a failure with at least 30", sec.Conclusion, len(sec.Output.Annotations))
	}
	// Comments: help, and a recheck that re-runs both checks.
	for _, body := range []string{"/housekeeper help", "/housekeeper recheck"} {
		c := gh.AddComment("acme", "infra", pr.Number, "octocat", body)
		if _, err := gh.Send(ctx, "issue_comment", gh.IssueCommentEvent("created", "acme/infra", c.ID)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(gh.Comments("acme", "infra", pr.Number)) < 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get(app.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if code, _ := app.stop(30 * time.Second); code != exitOK {
		t.Fatalf("serve exited %d", code)
	}

	sources := map[string][]byte{
		"logs (stderr)":           []byte(app.stderr.String()),
		"stdout":                  []byte(app.stdout.String()),
		"requests to GitHub":      rec.Bytes(),
		"metrics":                 metricsText,
		"webhook answers":         nil,
		"check runs (emulator)":   nil,
		"comments (emulator)":     nil,
		"housekeeper check (CLI)": nil,
	}
	for _, d := range gh.Deliveries() {
		sources["webhook answers"] = append(sources["webhook answers"], d.ResponseBody...)
	}
	for _, r := range gh.CheckRuns("acme", "infra", pr.HeadSHA) {
		o := r.Output
		sources["check runs (emulator)"] = append(sources["check runs (emulator)"], o.Title+o.Summary+o.Text...)
		for _, a := range o.Annotations {
			sources["check runs (emulator)"] = append(sources["check runs (emulator)"], a.Title+a.Message+a.RawDetails...)
		}
	}
	for _, c := range gh.Comments("acme", "infra", pr.Number) {
		sources["comments (emulator)"] = append(sources["comments (emulator)"], c.Body...)
	}
	if len(sources["requests to GitHub"]) == 0 || !strings.Contains(app.stderr.String(), `"message":"checks published"`) {
		t.Fatal("nothing captured: the search would prove nothing")
	}
	if hits := planted.Hits(sources); len(hits) > 0 {
		t.Errorf("%d planted values found in what the App emitted:\n%s", len(hits), strings.Join(hits, "\n"))
	}
	t.Logf("secret values found: 0 of %d values from %d rules, in %d bytes emitted", len(planted.Values), len(planted.Rules), totalLen(sources))
}

func totalLen(m map[string][]byte) int {
	n := 0
	for _, b := range m {
		n += len(b)
	}
	return n
}

// TestReliabilityHostileWebhooks: refused input does nothing; odd but
// valid input gets a clear outcome.
func TestReliabilityHostileWebhooks(t *testing.T) {
	gh := githubtest.New(t)
	f := reliability.NewFixture(gh, 2, 0)
	gh.UpdatePullRequest("acme", "infra", f.PRs[1].Number, func(p *githubtest.PullRequest) {
		p.Title = "NUL \x00 and invalid UTF-8 \xff\xfe in a title"
	})
	app := serveWith(t, reliability.Env(gh, gh.URL, nil))
	gh.SetWebhook(app.base+"/api/github/hook", gh.WebhookSecret())
	secret := gh.WebhookSecret()
	valid := string(gh.PullRequestEvent("opened", "acme/infra", f.PRs[0].Number))
	huge := `{"action":"opened","pad":"` + strings.Repeat("x", 25<<20) + `"}`
	tests := map[string]struct {
		event, body, sig, contentType string
		want                          int
	}{
		"no signature":     {event: "pull_request", body: valid, sig: "-", want: 400},
		"wrong signature":  {event: "pull_request", body: valid, sig: githubtest.SignatureSHA256("wrong", []byte(valid)), want: 400},
		"malformed JSON":   {event: "pull_request", body: `{"action":`, want: 400},
		"form encoded":     {event: "pull_request", body: "payload=" + valid, contentType: "application/x-www-form-urlencoded", want: 400},
		"over 25 MiB":      {event: "pull_request", body: huge, want: 413},
		"unknown event":    {event: "star", body: `{"action":"created"}`, want: 202},
		"deeply nested":    {event: "pull_request", body: strings.Repeat("[", 100000) + strings.Repeat("]", 100000), want: 400},
		"no event header":  {event: "", body: valid, want: 400},
		"NUL and bad UTF8": {event: "pull_request", body: "{\"action\":\"opened\\u0000\xff\"}", want: 202},
		"raw NUL":          {event: "pull_request", body: "{\"action\":\"opened\x00\"}", want: 400},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sig := tc.sig
			switch sig {
			case "":
				sig = githubtest.SignatureSHA256(secret, []byte(tc.body))
			case "-":
				sig = ""
			}
			req, _ := http.NewRequest(http.MethodPost, app.base+"/api/github/hook", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.event != "" {
				req.Header.Set("X-GitHub-Event", tc.event)
			}
			req.Header.Set("X-GitHub-Delivery", "hostile-"+strconv.Itoa(len(name))+name)
			if sig != "" {
				req.Header.Set("X-Hub-Signature-256", sig)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(gh.CheckRuns("acme", "infra", f.PRs[0].HeadSHA)); n != 0 {
		t.Errorf("refused deliveries made %d runs", n)
	}
	// The PR whose title holds a NUL and invalid UTF-8 is checked as usual.
	sent := reliability.Send(context.Background(), gh, []reliability.Event{{Name: "pull_request", Body: gh.PullRequestEvent("opened", "acme/infra", f.PRs[1].Number), SHA: f.PRs[1].HeadSHA}}, 1)
	report(t, reliability.WaitSettled(context.Background(), f, sent, 20*time.Second), "odd title")
}

// TestReliabilityRedeliveryOfCompleted: GitHub redelivering a GUID the App
// already completed is acknowledged (200) and not handled again.
func TestReliabilityRedeliveryOfCompleted(t *testing.T) {
	gh := githubtest.New(t)
	f := reliability.NewFixture(gh, 1, 0)
	app := serveWith(t, reliability.Env(gh, gh.URL, map[string]string{"HOUSEKEEPER_RECONCILE_INTERVAL": "0"}))
	gh.SetWebhook(app.base+"/api/github/hook", gh.WebhookSecret())
	sent := reliability.Send(context.Background(), gh, f.Plan(1, 0), 1)
	report(t, reliability.WaitSettled(context.Background(), f, sent, 20*time.Second), "first delivery")
	time.Sleep(100 * time.Millisecond) // the handler returns after its last request
	gh.ResetCalls()
	var id int64
	for _, d := range gh.Deliveries() {
		id = d.ID
	}
	req, _ := http.NewRequest(http.MethodPost, gh.URL+"/app/hook/deliveries/"+strconv.FormatInt(id, 10)+"/attempts", nil)
	req.Header.Set("Authorization", "Bearer "+gh.AppJWT())
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ds := gh.Deliveries()
	last := ds[len(ds)-1]
	if !last.Redelivery || last.GUID != sent[0].GUID || last.StatusCode != http.StatusOK || !strings.Contains(last.ResponseBody, "already accepted") {
		t.Fatalf("redelivery answered %d %q, want 200 already accepted", last.StatusCode, last.ResponseBody)
	}
	time.Sleep(300 * time.Millisecond)
	calls := gh.Calls()
	if n := calls.Total - calls.Count("POST /app/hook/deliveries/{delivery_id}/attempts"); n != 0 {
		t.Errorf("the App made %d API calls for a completed GUID: %v", n, calls.ByOperation)
	}
	if n := len(gh.CheckRuns("acme", "infra", f.PRs[0].HeadSHA)); n != 2 {
		t.Errorf("%d runs, want 2", n)
	}
}

// TestReliabilityFailsClosedSayingWhy: a commit whose change GitHub will
// not give (502 after every retry; a secondary limit longer than the App
// waits) gets both runs completed as failures that say why and how to
// re-run.
func TestReliabilityFailsClosedSayingWhy(t *testing.T) {
	tests := map[string]struct {
		fault githubtest.Fault
		want  string
	}{
		"server errors":        {githubtest.Fault{Kind: githubtest.FaultServerError, Status: 502}, "502"},
		"long secondary limit": {githubtest.Fault{Kind: githubtest.FaultSecondaryRateLimit, RetryAfter: 10 * time.Minute}, "slow down"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.fault.Operation = "GET /repos/{owner}/{repo}/compare/{basehead}"
			gh := githubtest.New(t, githubtest.WithFaults(tc.fault))
			f := reliability.NewFixture(gh, 1, 0)
			app := serveWith(t, reliability.Env(gh, gh.URL, nil))
			gh.SetWebhook(app.base+"/api/github/hook", gh.WebhookSecret())
			sent := reliability.Send(context.Background(), gh, f.Plan(1, 0), 1)
			report(t, reliability.WaitSettled(context.Background(), f, sent, 20*time.Second), name)
			for _, r := range gh.CheckRuns("acme", "infra", f.PRs[0].HeadSHA) {
				if r.Conclusion != "failure" || !strings.Contains(r.Output.Summary, tc.want) || !strings.Contains(r.Output.Summary, "Re-run") {
					t.Errorf("%s: %s %q:\n%s\nwant a failure saying %q and how to re-run", r.Name, r.Conclusion, r.Output.Title, r.Output.Summary, tc.want)
				}
			}
		})
	}
}

// TestReliabilityTreeBeyondGitHubsLimit: a tree larger than GitHub lists
// at once (truncated) is read from the tarball and checked as usual
// (regression: the base tree's truncation failed the check).
func TestReliabilityTreeBeyondGitHubsLimit(t *testing.T) {
	gh := githubtest.New(t, githubtest.WithTreeLimit(50))
	f := reliability.NewFixture(gh, 0, 0)
	files := map[string]string{}
	for i := range 60 {
		files["apps/huge/f"+strconv.Itoa(i)+".txt"] = "x\n"
	}
	gh.Push("acme", "infra", "main", files)
	gh.SetBranch("acme", "infra", "big", gh.Branch("acme", "infra", "main"))
	gh.Push("acme", "infra", "big", map[string]string{"apps/new/main.go": "package main\n", "unlisted/main.tf": "# x\n"})
	pr := gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: "big"})
	f.PRs = append(f.PRs, pr)
	app := serveWith(t, reliability.Env(gh, gh.URL, nil))
	gh.SetWebhook(app.base+"/api/github/hook", gh.WebhookSecret())
	sent := reliability.Send(context.Background(), gh, []reliability.Event{{Name: "pull_request", Body: gh.PullRequestEvent("opened", "acme/infra", pr.Number), SHA: pr.HeadSHA}}, 1)
	report(t, reliability.WaitSettled(context.Background(), f, sent, 20*time.Second), "huge tree")
	runs := map[string]githubtest.CheckRun{}
	for _, r := range gh.CheckRuns("acme", "infra", pr.HeadSHA) {
		runs[r.Name] = r
	}
	if d := runs["housekeeper/dirs"]; d.Conclusion != "failure" || !strings.Contains(d.Output.Title, "unregistered") {
		t.Errorf("dirs: %s %q, want the unregistered directory reported", d.Conclusion, d.Output.Title)
	}
	if s := runs["housekeeper/secrets"]; s.Conclusion != "success" {
		t.Errorf("secrets: %s %q, want success", s.Conclusion, s.Output.Title)
	}
}
