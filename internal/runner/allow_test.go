package runner

import (
	"context"
	"math/rand"
	"regexp"
	"strconv"
	"testing"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/marker"
)

// allowRepo is an emulated GitHub with one installed repository whose
// default branch holds three planted secrets: one under housekeeper:allow,
// one under detect-secrets' pragma, and one with no comment. Values are
// built at run time, so none is committed.
func allowRepo(t *testing.T) (*Runner, *githubtest.Server, int64) {
	t.Helper()
	gh := githubtest.New(t)
	gh.AddOrg("acme")
	gh.AddRepo(githubtest.Repo{Owner: "acme", Name: "infra"})
	inst := gh.AddInstallation(githubtest.Installation{Account: "acme", Repos: []string{"acme/infra"}})
	rnd := rand.New(rand.NewSource(7))
	token := func() string {
		const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		b := []byte("gh" + "p_")
		for range 36 {
			b = append(b, alnum[rnd.Intn(len(alnum))])
		}
		return string(b)
	}
	gh.Push("acme", "infra", "main", map[string]string{
		"docs/dir.md": "# Map\n\n| Path | Function | Layer | Namespace |\n|---|---|---|---|\n" +
			"| `apps/` | Applications | L99 | - |\n| `docs/` | Docs | - | - |\n",
		"apps/settings.py": "REVIEWED = '" + token() + "'  # housekeeper:allow\n" +
			"LEGACY = '" + token() + "'  # pragma: allowlist secret\n" +
			"LEAKED = '" + token() + "'\n",
	})
	cc, err := githubapp.NewDefaultCachingClientCreator(gh.AppConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &Runner{Clients: cc, AppID: gh.AppID(), MarkerKey: marker.Key([]byte(gh.WebhookSecret()))}, gh, inst
}

// An audit of the default branch honours every inline allow: the two
// commented lines are listed as suppressed, each by the marker it
// carries, and only the uncommented one fails. This goes through the
// per-request path (Runner.Run with no base), which a baseline falls back
// to (a config it cannot read from the tarball, too many manifests).
func TestAuditHonoursInlineAllows(t *testing.T) {
	r, gh, inst := allowRepo(t)
	ctx := zerolog.New(zerolog.NewTestWriter(t)).WithContext(context.Background())
	head := gh.Branch("acme", "infra", "main")
	if err := r.Run(ctx, Job{InstallationID: inst, Owner: "acme", Repo: "infra", DefaultBranch: "main",
		HeadSHA: head, BaseRef: "main", Event: "installation"}); err != nil {
		t.Fatal(err)
	}
	run, ok := gh.CheckRun("acme", "infra", head, "housekeeper/secrets")
	if !ok {
		t.Fatalf("no secrets run on %s", head)
	}
	wantAllowed(t, run)
}

// wantAllowed checks a secrets run on allowRepo's default branch: it
// fails for the uncommented line only, and its summary lists the other
// two as suppressed by their own markers.
func wantAllowed(t *testing.T, run githubtest.CheckRun) {
	t.Helper()
	if run.Conclusion != "failure" {
		t.Errorf("conclusion %q, want failure (the uncommented line)\n%s", run.Conclusion, run.Output.Summary)
	}
	failing := map[int]bool{}
	for _, a := range run.Output.Annotations {
		if a.Path == "apps/settings.py" && a.AnnotationLevel == "failure" {
			failing[a.StartLine] = true
		}
	}
	if len(failing) != 1 || !failing[3] {
		t.Errorf("failing lines %v, want only line 3", failing)
	}
	// The summary's Suppressed table: rule, where, fingerprint, by.
	for line, by := range map[int]string{1: "inline housekeeper:allow", 2: "inline pragma: allowlist secret"} {
		row := regexp.MustCompile("(?m)^\\| `github-pat` \\| `apps/settings.py:" + strconv.Itoa(line) + "` \\| `[^`]+` \\| " + regexp.QuoteMeta(by) + " \\|$")
		if !row.MatchString(run.Output.Summary) {
			t.Errorf("the summary does not list line %d as suppressed by %q:\n%s", line, by, run.Output.Summary)
		}
	}
}

// A baseline (the audit from one tarball: on installation, and of a
// default branch without a map or with a dashboard) honours them as well;
// before, it listed every inline-allowed line as a failure.
func TestBaselineHonoursInlineAllows(t *testing.T) {
	r, gh, inst := allowRepo(t)
	ctx := zerolog.New(zerolog.NewTestWriter(t)).WithContext(context.Background())
	a := &Auditor{Runner: r}
	t.Cleanup(a.Close)
	if err := a.audit(ctx, auditTask{inst: inst, repo: RepoRef{Owner: "acme", Name: "infra"}}); err != nil {
		t.Fatal(err)
	}
	head := gh.Branch("acme", "infra", "main")
	run, ok := gh.CheckRun("acme", "infra", head, "housekeeper/secrets")
	if !ok {
		t.Fatalf("no secrets run on %s", head)
	}
	wantAllowed(t, run)
}
