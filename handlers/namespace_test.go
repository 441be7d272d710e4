package handlers_test

import (
	"fmt"
	"strings"
	"testing"
)

const verifyConfig = "version: 1\ndirs:\n  annotations:\n    Layer: {values: [L1, L99, \"-\"]}\n    Namespace: {verify: manifests}\n"

func deployment(ns string) string {
	return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: " + ns + "\n"
}

// TestNamespaceDriftOnPullRequest: the App reads the manifests a pull
// request touches (one by one, and past 50 from the tarball) and annotates
// the drifting line; an undeclared Layer fails.
func TestNamespaceDriftOnPullRequest(t *testing.T) {
	for _, many := range []bool{false, true} {
		t.Run(fmt.Sprintf("tarball=%v", many), func(t *testing.T) {
			f := newFixture(t)
			f.gh.Push("acme", "infra", "main", map[string]string{".github/housekeeper.yml": verifyConfig})
			files := map[string]string{
				"apps/web/deploy.yaml": deployment("web-prod"),
				"docs/dir.md":          mapMD + "| `apps/api/` | API | L7 | api |\n",
				"apps/api/deploy.yaml": deployment("api"),
			}
			if many {
				for i := 0; i < 60; i++ {
					files[fmt.Sprintf("apps/web/extra/m%02d.yaml", i)] = deployment("web")
				}
			}
			n := f.pr("drift", files)
			if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, n)); err != nil {
				t.Fatal(err)
			}
			pr, _ := f.gh.GetPullRequest("acme", "infra", n)
			dirs := f.runs(pr.HeadSHA)["housekeeper/dirs"]
			if dirs.Status != "completed" || dirs.Conclusion != "failure" {
				t.Fatalf("dirs run: %s/%s %q\n%s", dirs.Status, dirs.Conclusion, dirs.Output.Title, dirs.Output.Summary)
			}
			got := annotations(dirs)
			if !contains(got, "apps/web/deploy.yaml:5 warning") || !contains(got, "docs/dir.md:9 failure") {
				t.Errorf("annotations: %v", got)
			}
			if strings.Contains(fmt.Sprint(got), "apps/api/deploy.yaml") || strings.Contains(fmt.Sprint(got), "extra/") {
				t.Errorf("manifests that match their entry were reported: %v", got)
			}
			ops := f.gh.Calls().ByOperation
			if tarballs := ops["GET /repos/{owner}/{repo}/tarball/{ref}"]; (tarballs > 0) != many {
				t.Errorf("tarball downloads: %d (operations %v)", tarballs, ops)
			}
			for _, want := range []string{"1 invalid annotation", "1 namespace drift"} {
				if !strings.Contains(dirs.Output.Title, want) {
					t.Errorf("title %q lacks %q", dirs.Output.Title, want)
				}
			}
		})
	}
}
