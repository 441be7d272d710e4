package handlers_test

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/handlers"
	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/marker"
	"github.com/housekeeper-app/housekeeper/internal/runner"
)

// fixture is an emulated GitHub with one installed repository.
type fixture struct {
	t       testing.TB
	gh      *githubtest.Server
	runner  *runner.Runner
	hs      map[string]githubapp.EventHandler
	repo    string
	cc      githubapp.ClientCreator
	inst    int64
	auditor *runner.Auditor
}

const mapMD = "# Map\n\n| Path | Function | Layer | Namespace |\n|---|---|---|---|\n" +
	"| `apps/` | Applications | L99 | - |\n| `apps/web/` | Web | L99 | web |\n| `infra/` | Terraform | L1 | - |\n| `docs/` | Docs | - | - |\n"

func newFixture(t testing.TB, opts ...githubtest.Option) *fixture {
	t.Helper()
	gh := githubtest.New(t, opts...)
	gh.AddOrg("acme")
	f := &fixture{t: t, gh: gh, repo: "acme/infra"}
	gh.AddRepo(githubtest.Repo{Owner: "acme", Name: "infra"})
	f.inst = gh.AddInstallation(githubtest.Installation{Account: "acme", Repos: []string{"acme/infra"}})
	gh.Push("acme", "infra", "main", map[string]string{
		"docs/dir.md":      mapMD,
		"apps/web/main.go": "package main\n",
		"infra/main.tf":    "terraform {}\n",
	})
	f.start()
	return f
}

// start builds the App (client creator, runner, auditor, handlers) on the
// fixture's emulator.
func (f *fixture) start() {
	t, gh := f.t, f.gh
	cc, err := githubapp.NewDefaultCachingClientCreator(gh.AppConfig())
	if err != nil {
		t.Fatal(err)
	}
	r := &runner.Runner{Clients: cc, AppID: gh.AppID(), MarkerKey: marker.Key([]byte(gh.WebhookSecret()))}
	f.runner, f.cc, f.hs = r, cc, map[string]githubapp.EventHandler{}
	f.auditor = &runner.Auditor{Runner: r}
	t.Cleanup(f.auditor.Close)
	for _, h := range handlers.All(r, f.auditor, cc) {
		for _, e := range h.Handles() {
			f.hs[e] = h
		}
	}
}

// restart is a new App process on the same GitHub: nothing in memory
// survives.
func (f *fixture) restart() *fixture {
	f.auditor.Close()
	g := &fixture{t: f.t, gh: f.gh, repo: f.repo, inst: f.inst}
	g.start()
	return g
}

func (f *fixture) deliver(event string, payload []byte) error {
	f.t.Helper()
	log := zerolog.Nop()
	if t, ok := f.t.(*testing.T); ok {
		log = zerolog.New(zerolog.NewTestWriter(t))
	}
	ctx := log.WithContext(context.Background())
	return f.hs[event].Handle(ctx, event, "delivery-"+event, payload)
}

// pr opens a pull request from a branch with the given commits.
func (f *fixture) pr(branch string, commits ...map[string]string) int {
	f.t.Helper()
	f.gh.SetBranch("acme", "infra", branch, f.gh.Branch("acme", "infra", "main"))
	for _, files := range commits {
		var del []string
		for p, c := range files {
			if c == "" {
				del = append(del, p)
				delete(files, p)
			}
		}
		f.gh.Push("acme", "infra", branch, files, del...)
	}
	pr := f.gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: branch, Title: branch})
	return pr.Number
}

func (f *fixture) runs(sha string) map[string]githubtest.CheckRun {
	out := map[string]githubtest.CheckRun{}
	for _, r := range f.gh.CheckRuns("acme", "infra", sha) {
		if _, dup := out[r.Name]; dup {
			f.t.Errorf("duplicate %s run on %s", r.Name, sha)
		}
		out[r.Name] = r
	}
	return out
}

// fakeAWSKey builds a key id at run time so no real-looking key is
// committed.
func fakeAWSKey(seed int64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	r := rand.New(rand.NewSource(seed))
	var b strings.Builder
	b.WriteString("AK" + "IA")
	for i := 0; i < 16; i++ {
		b.WriteByte(alphabet[r.Intn(len(alphabet))])
	}
	return b.String()
}

func TestLeakAndUnregisteredDirectoryFail(t *testing.T) {
	f := newFixture(t)
	key := fakeAWSKey(1)
	n := f.pr("leak", map[string]string{
		"apps/worker/main.go": "package main\n",
		"infra/creds.tf":      "provider \"aws\" {\n  region     = \"eu-west-1\"\n  access_key = \"" + key + "\"\n}\n",
	})
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, n)); err != nil {
		t.Fatal(err)
	}
	pr, _ := f.gh.GetPullRequest("acme", "infra", n)
	runs := f.runs(pr.HeadSHA)
	dirs, sec := runs["housekeeper/dirs"], runs["housekeeper/secrets"]
	if dirs.Status != "completed" || dirs.Conclusion != "failure" {
		t.Errorf("dirs run: %s/%s %q", dirs.Status, dirs.Conclusion, dirs.Output.Title)
	}
	if sec.Status != "completed" || sec.Conclusion != "failure" {
		t.Errorf("secrets run: %s/%s %q\n%s", sec.Status, sec.Conclusion, sec.Output.Title, sec.Output.Summary)
	}
	if got := annotations(dirs); !contains(got, "apps/worker/main.go:1 failure") {
		t.Errorf("dirs annotations: %v", got)
	}
	if got := annotations(sec); !contains(got, "infra/creds.tf:3 failure") {
		t.Errorf("secrets annotations: %v", got)
	}
	if dirs.ExternalID != fmt.Sprint(n) || sec.ExternalID != fmt.Sprint(n) {
		t.Errorf("external ids %q %q, want %d", dirs.ExternalID, sec.ExternalID, n)
	}
	for _, r := range runs {
		if strings.Contains(r.Output.Summary+r.Output.Title+fmt.Sprint(r.Output.Annotations), key) {
			t.Errorf("%s run shows the secret value", r.Name)
		}
	}
}

func TestCleanPullRequestPasses(t *testing.T) {
	f := newFixture(t)
	n := f.pr("clean", map[string]string{"apps/web/handler.go": "package main\n", "docs/dir.md": mapMD + "| `apps/api/` | API | L99 | api |\n", "apps/api/main.go": "package main\n"})
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, n)); err != nil {
		t.Fatal(err)
	}
	pr, _ := f.gh.GetPullRequest("acme", "infra", n)
	for name, r := range f.runs(pr.HeadSHA) {
		if r.Conclusion != "success" {
			t.Errorf("%s: %s %q\n%s", name, r.Conclusion, r.Output.Title, r.Output.Summary)
		}
	}
	if calls := f.gh.Calls(); calls.Total > 0 {
		t.Logf("API calls: %d", calls.Total)
	}
}

func TestSecretAddedThenRemovedStillFails(t *testing.T) {
	f := newFixture(t)
	key := fakeAWSKey(2)
	n := f.pr("history",
		map[string]string{"infra/creds.tf": "access_key = \"" + key + "\"\n"},
		map[string]string{"infra/creds.tf": "access_key = var.access_key\n"},
	)
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, n)); err != nil {
		t.Fatal(err)
	}
	pr, _ := f.gh.GetPullRequest("acme", "infra", n)
	sec := f.runs(pr.HeadSHA)["housekeeper/secrets"]
	if sec.Conclusion != "failure" || !strings.Contains(sec.Output.Summary, "no longer at the head") {
		t.Errorf("secrets: %s %q\n%s", sec.Conclusion, sec.Output.Title, sec.Output.Summary)
	}
}

func TestRedeliveryAndConcurrentEventsLeaveOneRunPerName(t *testing.T) {
	f := newFixture(t)
	n := f.pr("dup", map[string]string{"apps/x/main.go": "package main\n"})
	pr, _ := f.gh.GetPullRequest("acme", "infra", n)
	payloads := [][2]string{
		{"pull_request", string(f.gh.PullRequestEvent("opened", f.repo, n))},
		{"pull_request", string(f.gh.PullRequestEvent("synchronize", f.repo, n))},
		{"check_suite", string(f.gh.CheckSuiteEvent("requested", f.repo, pr.HeadSHA))},
		{"pull_request", string(f.gh.PullRequestEvent("opened", f.repo, n))},
	}
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		for _, p := range payloads {
			wg.Add(1)
			go func(event, body string) {
				defer wg.Done()
				if err := f.deliver(event, []byte(body)); err != nil {
					t.Error(err)
				}
			}(p[0], p[1])
		}
	}
	wg.Wait()
	runs := f.gh.CheckRuns("acme", "infra", pr.HeadSHA)
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2: %+v", len(runs), runs)
	}
	for _, r := range runs {
		if r.Status != "completed" {
			t.Errorf("%s left %s", r.Name, r.Status)
		}
	}
}

func TestInvalidConfigFailsClosed(t *testing.T) {
	f := newFixture(t)
	f.gh.Push("acme", "infra", "main", map[string]string{".github/housekeeper.yml": "dirs:\n  mapp: docs/dir.md\n"})
	n := f.pr("cfg", map[string]string{"apps/web/x.go": "package main\n"})
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, n)); err == nil {
		t.Error("want the invalid config reported as an error")
	}
	pr, _ := f.gh.GetPullRequest("acme", "infra", n)
	for name, r := range f.runs(pr.HeadSHA) {
		if r.Status != "completed" || r.Conclusion != "failure" || !strings.Contains(r.Output.Summary, "dirs.mapp: unknown key") {
			t.Errorf("%s: %s/%s %q\n%s", name, r.Status, r.Conclusion, r.Output.Title, r.Output.Summary)
		}
	}
}

func annotations(r githubtest.CheckRun) []string {
	var out []string
	for _, a := range r.Output.Annotations {
		out = append(out, fmt.Sprintf("%s:%d %s", a.Path, a.StartLine, a.AnnotationLevel))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestForkPullRequest(t *testing.T) {
	f := newFixture(t)
	f.gh.AddRepo(githubtest.Repo{Owner: "outsider", Name: "infra", ForkOf: "acme/infra"})
	f.gh.SetBranch("outsider", "infra", "feature", f.gh.Branch("acme", "infra", "main"))
	key := fakeAWSKey(3)
	f.gh.Push("outsider", "infra", "feature", map[string]string{"newtop/creds.env": "AWS_ACCESS_KEY_ID=" + key + "\n"})
	pr := f.gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: "feature", HeadRepo: "outsider/infra"})
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, pr.Number)); err != nil {
		t.Fatal(err)
	}
	runs := f.runs(pr.HeadSHA)
	if runs["housekeeper/dirs"].Conclusion != "failure" || runs["housekeeper/secrets"].Conclusion != "failure" {
		t.Errorf("fork PR runs: dirs %s, secrets %s\n%s", runs["housekeeper/dirs"].Conclusion, runs["housekeeper/secrets"].Conclusion, runs["housekeeper/secrets"].Output.Summary)
	}
	// A re-run of the fork PR's run finds its PR through external_id.
	id := runs["housekeeper/secrets"].ID
	if err := f.deliver("check_run", f.gh.CheckRunEvent("rerequested", id)); err != nil {
		t.Fatal(err)
	}
	if got := f.runs(pr.HeadSHA)["housekeeper/secrets"]; got.Conclusion != "failure" || got.ID != id {
		t.Errorf("after re-run: %+v", got)
	}
}

func TestPullRequestWith3500Files(t *testing.T) {
	f := newFixture(t)
	files := map[string]string{}
	for i := 0; i < 3500; i++ {
		files[fmt.Sprintf("apps/web/gen/f%04d.txt", i)] = fmt.Sprintf("line %d\n", i)
	}
	key := fakeAWSKey(4)
	files["apps/web/gen/zz-creds.tf"] = "access_key = \"" + key + "\"\n"
	files["newdir/x.txt"] = "x\n"
	n := f.pr("big", files)
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, n)); err != nil {
		t.Fatal(err)
	}
	pr, _ := f.gh.GetPullRequest("acme", "infra", n)
	runs := f.runs(pr.HeadSHA)
	dirs, sec := runs["housekeeper/dirs"], runs["housekeeper/secrets"]
	if dirs.Conclusion != "failure" || !contains(annotations(dirs), "newdir/x.txt:1 failure") {
		t.Errorf("dirs: %s %v", dirs.Conclusion, annotations(dirs))
	}
	if sec.Conclusion != "failure" || !contains(annotations(sec), "apps/web/gen/zz-creds.tf:1 failure") {
		t.Errorf("secrets: %s %v\n%s", sec.Conclusion, annotations(sec), sec.Output.Summary)
	}
}

func TestAnnotationsBatchedAndCapped(t *testing.T) {
	f := newFixture(t)
	files := map[string]string{}
	for i := 0; i < 120; i++ {
		files[fmt.Sprintf("new%03d/x.txt", i)] = "x\n"
	}
	n := f.pr("many", files)
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, n)); err != nil {
		t.Fatal(err)
	}
	dirs := f.runs(f.head(n))["housekeeper/dirs"]
	if len(dirs.Output.Annotations) != 120 {
		t.Errorf("%d annotations, want all 120 in batches of 50", len(dirs.Output.Annotations))
	}
	// With a cap, the summary says what was cut.
	f.gh.Push("acme", "infra", "main", map[string]string{".github/housekeeper.yml": "secrets:\n  max_annotations: 100\n"})
	m := f.pr("capped", files)
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, m)); err != nil {
		t.Fatal(err)
	}
	dirs = f.runs(f.head(m))["housekeeper/dirs"]
	if len(dirs.Output.Annotations) != 100 || !strings.Contains(dirs.Output.Summary, "20 more annotations beyond the first 100") {
		t.Errorf("%d annotations; summary tail: %s", len(dirs.Output.Annotations), tail(dirs.Output.Summary, 300))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// TestSecretsImportFromBase: the App reads secrets.rules.import from the
// base branch with the config, so a pull request that adds a leak and
// allowlists it in the imported file is still judged by the base's rules.
func TestSecretsImportFromBase(t *testing.T) {
	const rules = "[[rules]]\nid = \"acme-token\"\ndescription = \"ACME token\"\nregex = '''\\b(acme_[a-z0-9]{24})\\b'''\nkeywords = [\"acme_\"]\ntier = \"bootstrap\"\n"
	f := newFixture(t)
	f.gh.Push("acme", "infra", "main", map[string]string{
		".github/housekeeper.yml": "secrets:\n  rules:\n    import: [.gitleaks.toml]\n",
		".gitleaks.toml":          rules,
	})
	n := f.pr("leak", map[string]string{
		"docs/acme.yaml": "acme: acme_k3j9v7q2m8w1z5r0t6y4u2p9\n",
		".gitleaks.toml": rules + "\n[allowlist]\nregexes = ['''acme_''']\n",
	})
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, n)); err != nil {
		t.Fatal(err)
	}
	sec := f.runs(f.head(n))["housekeeper/secrets"]
	if sec.Conclusion != "failure" || !strings.Contains(sec.Output.Summary, "acme-token") {
		t.Errorf("secrets: %s %v\n%s", sec.Conclusion, annotations(sec), sec.Output.Summary)
	}
}
