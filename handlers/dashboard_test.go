package handlers_test

import (
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/dashboard"
	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/runner"
)

func dashboardIssue(t *testing.T, f *fixture) githubtest.Issue {
	t.Helper()
	var found []githubtest.Issue
	for _, is := range f.gh.Issues("acme", "infra") {
		if is.Title == dashboard.Title {
			found = append(found, is)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d dashboards, want 1", len(found))
	}
	return found[0]
}

// tick checks a box as user and delivers the edit.
func tick(t *testing.T, f *fixture, n int, action dashboard.Action, user string) {
	t.Helper()
	before := f.gh.EditIssue("acme", "infra", n, func(is *githubtest.Issue) {
		is.Body = strings.Replace(is.Body, "- [ ] "+actionLabel(is.Body, action), "- [x] "+actionLabel(is.Body, action), 1)
	})
	if err := f.deliver("issues", f.gh.IssuesEvent("edited", "acme/infra", n, before.Body, githubtest.Sender(user))); err != nil {
		t.Fatal(err)
	}
	waitAudits(t, f)
}

func actionLabel(body string, a dashboard.Action) string {
	for _, l := range strings.Split(body, "\n") {
		if strings.HasSuffix(l, "<!-- housekeeper:action "+string(a)+" -->") {
			return strings.TrimPrefix(strings.TrimPrefix(l, "- [ ] "), "- [x] ")
		}
	}
	return "?"
}

func TestDashboard(t *testing.T) {
	f := newFixture(t)
	f.gh.Push("acme", "infra", "main", map[string]string{
		".github/housekeeper.yml": "dashboard: true\nsecrets:\n  max_file_size: 10MiB\n",
		"infra/creds.tf":          "access_key = \"" + fakeAWSKey(7) + "\"\n",
		"undocumented/x.txt":      "x\n",
		"huge.bin":                strings.Repeat("a", 11<<20),
	})
	f.gh.SetPermission("acme", "infra", "alice", "write", "write")
	f.gh.SetPermission("acme", "infra", "rita", "read", "read")
	install(t, f, f.inst)
	is := dashboardIssue(t, f)
	for _, want := range []string{"`undocumented/`", "`infra/creds.tf:1`", "Tier 1", "rotate it", "AKIA", "`huge.bin`", "larger than max_file_size", "Run the audit again"} {
		if !strings.Contains(is.Body, want) {
			t.Errorf("dashboard lacks %q:\n%s", want, is.Body)
		}
	}
	if strings.Contains(is.Body, fakeAWSKey(7)) {
		t.Error("the dashboard shows the secret in full")
	}
	// Another audit of the same state edits nothing and creates nothing.
	before := is
	install(t, f, f.inst)
	if is = dashboardIssue(t, f); is.Updated != before.Updated {
		t.Error("the dashboard was rewritten although nothing changed")
	}

	// A reader's tick is undone, with one reply naming the access needed.
	tick(t, f, is.Number, dashboard.ActionRerun, "rita")
	is = dashboardIssue(t, f)
	if strings.Contains(is.Body, "- [x]") {
		t.Error("a reader's tick stayed")
	}
	replies := f.gh.Comments("acme", "infra", is.Number)
	if len(replies) != 1 || !strings.Contains(replies[0].Body, "write, maintain or admin") || !strings.Contains(replies[0].Body, "you have read") {
		t.Errorf("replies to the reader: %+v", replies)
	}

	// A writer's "Open a PR adding stub entries" opens one.
	tick(t, f, is.Number, dashboard.ActionStubs, "alice")
	var stubs []githubtest.PullRequest
	for _, pr := range f.gh.PullRequests("acme", "infra") {
		if pr.Head == runner.StubsBranch {
			stubs = append(stubs, pr)
		}
	}
	if len(stubs) != 1 {
		t.Fatalf("%d stub-entries pull requests", len(stubs))
	}
	if m, _ := f.gh.File(stubs[0].HeadSHA, "docs/dir.md"); !strings.Contains(m, "undocumented/") {
		t.Errorf("stub map:\n%s", m)
	}
	if strings.Contains(dashboardIssue(t, f).Body, "- [x]") {
		t.Error("the writer's tick stayed")
	}

	// "Run the audit again" after the fix is merged shows the new state.
	f.gh.MergePullRequest("acme", "infra", stubs[0].Number)
	tick(t, f, is.Number, dashboard.ActionRerun, "alice")
	if body := dashboardIssue(t, f).Body; strings.Contains(body, "Unregistered") || !strings.Contains(body, "`undocumented/`") {
		t.Errorf("after the merge and a re-run:\n%s", body)
	}

	// Closed by a person: left alone until reopened.
	f.gh.EditIssue("acme", "infra", is.Number, func(is *githubtest.Issue) { is.State = "closed" })
	closed := dashboardIssue(t, f)
	before2 := f.gh.Branch("acme", "infra", "main")
	after := f.gh.Push("acme", "infra", "main", map[string]string{"another/x.txt": "x\n"})
	if err := f.deliver("push", f.gh.PushEvent("acme/infra", "main", before2, after)); err != nil {
		t.Fatal(err)
	}
	waitAudits(t, f)
	if got := dashboardIssue(t, f); got.Body != closed.Body || got.State != "closed" {
		t.Error("a closed dashboard was touched")
	}
	f.gh.EditIssue("acme", "infra", is.Number, func(is *githubtest.Issue) { is.State = "open" })
	if err := f.deliver("issues", f.gh.IssuesEvent("reopened", "acme/infra", is.Number, "")); err != nil {
		t.Fatal(err)
	}
	waitAudits(t, f)
	if got := dashboardIssue(t, f); !strings.Contains(got.Body, "`another/`") {
		t.Errorf("reopened dashboard not refreshed:\n%s", got.Body)
	}
	if v := f.gh.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}
