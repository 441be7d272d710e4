package githubtest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

// Branches, pull requests and issues created through the API, with every
// answer validated against the description.
func TestRefsPullsAndIssues(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.client
	ref, _, err := c.Git.CreateRef(ctx, "acme", "infra", &github.Reference{Ref: github.String("refs/heads/topic"), Object: &github.GitObject{SHA: github.String(f.base)}})
	if err != nil || ref.GetObject().GetSHA() != f.base {
		t.Fatalf("create ref: %v %+v", err, ref)
	}
	if _, _, err := c.Git.CreateRef(ctx, "acme", "infra", &github.Reference{Ref: github.String("refs/heads/topic"), Object: &github.GitObject{SHA: github.String(f.base)}}); status(err) != http.StatusUnprocessableEntity {
		t.Errorf("duplicate ref: %v", err)
	}
	if got, _, err := c.Git.GetRef(ctx, "acme", "infra", "heads/topic"); err != nil || got.GetObject().GetSHA() != f.base {
		t.Errorf("get ref: %v", err)
	}
	if _, _, err := c.Git.GetRef(ctx, "acme", "infra", "heads/nope"); status(err) != http.StatusNotFound {
		t.Errorf("missing ref: %v", err)
	}
	f.s.Push("acme", "infra", "topic", map[string]string{"x.txt": "x\n"})
	pr, _, err := c.PullRequests.Create(ctx, "acme", "infra", &github.NewPullRequest{Title: github.String("Topic"), Head: github.String("topic"), Base: github.String("main"), Body: github.String("body")})
	if err != nil || pr.GetUser().GetLogin() == "" || pr.GetHead().GetRef() != "topic" {
		t.Fatalf("create pull request: %v %+v", err, pr)
	}
	if _, _, err := c.PullRequests.Create(ctx, "acme", "infra", &github.NewPullRequest{Title: github.String("Again"), Head: github.String("acme:topic"), Base: github.String("main")}); status(err) != http.StatusUnprocessableEntity {
		t.Errorf("second open pull request for one head: %v", err)
	}
	list, _, err := c.PullRequests.List(ctx, "acme", "infra", &github.PullRequestListOptions{State: "all", Head: "acme:topic"})
	if err != nil || len(list) != 1 || list[0].GetNumber() != pr.GetNumber() {
		t.Errorf("list by head: %v %d", err, len(list))
	}
	if list, _, _ := c.PullRequests.List(ctx, "acme", "infra", &github.PullRequestListOptions{State: "closed"}); len(list) != 0 {
		t.Errorf("closed pull requests: %d", len(list))
	}
	if _, err := c.Git.DeleteRef(ctx, "acme", "infra", "heads/topic"); err != nil {
		t.Errorf("delete ref: %v", err)
	}

	is, _, err := c.Issues.Create(ctx, "acme", "infra", &github.IssueRequest{Title: github.String("Dashboard"), Body: github.String("hello")})
	if err != nil || is.GetUser().GetType() != "Bot" {
		t.Fatalf("create issue: %v %+v", err, is)
	}
	is, _, err = c.Issues.Edit(ctx, "acme", "infra", is.GetNumber(), &github.IssueRequest{Body: github.String("edited"), State: github.String("closed")})
	if err != nil || is.GetBody() != "edited" || is.GetState() != "closed" {
		t.Errorf("edit issue: %v %+v", err, is)
	}
	if got, _, err := c.Issues.Get(ctx, "acme", "infra", is.GetNumber()); err != nil || got.GetBody() != "edited" {
		t.Errorf("get issue: %v", err)
	}
	// The App's pull request is one of its issues too, as on GitHub.
	issues, _, err := c.Issues.ListByRepo(ctx, "acme", "infra", &github.IssueListByRepoOptions{State: "all", Creator: is.GetUser().GetLogin()})
	if err != nil || len(issues) != 2 || issues[0].GetNumber() != is.GetNumber() || !issues[1].IsPullRequest() {
		t.Errorf("list by creator: %v %d", err, len(issues))
	}
	all, _, err := c.Issues.ListByRepo(ctx, "acme", "infra", &github.IssueListByRepoOptions{State: "all"})
	prs := 0
	for _, i := range all {
		if i.IsPullRequest() {
			prs++
		}
	}
	if err != nil || prs != 2 {
		t.Errorf("pull requests among the issues: %d (%v)", prs, err)
	}
	if got := f.s.Issues("acme", "infra"); len(got) != 1 || !got[0].ViaApp {
		t.Errorf("Issues: %+v", got)
	}
	repos, _, err := c.Repositories.ListByOrg(ctx, "acme", nil)
	if err != nil || len(repos) != 1 {
		t.Errorf("list org repositories: %v %d", err, len(repos))
	}
}

// Writes need the permission: an installation with pull requests read
// cannot open one.
func TestCreatePullNeedsWrite(t *testing.T) {
	s := githubtest.New(t, githubtest.AllowViolations())
	s.AddOrg("acme")
	s.AddRepo(githubtest.Repo{Owner: "acme", Name: "infra"})
	base := s.Push("acme", "infra", "main", map[string]string{"a": "a\n"})
	s.SetBranch("acme", "infra", "topic", base)
	s.Push("acme", "infra", "topic", map[string]string{"b": "b\n"})
	inst := s.AddInstallation(githubtest.Installation{Account: "acme", Repos: []string{"acme/infra"},
		Permissions: map[string]string{"contents": "write", "pull_requests": "read", "metadata": "read"}})
	c := installationClient(t, s, inst)
	_, _, err := c.PullRequests.Create(context.Background(), "acme", "infra", &github.NewPullRequest{Title: github.String("x"), Head: github.String("topic"), Base: github.String("main")})
	if status(err) != http.StatusForbidden {
		t.Errorf("create with pull_requests read: %v", err)
	}
}

func status(err error) int {
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		return ge.Response.StatusCode
	}
	return 0
}
