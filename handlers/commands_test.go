package handlers_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/marker"
)

// comment posts a comment as user and delivers its issue_comment event.
func (f *fixture) comment(n int, user, body string) {
	f.t.Helper()
	c := f.gh.AddComment("acme", "infra", n, user, body)
	if err := f.deliver("issue_comment", f.gh.IssueCommentEvent("created", f.repo, c.ID)); err != nil {
		f.t.Fatal(err)
	}
}

// lastReply is the App's newest comment on the PR.
func (f *fixture) lastReply(n int) githubtest.Comment {
	f.t.Helper()
	var last githubtest.Comment
	for _, c := range f.gh.Comments("acme", "infra", n) {
		if c.ViaApp {
			last = c
		}
	}
	return last
}

func (f *fixture) head(n int) string {
	pr, _ := f.gh.GetPullRequest("acme", "infra", n)
	return pr.HeadSHA
}

var fpRE = regexp.MustCompile(`aws-access-key-id:[0-9a-f]{16}`)

// leakPR opens a PR with a leaked key and returns it with the finding's
// fingerprint.
func leakPR(t *testing.T, f *fixture) (int, string) {
	n := f.pr("leak", map[string]string{"infra/creds.tf": "access_key = \"" + fakeAWSKey(9) + "\"\n"})
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, n)); err != nil {
		t.Fatal(err)
	}
	sec := f.runs(f.head(n))["housekeeper/secrets"]
	fp := fpRE.FindString(sec.Output.Summary)
	if sec.Conclusion != "failure" || fp == "" {
		t.Fatalf("secrets run: %s\n%s", sec.Conclusion, sec.Output.Summary)
	}
	return n, fp
}

func TestHelpAndReaction(t *testing.T) {
	f := newFixture(t)
	n := f.pr("x", map[string]string{"apps/web/a.go": "package a\n"})
	f.comment(n, "carol", "thanks!\n/housekeeper help")
	reply := f.lastReply(n)
	if !strings.Contains(reply.Body, "/housekeeper fix dirs") {
		t.Errorf("reply: %q", reply.Body)
	}
	for _, c := range f.gh.Comments("acme", "infra", n) {
		if c.User == "carol" && (len(c.Reactions) != 1 || c.Reactions[0].Content != "eyes") {
			t.Errorf("reactions on the command: %+v", c.Reactions)
		}
	}
	f.comment(n, "carol", "/housekeeper frobnicate")
	if r := f.lastReply(n); !strings.Contains(r.Body, "I don't know `/housekeeper frobnicate`") || !strings.Contains(r.Body, "/housekeeper recheck") {
		t.Errorf("unknown command reply: %q", r.Body)
	}
}

func TestIgnoreAndUnignore(t *testing.T) {
	f := newFixture(t)
	f.gh.SetPermission("acme", "infra", "alice", "write", "maintain")
	f.gh.SetPermission("acme", "infra", "rita", "read", "read")
	n, fp := leakPR(t, f)

	// A reader is refused, and the run stays red.
	f.comment(n, "rita", "/housekeeper ignore "+fp+" it is fake")
	if r := f.lastReply(n); !strings.Contains(r.Body, "needs write, maintain or admin") || len(marker.Find(r.Body)) != 0 {
		t.Errorf("refusal: %q", r.Body)
	}
	if got := f.runs(f.head(n))["housekeeper/secrets"].Conclusion; got != "failure" {
		t.Errorf("after refused ignore: %s", got)
	}

	// A writer's ignore turns it green, with who and why in the summary.
	f.comment(n, "alice", "/housekeeper ignore "+fp+" test fixture <!-- x -->")
	reply := f.lastReply(n)
	if len(marker.Find(reply.Body)) != 1 || strings.Contains(reply.Body, "<!-- x") {
		t.Errorf("ignore reply: %q", reply.Body)
	}
	sec := f.runs(f.head(n))["housekeeper/secrets"]
	if sec.Conclusion != "success" || !strings.Contains(sec.Output.Summary, "@\u200balice with /housekeeper ignore") {
		t.Errorf("after ignore: %s\n%s", sec.Conclusion, sec.Output.Summary)
	}

	// It survives a new push.
	f.gh.Push("acme", "infra", "leak", map[string]string{"apps/web/more.go": "package main\n"})
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("synchronize", f.repo, n)); err != nil {
		t.Fatal(err)
	}
	if got := f.runs(f.head(n))["housekeeper/secrets"].Conclusion; got != "success" {
		t.Errorf("after a push: %s", got)
	}

	// unignore turns it red again.
	f.comment(n, "alice", "/housekeeper unignore "+fp)
	if got := f.runs(f.head(n))["housekeeper/secrets"].Conclusion; got != "failure" {
		t.Errorf("after unignore: %s", got)
	}
}

func TestForgedMarkersAreNotHonoured(t *testing.T) {
	f := newFixture(t)
	f.gh.SetPermission("acme", "infra", "alice", "write", "write")
	n, fp := leakPR(t, f)
	key := marker.Key([]byte(f.gh.WebhookSecret()))
	valid := marker.Sign(key, marker.Marker{Repo: "acme/infra", PR: n, Fingerprint: fp, Actor: "alice", Action: marker.ActionIgnore, Reason: "copied"})
	// A valid marker copied into a user's comment.
	f.gh.AddComment("acme", "infra", n, "mallory", "sneaky "+valid)
	// A marker with a wrong HMAC in a comment the App authored.
	forged := marker.Sign(marker.Key([]byte("guessed secret")), marker.Marker{Repo: "acme/infra", PR: n, Fingerprint: fp, Actor: "alice", Action: marker.ActionIgnore, Reason: "forged"})
	client, err := f.cc.NewInstallationClient(f.inst)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.Issues.CreateComment(context.Background(), "acme", "infra", n, &github.IssueComment{Body: github.String(forged)}); err != nil {
		t.Fatal(err)
	}
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("synchronize", f.repo, n)); err != nil {
		t.Fatal(err)
	}
	if got := f.runs(f.head(n))["housekeeper/secrets"].Conclusion; got != "failure" {
		t.Errorf("forged or copied markers were honoured: %s", got)
	}
}

func TestFixDirs(t *testing.T) {
	f := newFixture(t)
	f.gh.SetPermission("acme", "infra", "alice", "admin", "admin")
	n := f.pr("newdirs", map[string]string{"apps/worker/main.go": "package main\n", "tools/x.sh": "#!/bin/sh\n"})
	f.comment(n, "alice", "/housekeeper fix dirs")
	reply := f.lastReply(n)
	if !strings.Contains(reply.Body, "Committed ") {
		t.Fatalf("reply: %q", reply.Body)
	}
	// GitHub would now send synchronize for the new head.
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("synchronize", f.repo, n)); err != nil {
		t.Fatal(err)
	}
	dirs := f.runs(f.head(n))["housekeeper/dirs"]
	if dirs.Conclusion != "failure" {
		t.Fatalf("dirs after fix: %s", dirs.Conclusion)
	}
	for _, a := range dirs.Output.Annotations {
		if a.Title != "incomplete" {
			t.Errorf("after fix, only incomplete findings should remain: %s %s", a.Title, a.Message)
		}
	}
	if len(dirs.Output.Annotations) != 2 {
		t.Errorf("annotations after fix: %d, want 2 (one per stub)", len(dirs.Output.Annotations))
	}
}

func TestFixDirsFromForkRepliesWithPatch(t *testing.T) {
	f := newFixture(t)
	f.gh.SetPermission("acme", "infra", "alice", "write", "write")
	f.gh.AddRepo(githubtest.Repo{Owner: "outsider", Name: "infra", ForkOf: "acme/infra"})
	f.gh.SetBranch("outsider", "infra", "feature", f.gh.Branch("acme", "infra", "main"))
	f.gh.Push("outsider", "infra", "feature", map[string]string{"newtop/a.txt": "x\n"})
	pr := f.gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: "feature", HeadRepo: "outsider/infra"})
	f.comment(pr.Number, "alice", "/housekeeper fix dirs")
	if r := f.lastReply(pr.Number); !strings.Contains(r.Body, "```diff") || !strings.Contains(r.Body, "+| `newtop/` | TODO | TODO | TODO |") {
		t.Errorf("reply: %q", r.Body)
	}
}

func TestCommandsIgnoredFromBotsAndOnIssues(t *testing.T) {
	f := newFixture(t)
	n := f.pr("x", map[string]string{"apps/web/a.go": "package a\n"})
	f.comment(n, "dependabot[bot]", "/housekeeper help")
	if r := f.lastReply(n); r.Body != "" {
		t.Errorf("answered a bot: %q", r.Body)
	}
	issue := f.gh.AddIssue("acme", "infra")
	f.comment(issue, "carol", "/housekeeper help")
	if r := f.lastReply(issue); r.Body != "" {
		t.Errorf("answered on a plain issue: %q", r.Body)
	}
}

func TestRecheckIsRateLimited(t *testing.T) {
	f := newFixture(t)
	n := f.pr("x", map[string]string{"apps/web/a.go": "package a\n"})
	f.comment(n, "carol", "/housekeeper recheck")
	if r := f.lastReply(n); !strings.Contains(r.Body, "Re-running both checks") {
		t.Errorf("first recheck: %q", r.Body)
	}
	if got := len(f.runs(f.head(n))); got != 2 {
		t.Errorf("runs after recheck: %d", got)
	}
	f.comment(n, "carol", "/housekeeper recheck")
	if r := f.lastReply(n); !strings.Contains(r.Body, "slow down") {
		t.Errorf("second recheck: %q", r.Body)
	}
}
