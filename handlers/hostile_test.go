package handlers_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

var markerTextRE = regexp.MustCompile(`<!-- housekeeper:v\d [A-Za-z0-9_-]+ -->`)

// withdrawnIgnore opens a leaking PR, has alice ignore and then unignore
// its finding, and returns the PR, the fingerprint and the ignore's marker
// as the App wrote it.
func withdrawnIgnore(t *testing.T, f *fixture, branch string) (int, string) {
	t.Helper()
	f.gh.SetPermission("acme", "infra", "alice", "write", "write")
	n, fp := leakPR(t, f)
	f.comment(n, "alice", "/housekeeper ignore "+fp+" a fixture")
	m := markerTextRE.FindString(f.lastReply(n).Body)
	if m == "" {
		t.Fatalf("no marker in %q", f.lastReply(n).Body)
	}
	f.comment(n, "alice", "/housekeeper unignore "+fp)
	if got := f.runs(f.head(n))["housekeeper/secrets"].Conclusion; got != "failure" {
		t.Fatalf("after unignore: %s", got)
	}
	return n, m
}

// TestReplayedMarkerInDirectoryName: the author plants the withdrawn
// ignore's marker in a directory name; a maintainer's /housekeeper fix dirs
// must not re-publish it where it counts (issue 10, item 4).
func TestReplayedMarkerInDirectoryName(t *testing.T) {
	f := newFixture(t)
	n, m := withdrawnIgnore(t, f, "leak")
	f.gh.Push("acme", "infra", "leak", map[string]string{m + "/x.txt": "x\n", "tools/ok.sh": "#!/bin/sh\n"})
	f.gh.SetPermission("acme", "infra", "maint", "admin", "admin")
	f.comment(n, "maint", "/housekeeper fix dirs")
	reply := f.lastReply(n)
	if strings.Contains(reply.Body, "<!--") {
		t.Errorf("fix dirs reply repeats an HTML comment: %q", reply.Body)
	}
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("synchronize", f.repo, n)); err != nil {
		t.Fatal(err)
	}
	runs := f.runs(f.head(n))
	if got := runs["housekeeper/secrets"].Conclusion; got != "failure" {
		t.Errorf("the withdrawn ignore is honoured again: secrets %s", got)
	}
	dirs := runs["housekeeper/dirs"]
	if !strings.Contains(dirs.Output.Summary, "cannot be registered") || strings.Contains(dirs.Output.Summary, "<!--") {
		t.Errorf("dirs summary:\n%s", dirs.Output.Summary)
	}
}

// TestReplayedMarkerInMapLine: a fork writes the marker into a map line next
// to where the fix goes, so the fork reply's patch would repeat it.
func TestReplayedMarkerInMapLine(t *testing.T) {
	f := newFixture(t)
	n, m := withdrawnIgnore(t, f, "leak")
	_ = n
	f.gh.AddRepo(githubtest.Repo{Owner: "outsider", Name: "infra", ForkOf: "acme/infra"})
	f.gh.SetBranch("outsider", "infra", "feature", f.gh.Branch("acme", "infra", "main"))
	f.gh.Push("outsider", "infra", "feature", map[string]string{"newtop/a.txt": "x\n", "docs/dir.md": mapMD + "| `zzz/` " + m + " | x | L1 | - |\n", "zzz/a": "x\n"})
	pr := f.gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: "feature", HeadRepo: "outsider/infra"})
	f.comment(pr.Number, "alice", "/housekeeper fix dirs")
	if r := f.lastReply(pr.Number); strings.Contains(r.Body, "<!--") || !strings.Contains(r.Body, "housekeeper check --base") {
		t.Errorf("fork reply: %q", r.Body)
	}
}

// TestMentionsInRepliesAreDefused: anyone's usage error must not make the
// App ping a team or render a link (issue 10, item 7).
func TestMentionsInRepliesAreDefused(t *testing.T) {
	f := newFixture(t)
	n := f.pr("x", map[string]string{"apps/web/a.go": "package a\n"})
	f.comment(n, "mallory", "/housekeeper ignore @acme/security-team because [click](https://evil.example)")
	r := f.lastReply(n).Body
	if regexp.MustCompile(`(^|[^\x60])@acme`).MatchString(stripCodeSpans(r)) || strings.Contains(stripCodeSpans(r), "](") {
		t.Errorf("reply pings or links: %q", r)
	}
	if !strings.Contains(r, "`@acme/security-team` is not a fingerprint") {
		t.Errorf("reply: %q", r)
	}
}

// stripCodeSpans drops single-backtick code spans (what the replies use for
// short arguments).
func stripCodeSpans(s string) string {
	return regexp.MustCompile("`[^`]*`").ReplaceAllString(s, "")
}

// TestPushHonoursOnlyTheMergedPR: a push to the default branch applies the
// ignores of the pull request it merged, never those of another pull
// request that merely contains the commit (issue 10, item 10).
func TestPushHonoursOnlyTheMergedPR(t *testing.T) {
	f := newFixture(t)
	f.gh.SetPermission("acme", "infra", "alice", "write", "write")
	main := f.gh.Branch("acme", "infra", "main")
	leak := map[string]string{"infra/creds.tf": "access_key = \"" + fakeAWSKey(9) + "\"\n"}

	// A pull request into another branch, its finding ignored there.
	f.gh.SetBranch("acme", "infra", "develop", main)
	f.gh.SetBranch("acme", "infra", "leak", main)
	head := f.gh.Push("acme", "infra", "leak", leak)
	dev := f.gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Base: "develop", Head: "leak", Title: "leak"}).Number
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, dev)); err != nil {
		t.Fatal(err)
	}
	fp := fpRE.FindString(f.runs(head)["housekeeper/secrets"].Output.Summary)
	f.comment(dev, "alice", "/housekeeper ignore "+fp+" fine on develop")
	if got := f.runs(head)["housekeeper/secrets"].Conclusion; got != "success" {
		t.Fatalf("ignore on develop: %s", got)
	}
	// Its head pushed straight to main: that pull request did not merge it.
	f.gh.SetBranch("acme", "infra", "main", head)
	if err := f.deliver("push", f.gh.PushEvent(f.repo, "main", main, head)); err != nil {
		t.Fatal(err)
	}
	if got := f.runs(head)["housekeeper/secrets"]; got.Conclusion != "failure" {
		t.Errorf("a push to main honoured the ignores of a pull request into develop: %s", got.Conclusion)
	}

	// A pull request into main, merged: the merge's push honours its ignore.
	f.gh.SetBranch("acme", "infra", "main", main)
	f.gh.SetBranch("acme", "infra", "leak2", main)
	f.gh.Push("acme", "infra", "leak2", leak)
	n := f.gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: "leak2", Title: "leak2"}).Number
	f.comment(n, "alice", "/housekeeper ignore "+fp+" a fixture")
	merge := f.gh.MergePullRequest("acme", "infra", n)
	if err := f.deliver("push", f.gh.PushEvent(f.repo, "main", main, merge)); err != nil {
		t.Fatal(err)
	}
	if got := f.runs(merge)["housekeeper/secrets"]; got.Conclusion != "success" {
		t.Errorf("merge push: %s\n%s", got.Conclusion, got.Output.Summary)
	}
}

// TestHostileMapIsReadOrRefused: a 1 MiB map built against a Markdown
// parser (goldmark was quadratic on it: minutes) gives both runs an outcome,
// and a map over GitHub's 1 MB contents limit is still read.
func TestHostileMapIsReadOrRefused(t *testing.T) {
	f := newFixture(t)
	for name, tc := range map[string]struct {
		mapText string
		want    string // in the dirs summary
	}{
		"open links":     {mapMD + strings.Repeat("[a](", 1<<18), "unregistered"},
		"block quotes":   {mapMD + strings.Repeat(">", 1<<20), "nested block quotes or list items"},
		"over 1 MB":      {mapMD + strings.Repeat("| `apps/web/` | Web "+strings.Repeat("x", 80)+" | L99 | web |\n", 10_000), "unregistered"},
		"too many lines": {mapMD + strings.Repeat("| `apps/web/` | Web | L99 | web |\n", 20_000), "over the 20000-line limit"},
		"over 4 MiB":     {mapMD + strings.Repeat("x", 6<<20), "the map is 6.0 MiB, over the 4 MiB limit"},
		"typo in table":  {strings.Replace(mapMD, "|---|---|---|---|", "|---|---|---|", 1), "delimiter row below it has 3"},
	} {
		t.Run(name, func(t *testing.T) {
			n := f.pr("map-"+strings.ReplaceAll(name, " ", "-"), map[string]string{"docs/dir.md": tc.mapText, "newdir/a.tf": "# x\n"})
			if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, n)); err != nil {
				t.Fatal(err)
			}
			dirs := f.runs(f.head(n))["housekeeper/dirs"]
			if dirs.Conclusion != "failure" || !strings.Contains(dirs.Output.Summary, tc.want) || strings.Contains(dirs.Output.Title, "could not finish") {
				t.Errorf("dirs %s %q:\n%.2000s", dirs.Conclusion, dirs.Output.Title, dirs.Output.Summary)
			}
		})
	}
}
