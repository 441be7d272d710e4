package handlers_test

import (
	"context"
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
// repositories (every fifth with an unregistered directory, all with a
// map) and reports, per repository, the API calls (tarball downloads go to
// codeload and are counted apart), the content-creating requests, and how
// long a 5,000-repository baseline of the same mix takes at GitHub's
// limits: 5,000 requests an hour per installation, 80 content-creating
// requests a minute and 500 an hour. A pull request delivered in the
// middle of the baseline is timed against one on an idle App.
//
//	go test ./handlers -run '^$' -bench Installation -benchtime 1x
func BenchmarkInstallation(b *testing.B) {
	for i := 0; i < b.N; i++ {
		f, inst := orgFixture(b, 50, githubtest.WithContentCreationLimit(100000))
		baselineFigures(b, f, inst, 50, "svc-01")
	}
}

// BenchmarkInstallationOnboarding is the same on the onboarding
// scenario's organisation: 20 of its 50 repositories get an onboarding
// pull request.
//
//	go test ./handlers -run '^$' -bench InstallationOnboarding -benchtime 1x
func BenchmarkInstallationOnboarding(b *testing.B) {
	for i := 0; i < b.N; i++ {
		f, inst, _ := onboardingOrg(b, "")
		baselineFigures(b, f, inst, 50, "mapped-00")
	}
}

func baselineFigures(b *testing.B, f *fixture, inst int64, repos int, prRepo string) {
	// Pacing scaled up a hundredfold (GitHub: 80 a minute shared, 8 for
	// background work); the ratio is what matters.
	f.runner.Pacer = publish.NewPacer(8000)
	f.auditor.Pace = publish.NewPacer(800)
	f.gh.ResetCalls()
	idle := prLatency(b, f, prRepo, "idle")
	// The pull request delivered during the baseline costs the same as
	// this one; it is taken out of the baseline's figures.
	prCalls, prCreates, _ := countCalls(f.gh.Calls())
	f.gh.ResetCalls()
	if err := f.deliver("installation", f.gh.InstallationEvent("created", inst)); err != nil {
		b.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // well into the baseline
	busy := prLatency(b, f, prRepo, "busy")
	waitAudits(b, f)
	total, creates, downloads := countCalls(f.gh.Calls())
	total, creates = total-prCalls, creates-prCreates
	n := float64(repos)
	perCall, perCreate := float64(total)/n, float64(creates)/n
	const org = 5000.0
	hours := max(perCall*org/5000, perCreate*org/500, perCreate*org/80/60)
	b.ReportMetric(perCall, "calls/repo")
	b.ReportMetric(perCreate, "creates/repo")
	b.ReportMetric(float64(downloads)/n, "downloads/repo")
	b.ReportMetric(hours, "hours/5000-repos")
	b.ReportMetric(float64(idle.Milliseconds()), "pr-idle-ms")
	b.ReportMetric(float64(busy.Milliseconds()), "pr-during-baseline-ms")
	b.ReportMetric(float64(len(f.gh.LimitHits())), "limit-hits")
	b.Logf("%d repositories: %d API calls (%.2f each), %d content-creating (%.2f each), %d tarball downloads; a 5,000-repository baseline of this mix takes %.1f h at GitHub's limits (primary %.1f h, 500 creates/h %.1f h, 80 creates/min %.2f h); a pull request took %v idle and %v during the baseline",
		repos, total, perCall, creates, perCreate, downloads, hours, perCall*org/5000, perCreate*org/500, perCreate*org/80/60, idle, busy)
}

// prLatency opens a pull request and times its event.
func prLatency(b *testing.B, f *fixture, repo, branch string) time.Duration {
	f.gh.SetBranch("acme", repo, branch, f.gh.Branch("acme", repo, "main"))
	f.gh.Push("acme", repo, branch, map[string]string{"apps/web/" + branch + ".go": "package main\n"})
	pr := f.gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: repo, Head: branch, Title: branch})
	start := time.Now()
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", "acme/"+repo, pr.Number)); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// countCalls counts API calls, content-creating requests (what GitHub's
// secondary limits count: writes other than token requests) and tarball
// links (each followed by one codeload download, not an API call).
func countCalls(c githubtest.Calls) (total, creates, downloads int) {
	for _, r := range c.Requests {
		switch {
		case r.Operation == "GET /repos/{owner}/{repo}/tarball/{ref}":
			downloads++
		case r.Method == "POST" || r.Method == "PATCH" || r.Method == "PUT" || r.Method == "DELETE":
			if !strings.Contains(r.Operation, "access_tokens") {
				creates++
			}
		}
	}
	return c.Total, creates, downloads
}

// A baseline waits for the reset while its requests would cut into the
// tenth of the installation's hourly budget kept for pull requests (here
// 8 of 50 are left, and an audit reserves 10). With nowhere to defer it
// to (no timers, no shared queue), the audit's worker waits.
func TestBaselineKeepsBudgetForPullRequests(t *testing.T) {
	f, inst := orgFixture(t, 5, githubtest.WithRateLimit(50))
	client, err := f.cc.NewInstallationClient(inst)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 42; i++ { // what pull requests already spent this hour
		if _, _, err := client.Repositories.Get(context.Background(), "acme", "svc-00"); err != nil {
			t.Fatal(err)
		}
	}
	f.gh.ResetCalls()
	if err := f.deliver("installation", f.gh.InstallationEvent("created", inst)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if n := f.gh.Calls().Count("GET /repos/{owner}/{repo}/tarball/{ref}"); n != 0 || f.auditor.Pending() != 5 {
		t.Errorf("%d tarballs read and %d audits pending with 8 of 50 requests left", n, f.auditor.Pending())
	}
}

// The baseline's namespace check reads the manifests from its one tarball.
func TestBaselineNamespaceDrift(t *testing.T) {
	f := newFixture(t)
	main := f.gh.Push("acme", "infra", "main", map[string]string{
		".github/housekeeper.yml": verifyConfig,
		"docs/dir.md":             mapMD + "| `apps/api/` | API | L1 | api |\n",
		"apps/web/deploy.yaml":    deployment("web-prod"),
		"apps/api/deploy.yaml":    deployment("api"),
	})
	f.gh.ResetCalls()
	install(t, f, f.inst)
	dirs := f.runs(main)["housekeeper/dirs"]
	if !contains(annotations(dirs), "apps/web/deploy.yaml:5 warning") || strings.Contains(fmt.Sprint(annotations(dirs)), "apps/api") {
		t.Errorf("baseline dirs run: %s %v\n%s", dirs.Conclusion, annotations(dirs), dirs.Output.Summary)
	}
	if n := f.gh.Calls().Count("GET /repos/{owner}/{repo}/git/blobs/{file_sha}"); n != 0 {
		t.Errorf("%d blob reads besides the tarball", n)
	}
}
