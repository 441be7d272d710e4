package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/coord"
	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

func (f *fixture) appReplies(n int) []string {
	var out []string
	for _, c := range f.gh.Comments("acme", "infra", n) {
		if c.ViaApp {
			out = append(out, c.Body)
		}
	}
	return out
}

// A command comment handled twice (GitHub's redelivery, or a replica that
// died after replying and whose work another took over) is answered once.
func TestCommandReplyIsIdempotent(t *testing.T) {
	f := newFixture(t)
	n := f.pr("x", map[string]string{"apps/web/a.go": "package a\n"})
	c := f.gh.AddComment("acme", "infra", n, "carol", "/housekeeper help")
	ev := f.gh.IssueCommentEvent("created", f.repo, c.ID)
	for range 2 {
		if err := f.deliver("issue_comment", ev); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.appReplies(n); len(got) != 1 {
		t.Fatalf("%d replies to one comment handled twice, want 1:\n%s", len(got), strings.Join(got, "\n----\n"))
	}
	// Another comment with the same command gets its own answer.
	f.comment(n, "carol", "/housekeeper help")
	if got := f.appReplies(n); len(got) != 2 {
		t.Fatalf("%d replies to two comments, want 2", len(got))
	}
}

// Commands are limited per user and repository and per installation,
// usage errors and help included; past a limit one notice says so, then
// the App stays quiet until the minute has passed.
func TestCommandLimits(t *testing.T) {
	f := newFixture(t)
	f.runner.CommandLimitUser, f.runner.CommandLimitInstallation = 3, 5
	n := f.pr("x", map[string]string{"apps/web/a.go": "package a\n"})
	for i := range 3 {
		body := "/housekeeper help"
		if i == 1 {
			body = "/housekeeper frobnicate" // a usage error counts too
		}
		f.comment(n, "carol", body)
	}
	if got := len(f.appReplies(n)); got != 3 {
		t.Fatalf("%d replies to 3 commands", got)
	}
	f.comment(n, "carol", "/housekeeper help")
	notice := f.lastReply(n).Body
	if want := "Slow down: Housekeeper answers at most 3 commands a minute per user and repository. Try again in "; !strings.Contains(notice, want) {
		t.Fatalf("4th command of 3 a minute: reply %q, want it to contain %q", notice, want)
	}
	f.comment(n, "carol", "/housekeeper help")
	f.comment(n, "carol", "/housekeeper recheck")
	if got := len(f.appReplies(n)); got != 4 {
		t.Fatalf("%d replies after the notice, want none more (4 in all)", got)
	}
	// Another user still gets answers, until the installation's 5.
	f.comment(n, "dave", "/housekeeper help")
	f.comment(n, "dave", "/housekeeper help")
	if got := len(f.appReplies(n)); got != 6 {
		t.Fatalf("dave's two commands: %d replies in all, want 6", got)
	}
	f.comment(n, "dave", "/housekeeper help")
	if r := f.lastReply(n).Body; !strings.Contains(r, "at most 5 commands a minute per installation") {
		t.Fatalf("past the installation's limit: %q", r)
	}
}

// auditedRepos counts the fixture's repositories whose default branch has
// a completed run; an audit posts one only for a check with findings, and
// orgFixture gives every fifth repository an unregistered directory.
func auditedRepos(f *fixture, n int) int {
	done := 0
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("svc-%02d", i)
		for _, r := range f.gh.CheckRuns("acme", name, f.gh.Branch("acme", name, "main")) {
			if r.Status == "completed" && r.Name == "housekeeper/dirs" && r.Conclusion == "failure" {
				done++
			}
		}
	}
	return done
}

// With several replicas the audit queue is in the shared state: audits
// queued by one replica are run by the leader's Run, and dropping an
// installation skips what it had queued.
func TestAuditQueueInSharedState(t *testing.T) {
	f, inst := orgFixture(t, 10, githubtest.WithContentCreationLimit(1000))
	f.auditor.Shared = coord.NewMemory(coord.MemoryOptions{})
	if err := f.deliver("installation", f.gh.InstallationEvent("created", inst)); err != nil {
		t.Fatal(err)
	}
	if n := f.auditor.Pending(); n != 10 {
		t.Fatalf("%d audits queued, want 10 (nothing runs before the leader does)", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.auditor.Run(ctx)
	deadline := time.Now().Add(60 * time.Second)
	for auditedRepos(f, 10) < 2 || f.auditor.Pending() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of the 2 repositories with findings audited; %d audits pending", auditedRepos(f, 10), f.auditor.Pending())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()

	// Queued, then the installation suspended: nothing is audited.
	g, inst2 := orgFixture(t, 10)
	g.auditor.Shared = coord.NewMemory(coord.MemoryOptions{})
	for _, action := range []string{"created", "suspend"} {
		if err := g.deliver("installation", g.gh.InstallationEvent(action, inst2)); err != nil {
			t.Fatal(err)
		}
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go g.auditor.Run(ctx2)
	time.Sleep(1500 * time.Millisecond)
	if n := auditedRepos(g, 10); n != 0 {
		t.Fatalf("%d repositories of a suspended installation audited", n)
	}
}
