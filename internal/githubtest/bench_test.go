package githubtest_test

import (
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

// BenchmarkValidatedRequests measures one check-run create and update,
// each routed, validated against the description and counted.
func BenchmarkValidatedRequests(b *testing.B) {
	s := githubtest.New(b, githubtest.WithContentCreationLimit(0))
	s.AddRepo(githubtest.Repo{Owner: "o", Name: "r"})
	inst := s.AddInstallation(githubtest.Installation{Account: "o", All: true})
	sha := s.Push("o", "r", "main", map[string]string{"a": "a\n"})
	c := githubClient(nil, s, nil).WithAuthToken(s.InstallationToken(inst))
	b.ResetTimer()
	for range b.N {
		run, _, err := c.Checks.CreateCheckRun(ctx, "o", "r", github.CreateCheckRunOptions{Name: "bench", HeadSHA: sha})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.Checks.UpdateCheckRun(ctx, "o", "r", run.GetID(), github.UpdateCheckRunOptions{
			Name: "bench", Conclusion: github.String("success"),
			Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s")},
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got := s.Calls().Count("POST /repos/{owner}/{repo}/check-runs"); got != b.N {
		b.Errorf("counted %d creates, want %d", got, b.N)
	}
}
