package handlers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/publish"
)

func TestMergeGroupHonoursThePRsIgnores(t *testing.T) {
	f := newFixture(t)
	f.gh.SetPermission("acme", "infra", "alice", "write", "write")
	n, fp := leakPR(t, f)
	f.comment(n, "alice", "/housekeeper ignore "+fp+" rotated already")
	// The queue builds its group commit on top of main with the PR's change.
	head := f.head(n)
	if err := f.deliver("merge_group", f.gh.MergeGroupEvent("checks_requested", f.repo, n, head)); err != nil {
		t.Fatal(err)
	}
	runs := f.runs(head)
	if runs["housekeeper/secrets"].Conclusion != "success" || runs["housekeeper/dirs"].Status != "completed" {
		t.Errorf("merge group runs: secrets %s, dirs %s\n%s", runs["housekeeper/secrets"].Conclusion, runs["housekeeper/dirs"].Status, runs["housekeeper/secrets"].Output.Summary)
	}
}

func TestPushToDefaultBranchRechecksIt(t *testing.T) {
	f := newFixture(t)
	before := f.gh.Branch("acme", "infra", "main")
	after := f.gh.Push("acme", "infra", "main", map[string]string{"stray/x.txt": "x\n"})
	if err := f.deliver("push", f.gh.PushEvent(f.repo, "main", before, after)); err != nil {
		t.Fatal(err)
	}
	dirs := f.runs(after)["housekeeper/dirs"]
	if dirs.Conclusion != "failure" || !contains(annotations(dirs), "stray/x.txt:1 failure") {
		t.Errorf("push run: %s %v", dirs.Conclusion, annotations(dirs))
	}
	// A push to another branch is not the default branch's business.
	f.gh.SetBranch("acme", "infra", "topic", after)
	other := f.gh.Push("acme", "infra", "topic", map[string]string{"more/x.txt": "x\n"})
	if err := f.deliver("push", f.gh.PushEvent(f.repo, "topic", after, other)); err != nil {
		t.Fatal(err)
	}
	if runs := f.gh.CheckRuns("acme", "infra", other); len(runs) != 0 {
		t.Errorf("runs on a topic-branch push: %d", len(runs))
	}
}

// orgFixture installs the App on an organisation with n repositories.
func orgFixture(t testing.TB, n int, opts ...githubtest.Option) (*fixture, int64) {
	return orgFixtureEvery(t, n, 5, opts...)
}

// orgFixtureEvery gives every k-th repository an unregistered directory.
func orgFixtureEvery(t testing.TB, n, k int, opts ...githubtest.Option) (*fixture, int64) {
	f := newFixture(t, opts...)
	var repos []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("svc-%02d", i)
		f.gh.AddRepo(githubtest.Repo{Owner: "acme", Name: name})
		files := map[string]string{"docs/dir.md": mapMD, "apps/web/main.go": "package main\n", "infra/main.tf": "terraform {}\n"}
		if i%k == 0 {
			files["undocumented/x.txt"] = "x\n"
		}
		f.gh.Push("acme", name, "main", files)
		repos = append(repos, "acme/"+name)
	}
	inst := f.gh.AddInstallation(githubtest.Installation{Account: "acme", Repos: repos})
	return f, inst
}

func TestInstallationAuditsEveryRepository(t *testing.T) {
	// The App paces content-creating requests below the emulator's ceiling
	// (GitHub's is 80 a minute; both are scaled up here to keep the test
	// short: the ratio is what matters).
	f, inst := orgFixture(t, 50, githubtest.WithContentCreationLimit(1000))
	f.runner.Pacer = publish.NewPacer(900)
	f.gh.ResetCalls()
	if err := f.deliver("installation", f.gh.InstallationEvent("created", inst)); err != nil {
		t.Fatal(err)
	}
	waitAudits(t, f)
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("svc-%02d", i)
		runs := map[string]githubtest.CheckRun{}
		for _, r := range f.gh.CheckRuns("acme", name, f.gh.Branch("acme", name, "main")) {
			runs[r.Name] = r
		}
		// A clean default branch gets no run; one with findings gets a run
		// for the check that has them, and only that one.
		want := ""
		if i%5 == 0 {
			want = "failure"
		}
		if runs["housekeeper/dirs"].Conclusion != want || len(runs) != len(want)/len("failure") {
			t.Errorf("%s: dirs %q (want %q), %d runs", name, runs["housekeeper/dirs"].Conclusion, want, len(runs))
		}
	}
	if hits := f.gh.LimitHits(); len(hits) > 0 {
		t.Errorf("%d requests beyond the emulator's limits: %+v", len(hits), hits[0])
	}
	t.Logf("API calls for 50 repositories: %d (%.1f per repository)", f.gh.Calls().Total, float64(f.gh.Calls().Total)/50)
}

func TestSuspendDropsPendingAudits(t *testing.T) {
	f, inst := orgFixtureEvery(t, 20, 1, githubtest.WithLatency(20*time.Millisecond))
	if err := f.deliver("installation", f.gh.InstallationEvent("created", inst)); err != nil {
		t.Fatal(err)
	}
	if err := f.deliver("installation", f.gh.InstallationEvent("suspend", inst)); err != nil {
		t.Fatal(err)
	}
	waitAudits(t, f)
	audited := 0
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("svc-%02d", i)
		if len(f.gh.CheckRuns("acme", name, f.gh.Branch("acme", name, "main"))) > 0 {
			audited++
		}
	}
	if audited > 4 {
		t.Errorf("%d of 20 repositories audited after the suspension", audited)
	}
	// A run cut short by the suspension is never left in progress.
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("svc-%02d", i)
		for _, r := range f.gh.CheckRuns("acme", name, f.gh.Branch("acme", name, "main")) {
			if r.Status != "completed" {
				t.Errorf("%s %s left %s", name, r.Name, r.Status)
			}
		}
	}
}

func waitAudits(t testing.TB, f *fixture) {
	deadline := time.Now().Add(60 * time.Second)
	for f.auditor.Pending() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("audits still pending: %d", f.auditor.Pending())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConfigInheritedFromTheOrganisation(t *testing.T) {
	f := newFixture(t)
	f.gh.AddRepo(githubtest.Repo{Owner: "acme", Name: ".github"})
	f.gh.Push("acme", ".github", "main", map[string]string{".github/housekeeper.yml": "dirs:\n  enforce: false\n"})
	f.gh.SetInstallationRepos(f.inst, "acme/infra", "acme/.github")
	n := f.pr("org", map[string]string{"undocumented/x.txt": "x\n"})
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, n)); err != nil {
		t.Fatal(err)
	}
	dirs := f.runs(f.head(n))["housekeeper/dirs"]
	if dirs.Conclusion != "neutral" || !strings.Contains(dirs.Output.Summary, "acme/.github:.github/housekeeper.yml") || !strings.Contains(dirs.Output.Summary, "Report-only") {
		t.Errorf("dirs: %s\n%s", dirs.Conclusion, dirs.Output.Summary)
	}
	// The repository's own config wins over the organisation's.
	f.gh.Push("acme", "infra", "main", map[string]string{".github/housekeeper.yml": "dirs:\n  enforce: true\n"})
	m := f.pr("own", map[string]string{"undocumented2/x.txt": "x\n"})
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, m)); err != nil {
		t.Fatal(err)
	}
	if got := f.runs(f.head(m))["housekeeper/dirs"]; got.Conclusion != "failure" || !strings.Contains(got.Output.Summary, "acme/infra@main:.github/housekeeper.yml") {
		t.Errorf("own config: %s\n%s", got.Conclusion, got.Output.Summary)
	}
}

func TestPullRequestEditingTheConfig(t *testing.T) {
	f := newFixture(t)
	bad := f.pr("badcfg", map[string]string{".github/housekeeper.yml": "dirs:\n  enforce: nope\n"})
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, bad)); err == nil {
		t.Error("an invalid config in the PR should fail the runs")
	}
	for name, r := range f.runs(f.head(bad)) {
		if r.Conclusion != "failure" || !strings.Contains(r.Output.Summary, "applies after merge") && !strings.Contains(r.Output.Summary, "would apply after merge") {
			t.Errorf("%s: %s\n%s", name, r.Conclusion, r.Output.Summary)
		}
	}
	good := f.pr("goodcfg", map[string]string{".github/housekeeper.yml": "dirs:\n  enforce: false\n", "undocumented/x": "x\n"})
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, good)); err != nil {
		t.Fatal(err)
	}
	// The base branch's rules judge the PR: still enforced.
	dirs := f.runs(f.head(good))["housekeeper/dirs"]
	if dirs.Conclusion != "failure" || !strings.Contains(dirs.Output.Summary, "applies once merged") {
		t.Errorf("dirs: %s\n%s", dirs.Conclusion, dirs.Output.Summary)
	}
}

// BenchmarkInstallation installs the App on an organisation of 50
// repositories and reports the API calls each baseline audit took.
//
//	go test ./handlers -run '^$' -bench Installation -benchtime 1x
func BenchmarkInstallation(b *testing.B) {
	for i := 0; i < b.N; i++ {
		f, inst := orgFixture(b, 50, githubtest.WithContentCreationLimit(1000))
		f.runner.Pacer = publish.NewPacer(900)
		f.gh.ResetCalls()
		if err := f.deliver("installation", f.gh.InstallationEvent("created", inst)); err != nil {
			b.Fatal(err)
		}
		waitAudits(b, f)
		b.ReportMetric(float64(f.gh.Calls().Total)/50, "calls/repo")
		b.ReportMetric(float64(len(f.gh.LimitHits())), "limit-hits")
	}
}
