package handlers

import (
	"context"

	"github.com/google/go-github/v66/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/housekeeper-app/housekeeper/internal/runner"
)

// PullRequest runs both checks when a pull request's head or base changes.
type PullRequest struct {
	Runner Runner
}

var _ githubapp.EventHandler = (*PullRequest)(nil)

// Handles implements githubapp.EventHandler.
func (h *PullRequest) Handles() []string { return []string{"pull_request"} }

// Handle implements githubapp.EventHandler.
func (h *PullRequest) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var e github.PullRequestEvent
	if err := decode(payload, &e, eventType); err != nil {
		return err
	}
	switch e.GetAction() {
	case "opened", "synchronize", "reopened", "ready_for_review":
	case "edited":
		// Only a new base branch changes what the checks compare with.
		if e.GetChanges().GetBase() == nil {
			return nil
		}
	default:
		return nil
	}
	pr := e.GetPullRequest()
	if pr.GetState() == "closed" {
		return nil
	}
	ctx, log := logger(ctx, e.GetRepo(), githubapp.GetInstallationIDFromEvent(&e), eventType, deliveryID)
	log.Info().Int("pr", pr.GetNumber()).Str("sha", pr.GetHead().GetSHA()).Msg("checking pull request")
	return h.Runner.Run(ctx, prJob(&e, pr, eventType, deliveryID))
}

func prJob(src githubapp.InstallationSource, pr *github.PullRequest, event, delivery string) runner.Job {
	job := runner.JobForPR(githubapp.GetInstallationIDFromEvent(src), pr)
	job.Event, job.Delivery = event, delivery
	return job
}
