package githubtest_test

import (
	"testing"

	"github.com/google/go-github/v66/github"
)

func TestCommentsReactionsAndPermissions(t *testing.T) {
	f := newFixture(t)
	c := f.client

	human := f.s.AddComment("acme", "infra", f.prNum, "alice", "/housekeeper help")
	r1 := must[*github.Reaction](t)(c.Reactions.CreateIssueCommentReaction(ctx, "acme", "infra", human.ID, "eyes"))
	r2, resp, err := c.Reactions.CreateIssueCommentReaction(ctx, "acme", "infra", human.ID, "eyes")
	if err != nil || resp.StatusCode != 200 || r2.GetID() != r1.GetID() {
		t.Errorf("repeated reaction: %d %v", resp.StatusCode, err)
	}
	reply := must[*github.IssueComment](t)(c.Issues.CreateComment(ctx, "acme", "infra", f.prNum, &github.IssueComment{Body: github.String("Commands: …")}))
	if reply.GetUser().GetLogin() != "housekeeper[bot]" || reply.GetUser().GetType() != "Bot" {
		t.Errorf("reply user %s (%s)", reply.GetUser().GetLogin(), reply.GetUser().GetType())
	}
	// go-github v66's IssueComment has no performed_via_github_app:
	// decode it by hand, as the App must.
	req, _ := c.NewRequest("GET", reply.GetURL(), nil)
	var raw struct {
		Via *github.App `json:"performed_via_github_app"`
	}
	if _, err := c.Do(ctx, req, &raw); err != nil || raw.Via.GetID() != f.s.AppID() || raw.Via.GetSlug() != "housekeeper" {
		t.Errorf("performed_via_github_app = %v, %v", raw.Via, err)
	}
	edited := must[*github.IssueComment](t)(c.Issues.EditComment(ctx, "acme", "infra", reply.GetID(), &github.IssueComment{Body: github.String("edited")}))
	if edited.GetBody() != "edited" {
		t.Errorf("edit: %q", edited.GetBody())
	}
	// The App cannot edit a human's comment.
	if _, _, err := c.Issues.EditComment(ctx, "acme", "infra", human.ID, &github.IssueComment{Body: github.String("x")}); statusOf(err) != 403 {
		t.Errorf("editing another's comment: %v", err)
	}

	list := must[[]*github.IssueComment](t)(c.Issues.ListComments(ctx, "acme", "infra", f.prNum, nil))
	if len(list) != 2 || list[0].GetReactions().GetEyes() != 1 {
		t.Errorf("listed %d comments", len(list))
	}
	state := f.s.Comments("acme", "infra", f.prNum)
	if len(state) != 2 || !state[1].ViaApp || state[1].Body != "edited" || len(state[0].Reactions) != 1 || state[0].Reactions[0].User != "housekeeper[bot]" {
		t.Errorf("state: %+v", state)
	}
	if _, _, err := c.Issues.CreateComment(ctx, "acme", "infra", 99, &github.IssueComment{Body: github.String("x")}); statusOf(err) != 404 {
		t.Errorf("comment on a missing issue: %v", err)
	}

	f.s.SetPermission("acme", "infra", "alice", "write", "maintain")
	f.s.SetPermission("acme", "infra", "bob", "admin", "")
	for user, want := range map[string][2]string{
		"alice":   {"write", "maintain"},
		"bob":     {"admin", "admin"},
		"mallory": {"none", "none"}, // private repository, not a collaborator
	} {
		if user == "mallory" {
			f.s.AddComment("acme", "infra", f.prNum, "mallory", "hi") // makes the user exist
		}
		p := must[*github.RepositoryPermissionLevel](t)(c.Repositories.GetPermissionLevel(ctx, "acme", "infra", user))
		if p.GetPermission() != want[0] || p.GetRoleName() != want[1] || p.GetUser().GetLogin() != user {
			t.Errorf("%s: permission %s role %s", user, p.GetPermission(), p.GetRoleName())
		}
	}
	if _, _, err := c.Repositories.GetPermissionLevel(ctx, "acme", "infra", "ghost"); statusOf(err) != 404 {
		t.Errorf("unknown user: %v", err)
	}
}
