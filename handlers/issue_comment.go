package handlers

import (
	"context"

	"github.com/google/go-github/v66/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/housekeeper-app/housekeeper/internal/runner"
)

// Commenter answers slash commands.
type Commenter interface {
	Comment(ctx context.Context, cj runner.CommentJob) error
}

// IssueComment answers /housekeeper commands in pull-request comments.
type IssueComment struct {
	Commenter Commenter
}

var _ githubapp.EventHandler = (*IssueComment)(nil)

// Handles implements githubapp.EventHandler.
func (h *IssueComment) Handles() []string { return []string{"issue_comment"} }

// Handle implements githubapp.EventHandler.
func (h *IssueComment) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var e github.IssueCommentEvent
	if err := decode(payload, &e, eventType); err != nil {
		return err
	}
	if e.GetAction() != "created" {
		return nil
	}
	// Plain issues have no checks; bots (the App included) are not obeyed.
	// IsPullRequest has a value receiver: a payload without an issue would
	// panic on it.
	if e.Issue == nil || !e.Issue.IsPullRequest() || isBot(e.GetComment().GetUser()) || isBot(e.GetSender()) {
		return nil
	}
	repo := e.GetRepo()
	inst := githubapp.GetInstallationIDFromEvent(&e)
	ctx, _ = logger(ctx, repo, inst, eventType, deliveryID)
	return h.Commenter.Comment(ctx, runner.CommentJob{
		InstallationID: inst,
		Owner:          repo.GetOwner().GetLogin(),
		Repo:           repo.GetName(),
		PR:             e.GetIssue().GetNumber(),
		CommentID:      e.GetComment().GetID(),
		Author:         e.GetComment().GetUser().GetLogin(),
		Body:           e.GetComment().GetBody(),
	})
}

func isBot(u *github.User) bool {
	return u.GetType() == "Bot" || len(u.GetLogin()) > 5 && u.GetLogin()[len(u.GetLogin())-5:] == "[bot]"
}
