package githubtest_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

// fixture is a repository with two commits on a branch and a PR, the
// starting point of most tests.
type fixture struct {
	s      *githubtest.Server
	inst   int64
	base   string // main's tip
	head   string // feature's tip
	first  string // feature's first commit
	prNum  int
	client *github.Client
}

func newFixture(t *testing.T, opts ...githubtest.Option) *fixture {
	t.Helper()
	opts = append([]githubtest.Option{githubtest.WithResponseValidation()}, opts...)
	s := githubtest.New(t, opts...)
	s.AddOrg("acme")
	s.AddRepo(githubtest.Repo{Owner: "acme", Name: "infra", Private: true})
	inst := s.AddInstallation(githubtest.Installation{Account: "acme", Repos: []string{"acme/infra"}})
	base := s.Push("acme", "infra", "main", map[string]string{
		"README.md":         "# infra\n",
		"docs/dir.md":       "| Path | Function |\n|---|---|\n| apps/ | apps |\n",
		"apps/web/main.go":  "package main\n\nfunc main() {\n\tprintln(\"hi\")\n}\n",
		"terraform/main.tf": "terraform {}\n",
	})
	s.SetBranch("acme", "infra", "feature", base)
	first := s.Push("acme", "infra", "feature", map[string]string{
		"apps/api/main.go": "package main\n",
	})
	head := s.Push("acme", "infra", "feature", map[string]string{
		"apps/web/main.go": "package main\n\nfunc main() {\n\tprintln(\"hello\")\n}\n",
	}, "terraform/main.tf")
	pr := s.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: "feature", Title: "Add api", User: "alice"})
	return &fixture{s: s, inst: inst, base: base, head: head, first: first, prNum: pr.Number, client: installationClient(t, s, inst)}
}

// installationClient is what the App builds: go-github over
// ghinstallation, which fetches installation tokens with the App JWT.
func installationClient(t *testing.T, s *githubtest.Server, inst int64) *github.Client {
	t.Helper()
	itr, err := ghinstallation.New(http.DefaultTransport, s.AppID(), inst, s.AppPrivateKeyPEM())
	if err != nil {
		t.Fatalf("ghinstallation: %v", err)
	}
	itr.BaseURL = s.URL
	return githubClient(t, s, &http.Client{Transport: itr})
}

// appClient authenticates as the App itself (JWT), for /app endpoints.
func appClient(t *testing.T, s *githubtest.Server) *github.Client {
	t.Helper()
	atr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, s.AppID(), s.AppPrivateKeyPEM())
	if err != nil {
		t.Fatalf("ghinstallation: %v", err)
	}
	atr.BaseURL = s.URL
	return githubClient(t, s, &http.Client{Transport: atr})
}

func githubClient(_ testing.TB, s *githubtest.Server, hc *http.Client) *github.Client {
	c := github.NewClient(hc)
	c.BaseURL, _ = url.Parse(s.URL + "/")
	return c
}

// tokenClient uses a raw installation token (no refresh).
func tokenClient(t *testing.T, s *githubtest.Server, token string) *github.Client {
	t.Helper()
	return githubClient(t, s, nil).WithAuthToken(token)
}

var ctx = context.Background()

func must[T any](t *testing.T) func(v T, _ *github.Response, err error) T {
	return func(v T, _ *github.Response, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// statusOf extracts the HTTP status of a go-github error.
func statusOf(err error) int {
	switch e := err.(type) {
	case *github.ErrorResponse:
		return e.Response.StatusCode
	case *github.RateLimitError:
		return e.Response.StatusCode
	case *github.AbuseRateLimitError:
		return e.Response.StatusCode
	}
	return 0
}
