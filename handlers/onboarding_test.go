package handlers_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/onboarding"
)

// onboardingOrg builds the organisation of the onboarding scenario: 50
// repositories — 20 active without a map, 5 archived, 3 forks, 2 empty,
// the organisation's .github repository, and 19 that have a map — with
// the App installed on all of them.
func onboardingOrg(t testing.TB, orgConfig string) (*fixture, int64, []string) {
	f := newFixture(t, githubtest.WithContentCreationLimit(100000))
	f.gh.AddOrg("upstream")
	var active []string
	add := func(name string, r githubtest.Repo, files map[string]string) {
		r.Owner, r.Name = "acme", name
		f.gh.AddRepo(r)
		if files != nil {
			f.gh.Push("acme", name, "main", files)
		}
	}
	tree := func(i int) map[string]string {
		return map[string]string{
			"README.md":                       "# svc\n\nService number " + fmt.Sprint(i) + ".\n",
			"charts/web/Chart.yaml":           "name: web\ndescription: The web frontend.\n",
			"charts/web/values.yaml":          "namespaceOverride: web\n",
			"terraform/modules/vpc/main.tf":   "resource \"aws_vpc\" \"x\" {}\n",
			"cmd/svc/main.go":                 "// Command svc serves.\npackage main\n",
			fmt.Sprintf("extra%d/f.txt", i%3): "x\n",
		}
	}
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("svc-%02d", i)
		add(name, githubtest.Repo{}, tree(i))
		active = append(active, name)
	}
	for i := 0; i < 5; i++ {
		add(fmt.Sprintf("old-%d", i), githubtest.Repo{Archived: true}, tree(i))
	}
	for i := 0; i < 3; i++ {
		up := fmt.Sprintf("lib-%d", i)
		f.gh.AddRepo(githubtest.Repo{Owner: "upstream", Name: up})
		f.gh.Push("upstream", up, "main", tree(i))
		add(fmt.Sprintf("fork-%d", i), githubtest.Repo{ForkOf: "upstream/" + up}, nil)
	}
	for i := 0; i < 2; i++ {
		add(fmt.Sprintf("empty-%d", i), githubtest.Repo{}, nil)
	}
	dotGithub := map[string]string{"profile/README.md": "# acme\n"}
	if orgConfig != "" {
		dotGithub[".github/housekeeper.yml"] = orgConfig
	}
	add(".github", githubtest.Repo{}, dotGithub)
	for i := 0; i < 18; i++ {
		add(fmt.Sprintf("mapped-%02d", i), githubtest.Repo{}, map[string]string{"docs/dir.md": mapMD, "apps/web/main.go": "package main\n", "infra/main.tf": "terraform {}\n"})
	}
	// With acme/infra from the fixture, 50 repositories in all.
	inst := f.gh.AddInstallation(githubtest.Installation{Account: "acme", All: true})
	return f, inst, active
}

// onboardingPRs lists every pull request from the onboarding branch.
func onboardingPRs(f *fixture) map[string][]githubtest.PullRequest {
	out := map[string][]githubtest.PullRequest{}
	for _, repo := range f.gh.Repos("acme") {
		for _, pr := range f.gh.PullRequests("acme", repo) {
			if pr.Head == onboarding.Branch {
				out[repo] = append(out[repo], pr)
			}
		}
	}
	return out
}

func install(t *testing.T, f *fixture, inst int64) {
	t.Helper()
	if err := f.deliver("installation", f.gh.InstallationEvent("created", inst)); err != nil {
		t.Fatal(err)
	}
	waitAudits(t, f)
}

func TestOnboardingAnOrganisation(t *testing.T) {
	f, inst, active := onboardingOrg(t, "")
	if n := len(f.gh.Repos("acme")); n != 50 {
		t.Fatalf("the organisation has %d repositories, want 50", n)
	}
	install(t, f, inst)
	prs := onboardingPRs(f)
	if len(prs) != 20 {
		t.Errorf("%d repositories got an onboarding pull request, want 20: %v", len(prs), keys(prs))
	}
	for _, name := range active {
		list := prs[name]
		if len(list) != 1 {
			t.Errorf("%s: %d onboarding pull requests", name, len(list))
			continue
		}
		pr := list[0]
		if pr.Title != onboarding.Title || pr.State != "open" || !strings.HasPrefix(pr.User, "") {
			t.Errorf("%s: %+v", name, pr)
		}
		dirMD, ok := f.gh.File(pr.HeadSHA, "docs/dir.md")
		if !ok || !strings.Contains(dirMD, "| `charts/web/`") || !strings.Contains(dirMD, "The web frontend") {
			t.Errorf("%s: map on the branch:\n%s", name, dirMD)
		}
		if cfg, ok := f.gh.File(pr.HeadSHA, ".github/housekeeper.yml"); !ok || !strings.Contains(cfg, "# onboarding: true") {
			t.Errorf("%s: no commented config although neither the repository nor the organisation has one", name)
		}
		for _, want := range []string{"housekeeper/dirs", "housekeeper/secrets", "`terraform/`: Layer", "onboarding: false"} {
			if !strings.Contains(pr.Body, want) {
				t.Errorf("%s: description lacks %q", name, want)
			}
		}
	}

	// The pull request's own dirs run is the to-do list: every TODO left.
	first := prs[active[0]][0]
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", "acme/"+active[0], first.Number)); err != nil {
		t.Log(err) // the runs fail while TODOs are left
	}
	runs := map[string]githubtest.CheckRun{}
	for _, r := range f.gh.CheckRuns("acme", active[0], first.HeadSHA) {
		runs[r.Name] = r
	}
	if d := runs["housekeeper/dirs"]; d.Conclusion != "failure" || !strings.Contains(d.Output.Summary, "terraform has no Layer annotation") || strings.Contains(d.Output.Summary, "unregistered") {
		t.Errorf("the onboarding PR's dirs run: %s\n%s", d.Conclusion, d.Output.Summary)
	}
	if s := runs["housekeeper/secrets"]; s.Conclusion != "success" {
		t.Errorf("the onboarding PR's secrets run: %s", s.Conclusion)
	}

	// A redelivered installation event opens none.
	install(t, f, inst)
	// Nor does a restart: a new App (fresh runner and caches) on the same GitHub.
	g := f.restart()
	install(t, g, inst)
	if got := onboardingPRs(f); count(got) != 20 {
		t.Errorf("after a redelivery and a restart: %d onboarding pull requests, want 20", count(got))
	}

	// Closed unmerged: never reopened, even when the repository is added again.
	closed := prs[active[0]][0]
	f.gh.UpdatePullRequest("acme", active[0], closed.Number, func(p *githubtest.PullRequest) { p.State = "closed" })
	if err := g.deliver("installation_repositories", f.gh.InstallationRepositoriesEvent("added", inst, []string{"acme/" + active[0]}, nil)); err != nil {
		t.Fatal(err)
	}
	install(t, g, inst)
	if got := onboardingPRs(f)[active[0]]; len(got) != 1 || got[0].State != "closed" {
		t.Errorf("after closing and re-installing: %+v", got)
	}

	// Merged: the next pull request gets a real dirs check.
	merged := active[1]
	f.gh.MergePullRequest("acme", merged, prs[merged][0].Number)
	main := f.gh.Branch("acme", merged, "main")
	f.gh.SetBranch("acme", merged, "feature", main)
	f.gh.Push("acme", merged, "feature", map[string]string{"newdir/x.txt": "x\n"})
	pr := f.gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: merged, Head: "feature"})
	if err := g.deliver("pull_request", f.gh.PullRequestEvent("opened", "acme/"+merged, pr.Number)); err != nil {
		t.Fatal(err)
	}
	var dirs githubtest.CheckRun
	for _, r := range f.gh.CheckRuns("acme", merged, pr.HeadSHA) {
		if r.Name == "housekeeper/dirs" {
			dirs = r
		}
	}
	if dirs.Conclusion != "failure" || !strings.Contains(dirs.Output.Summary, "newdir") {
		t.Errorf("dirs check after the map was merged: %s\n%s", dirs.Conclusion, dirs.Output.Summary)
	}
	if v := f.gh.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

// While the pull request is the App's alone it follows the default
// branch; once someone else commits to it, it is theirs.
func TestOnboardingRefreshUntilSomeoneElseCommits(t *testing.T) {
	f, inst, active := onboardingOrg(t, "")
	install(t, f, inst)
	name := active[2]
	pr := onboardingPRs(f)[name][0]
	first := pr.HeadSHA
	// A push to the default branch refreshes it (no reinstall needed).
	before := f.gh.Branch("acme", name, "main")
	after := f.gh.Push("acme", name, "main", map[string]string{"ansible/site.yml": "- hosts: all\n"})
	if err := f.deliver("push", f.gh.PushEvent("acme/"+name, "main", before, after)); err != nil {
		t.Fatal(err)
	}
	waitAudits(t, f)
	pr, _ = f.gh.GetPullRequest("acme", name, pr.Number)
	if pr.HeadSHA == first {
		t.Fatal("the onboarding branch was not refreshed after the layout changed")
	}
	if m, _ := f.gh.File(pr.HeadSHA, "docs/dir.md"); !strings.Contains(m, "`ansible/`") {
		t.Errorf("refreshed map lacks ansible/:\n%s", m)
	}
	// Nothing changed: no new commit.
	refreshed := pr.HeadSHA
	install(t, f, inst)
	if pr, _ = f.gh.GetPullRequest("acme", name, pr.Number); pr.HeadSHA != refreshed {
		t.Error("the branch moved although the layout did not change")
	}
	// A person fills in a TODO on the branch: from then on it is theirs.
	f.gh.Push("acme", name, onboarding.Branch, map[string]string{"docs/dir.md": "edited by a person\n"})
	human := f.gh.Branch("acme", name, onboarding.Branch)
	f.gh.Push("acme", name, "main", map[string]string{"more/x.txt": "x\n"})
	install(t, f, inst)
	if got := f.gh.Branch("acme", name, onboarding.Branch); got != human {
		t.Error("the App rewrote a branch someone else had committed to")
	}
	if n := count(onboardingPRs(f)); n != 20 {
		t.Errorf("%d onboarding pull requests, want 20", n)
	}
}

func TestOnboardingSwitchedOffOrDryRun(t *testing.T) {
	for cfg, want := range map[string]int{"onboarding: false\n": 0, "onboarding: dry-run\n": 0, "dirs:\n  enforce: false\n": 20} {
		t.Run(strings.TrimSpace(cfg), func(t *testing.T) {
			f, inst, active := onboardingOrg(t, cfg)
			install(t, f, inst)
			prs := onboardingPRs(f)
			if count(prs) != want {
				t.Errorf("%d onboarding pull requests, want %d", count(prs), want)
			}
			if want > 0 {
				// The organisation has a config: no config file is added.
				if _, ok := f.gh.File(prs[active[0]][0].HeadSHA, ".github/housekeeper.yml"); ok {
					t.Error("a config file was added although the organisation has one")
				}
			}
			if f.gh.Branch("acme", active[0], onboarding.Branch) != "" && want == 0 {
				t.Error("a branch was pushed although onboarding is off or a dry run")
			}
		})
	}
}

// An installation that has not accepted pull requests write is skipped,
// not refused request by request.
func TestOnboardingWithoutPermission(t *testing.T) {
	f, _, active := onboardingOrg(t, "dashboard: true\n")
	inst := f.gh.AddInstallation(githubtest.Installation{Account: "acme", All: true,
		Permissions: map[string]string{"checks": "write", "contents": "read", "issues": "write", "pull_requests": "read", "metadata": "read"}})
	install(t, f, inst)
	if n := count(onboardingPRs(f)); n != 0 {
		t.Errorf("%d onboarding pull requests without the permission", n)
	}
	if hits := f.gh.Calls().ByStatus[403]; hits != 0 {
		t.Errorf("%d requests refused with 403", hits)
	}
	// The baseline says so, where people look: the dashboard.
	var body string
	for _, is := range f.gh.Issues("acme", active[0]) {
		body = is.Body
	}
	if !strings.Contains(body, "has not granted the App contents and pull requests write") {
		t.Errorf("dashboard does not say why there is no onboarding pull request:\n%s", body)
	}

	// Once the owner accepts the permissions, onboarding starts.
	f.gh.SetInstallationPermissions(inst, map[string]string{"checks": "write", "contents": "write", "issues": "write", "pull_requests": "write", "metadata": "read"})
	if err := f.deliver("installation", f.gh.InstallationEvent("new_permissions_accepted", inst)); err != nil {
		t.Fatal(err)
	}
	waitAudits(t, f)
	if n := count(onboardingPRs(f)); n != 20 {
		t.Errorf("%d onboarding pull requests after the permissions were accepted, want 20", n)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func count(m map[string][]githubtest.PullRequest) int {
	n := 0
	for _, l := range m {
		n += len(l)
	}
	return n
}

// A run that stopped between pushing the branch and opening the pull
// request (GitHub failed, the App restarted) is finished by the next one,
// on the same branch, without a second commit pile.
func TestOnboardingResumesAfterAFailedOpen(t *testing.T) {
	f, inst, active := onboardingOrg(t, "")
	f.gh.AddFault(githubtest.Fault{Kind: githubtest.FaultServerError, Operation: "POST /repos/{owner}/{repo}/pulls", Times: 20})
	install(t, f, inst)
	if n := count(onboardingPRs(f)); n != 0 {
		t.Fatalf("%d pull requests although GitHub refused them all", n)
	}
	if f.gh.Branch("acme", active[0], onboarding.Branch) == "" {
		t.Fatal("the branch was not pushed before the pull request failed")
	}
	g := f.restart()
	install(t, g, inst)
	prs := onboardingPRs(f)
	if count(prs) != 20 {
		t.Errorf("%d onboarding pull requests after the retry, want 20", count(prs))
	}
	for _, name := range active {
		if l := prs[name]; len(l) == 1 {
			if cs := f.gh.Commits(f.gh.Branch("acme", name, "main"), l[0].HeadSHA); len(cs) != 1 {
				t.Errorf("%s: %d commits on the branch, want 1", name, len(cs))
			}
		}
	}
}
