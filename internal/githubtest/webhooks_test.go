package githubtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

// receiver is a webhook endpoint that verifies signatures like the App and
// fails the first deliveries it is told to.
type receiver struct {
	mu       sync.Mutex
	secret   string
	failNext int
	got      []string // GUIDs received
	events   []any
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := github.ValidatePayload(r, []byte(rc.secret))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	event, err := github.ParseWebHook(github.WebHookType(r), body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got = append(rc.got, github.DeliveryID(r))
	rc.events = append(rc.events, event)
	if rc.failNext > 0 {
		rc.failNext--
		http.Error(w, "queue full", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func TestDeliveriesListAndRedeliver(t *testing.T) {
	f := newFixture(t)
	rc := &receiver{secret: f.s.WebhookSecret(), failNext: 1}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	f.s.SetWebhook(hook.URL, rc.secret)

	first, err := f.s.Send(ctx, "pull_request", f.s.PullRequestEvent("opened", "acme/infra", f.prNum))
	if err != nil || first.StatusCode != 503 || first.Status != "Invalid HTTP Response: 503" {
		t.Fatalf("first delivery: %+v, %v", first, err)
	}
	for range 2 {
		if d, err := f.s.Send(ctx, "check_suite", f.s.CheckSuiteEvent("requested", "acme/infra", f.head)); err != nil || d.StatusCode != 202 {
			t.Fatalf("delivery: %+v, %v", d, err)
		}
	}

	app := appClient(t, f.s)
	var all []*github.HookDelivery
	opts := &github.ListCursorOptions{PerPage: 2}
	for {
		page, resp, err := app.Apps.ListHookDeliveries(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if resp.Cursor == "" {
			break
		}
		opts.Cursor = resp.Cursor
	}
	if len(all) != 3 || all[2].GetGUID() != first.GUID || all[2].GetStatusCode() != 503 || all[2].GetAction() != "opened" ||
		all[2].GetInstallationID() != f.inst || all[2].GetEvent() != "pull_request" || all[2].GetRedelivery() {
		t.Fatalf("deliveries (newest first): %v", all)
	}

	// The App's reconciler asks for the failed one again: same GUID.
	if _, _, err := app.Apps.RedeliverHookDelivery(ctx, all[2].GetID()); err != nil {
		if _, accepted := err.(*github.AcceptedError); !accepted {
			t.Fatal(err)
		}
	}
	rc.mu.Lock()
	got := append([]string(nil), rc.got...)
	rc.mu.Unlock()
	if len(got) != 4 || got[3] != first.GUID {
		t.Errorf("received GUIDs %v, want the first redelivered last", got)
	}
	ds := f.s.Deliveries()
	if last := ds[len(ds)-1]; !last.Redelivery || last.StatusCode != 202 || last.GUID != first.GUID {
		t.Errorf("redelivery record: %+v", last)
	}
	detail := must[*github.HookDelivery](t)(app.Apps.GetHookDelivery(ctx, all[2].GetID()))
	if detail.GetRequest().Headers["X-Github-Event"] != "pull_request" {
		t.Errorf("delivery detail headers: %v", detail.GetRequest())
	}

	// Signature: a wrong secret is refused by the receiver.
	d, _ := f.s.Deliver(ctx, hook.URL, "ping", []byte(`{"zen":"x"}`), "wrong")
	if d.StatusCode != 400 {
		t.Errorf("wrong secret answered %d", d.StatusCode)
	}
}

func TestEventPayloadsMatchState(t *testing.T) {
	f := newFixture(t)
	s := f.s

	// A fork PR: head repo differs, check_suite for its head lists no PR.
	s.AddRepo(githubtest.Repo{Owner: "forker", Name: "infra", ForkOf: "acme/infra"})
	forkHead := s.Push("forker", "infra", "patch-1", map[string]string{"apps/x/main.go": "package x\n"})
	fork := s.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: "patch-1", HeadRepo: "forker/infra", User: "forker"})

	cases := []struct {
		name  string
		event string
		body  []byte
		check func(t *testing.T, ev any)
	}{
		{"pull_request opened", "pull_request", s.PullRequestEvent("opened", "acme/infra", f.prNum), func(t *testing.T, ev any) {
			e := ev.(*github.PullRequestEvent)
			if e.GetPullRequest().GetHead().GetSHA() != f.head || e.GetInstallation().GetID() != f.inst || e.GetNumber() != f.prNum ||
				e.GetOrganization().GetLogin() != "acme" || e.GetSender().GetLogin() != "alice" {
				t.Errorf("%+v", e)
			}
		}},
		{"pull_request synchronize", "pull_request", s.PullRequestEvent("synchronize", "acme/infra", f.prNum), func(t *testing.T, ev any) {
			e := ev.(*github.PullRequestEvent)
			if e.GetBefore() != f.first || e.GetAfter() != f.head {
				t.Errorf("before %s after %s", e.GetBefore(), e.GetAfter())
			}
		}},
		{"pull_request edited base", "pull_request", s.PullRequestEvent("edited", "acme/infra", f.prNum, githubtest.BaseChanged("develop", f.first)), func(t *testing.T, ev any) {
			e := ev.(*github.PullRequestEvent)
			if e.GetChanges().GetBase().GetRef().GetFrom() != "develop" {
				t.Errorf("changes: %+v", e.GetChanges())
			}
		}},
		{"fork pull_request", "pull_request", s.PullRequestEvent("opened", "acme/infra", fork.Number), func(t *testing.T, ev any) {
			e := ev.(*github.PullRequestEvent)
			pr := e.GetPullRequest()
			if pr.GetHead().GetRepo().GetFullName() != "forker/infra" || !pr.GetHead().GetRepo().GetFork() || pr.GetHead().GetSHA() != forkHead ||
				pr.GetBase().GetRepo().GetFullName() != "acme/infra" {
				t.Errorf("fork PR head %s", pr.GetHead().GetRepo().GetFullName())
			}
		}},
		{"check_suite for a fork head", "check_suite", s.CheckSuiteEvent("requested", "acme/infra", forkHead), func(t *testing.T, ev any) {
			e := ev.(*github.CheckSuiteEvent)
			if len(e.GetCheckSuite().PullRequests) != 0 || e.GetCheckSuite().GetHeadSHA() != forkHead {
				t.Errorf("fork suite lists PRs: %v", e.GetCheckSuite().PullRequests)
			}
		}},
		{"check_suite for a branch head", "check_suite", s.CheckSuiteEvent("rerequested", "acme/infra", f.head), func(t *testing.T, ev any) {
			e := ev.(*github.CheckSuiteEvent)
			if len(e.GetCheckSuite().PullRequests) != 1 || e.GetCheckSuite().GetHeadBranch() != "feature" || e.GetInstallation().GetID() != f.inst {
				t.Errorf("suite: %+v", e.GetCheckSuite())
			}
		}},
		{"issue_comment on a PR", "issue_comment", s.IssueCommentEvent("created", "acme/infra", s.AddComment("acme", "infra", f.prNum, "alice", "/housekeeper recheck").ID), func(t *testing.T, ev any) {
			e := ev.(*github.IssueCommentEvent)
			if !e.GetIssue().IsPullRequest() || e.GetComment().GetBody() != "/housekeeper recheck" || e.GetSender().GetLogin() != "alice" {
				t.Errorf("%+v", e)
			}
		}},
		{"installation created (organisation)", "installation", s.InstallationEvent("created", f.inst), func(t *testing.T, ev any) {
			e := ev.(*github.InstallationEvent)
			if e.GetInstallation().GetAccount().GetType() != "Organization" || len(e.Repositories) != 1 || e.GetInstallation().GetAppID() != s.AppID() {
				t.Errorf("%+v", e.GetInstallation())
			}
		}},
		{"installation_repositories added", "installation_repositories", s.InstallationRepositoriesEvent("added", f.inst, []string{"acme/infra"}, nil), func(t *testing.T, ev any) {
			e := ev.(*github.InstallationRepositoriesEvent)
			if len(e.RepositoriesAdded) != 1 || e.RepositoriesAdded[0].GetFullName() != "acme/infra" {
				t.Errorf("%+v", e)
			}
		}},
		{"push", "push", s.PushEvent("acme/infra", "feature", f.base, f.head), func(t *testing.T, ev any) {
			e := ev.(*github.PushEvent)
			if len(e.Commits) != 2 || e.GetHeadCommit().GetID() != f.head || e.GetRef() != "refs/heads/feature" ||
				len(e.Commits[1].Removed) != 1 || e.GetRepo().GetDefaultBranch() != "main" || e.GetInstallation().GetID() != f.inst {
				t.Errorf("%+v", e)
			}
		}},
		{"merge_group", "merge_group", s.MergeGroupEvent("checks_requested", "acme/infra", f.prNum, f.head), func(t *testing.T, ev any) {
			e := ev.(*github.MergeGroupEvent)
			if e.GetMergeGroup().GetHeadSHA() != f.head || !strings.Contains(e.GetMergeGroup().GetHeadRef(), "/pr-1-") {
				t.Errorf("%+v", e.GetMergeGroup())
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := github.ParseWebHook(tc.event, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, ev)
		})
	}

	// check_run requested_action names the run's external_id and button.
	run := must[*github.CheckRun](t)(f.client.Checks.CreateCheckRun(ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name: "housekeeper/dirs", HeadSHA: f.head, ExternalID: github.String("acme/infra#1"), Conclusion: github.String("failure"),
		Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s")},
	}))
	ev, err := github.ParseWebHook("check_run", s.CheckRunEvent("requested_action", run.GetID(), githubtest.RequestedAction("add-stubs"), githubtest.Sender("alice")))
	if err != nil {
		t.Fatal(err)
	}
	e := ev.(*github.CheckRunEvent)
	if e.GetRequestedAction().Identifier != "add-stubs" || e.GetCheckRun().GetExternalID() != "acme/infra#1" ||
		e.GetCheckRun().GetCheckSuite().GetHeadSHA() != f.head || e.GetSender().GetLogin() != "alice" {
		t.Errorf("check_run event: %+v", e)
	}
}

func TestExamplePayloadsParse(t *testing.T) {
	names := githubtest.Examples()
	if len(names) < 60 {
		t.Fatalf("only %d examples embedded", len(names))
	}
	// These official examples carry a "2018-04-25 20:42:10" timestamp
	// that go-github cannot decode; kept as found (an App must survive a
	// payload it cannot decode).
	undecodable := map[string]bool{"check_run.rerequested.1": true, "check_run.rerequested.2": true}
	for _, name := range names {
		body := githubtest.Example(name)
		if _, err := github.ParseWebHook(githubtest.ExampleEvent(name), body); (err != nil) != undecodable[name] {
			t.Errorf("%s: %v", name, err)
		}
		if strings.HasPrefix(name, "adapted/") {
			var m struct {
				Installation *struct{ ID int64 } `json:"installation"`
			}
			if err := json.Unmarshal(body, &m); err != nil || m.Installation == nil || m.Installation.ID == 0 {
				t.Errorf("%s lacks an installation", name)
			}
		}
	}
	var fork github.PullRequestEvent
	_ = json.Unmarshal(githubtest.Example("adapted/pull_request.opened.fork"), &fork)
	if fork.GetPullRequest().GetHead().GetRepo().GetFullName() == fork.GetPullRequest().GetBase().GetRepo().GetFullName() {
		t.Errorf("fork example is not from a fork")
	}
	var comment github.IssueCommentEvent
	_ = json.Unmarshal(githubtest.Example("adapted/issue_comment.created.pull_request"), &comment)
	if !comment.GetIssue().IsPullRequest() {
		t.Errorf("PR comment example is not on a PR")
	}
}

func TestManifestConversion(t *testing.T) {
	s := githubtest.New(t)
	code := s.ManifestCode()
	c := githubClient(t, s, nil)
	cfg := must[*github.AppConfig](t)(c.Apps.CompleteAppManifest(ctx, code))
	if cfg.GetID() != s.AppID() || cfg.GetPEM() != string(s.AppPrivateKeyPEM()) || cfg.GetWebhookSecret() != s.WebhookSecret() || cfg.GetSlug() != "housekeeper" {
		t.Errorf("conversion: %+v", cfg)
	}
	// Codes are single use.
	if _, _, err := c.Apps.CompleteAppManifest(ctx, code); statusOf(err) != 404 {
		t.Errorf("second use: %v", err)
	}
	resp, err := http.Get(s.URL + "/app")
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err != nil || resp.StatusCode != 401 || len(s.TakeViolations()) != 1 {
		t.Errorf("GET /app without a JWT: %v %v", resp, err)
	}
}
