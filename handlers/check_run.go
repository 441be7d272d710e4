package handlers

import (
	"context"
	"fmt"
	"strconv"

	"github.com/google/go-github/v66/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/housekeeper-app/housekeeper/internal/command"
	"github.com/housekeeper-app/housekeeper/internal/runner"
)

// CheckRun re-runs both checks when a user re-runs one of the App's runs,
// and answers the "Add stub entries" button.
type CheckRun struct {
	Runner    Runner
	Commenter Commenter
	Clients   githubapp.ClientCreator // to read the PR its external_id names
}

var _ githubapp.EventHandler = (*CheckRun)(nil)

// Handles implements githubapp.EventHandler.
func (h *CheckRun) Handles() []string { return []string{"check_run"} }

// Handle implements githubapp.EventHandler.
func (h *CheckRun) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var e github.CheckRunEvent
	if err := decode(payload, &e, eventType); err != nil {
		return err
	}
	run := e.GetCheckRun()
	switch e.GetAction() {
	case "rerequested":
	case "requested_action":
		return h.action(ctx, &e, deliveryID)
	default:
		return nil
	}
	if name := run.GetName(); name != "housekeeper/dirs" && name != "housekeeper/secrets" {
		return nil
	}
	repo := e.GetRepo()
	inst := githubapp.GetInstallationIDFromEvent(&e)
	ctx, log := logger(ctx, repo, inst, eventType, deliveryID)
	job := runner.Job{
		InstallationID: inst,
		Owner:          repo.GetOwner().GetLogin(),
		Repo:           repo.GetName(),
		DefaultBranch:  repo.GetDefaultBranch(),
		HeadSHA:        run.GetHeadSHA(),
		BaseRef:        repo.GetDefaultBranch(),
		Event:          eventType,
		Delivery:       deliveryID,
	}
	// The run's external_id names its PR, so fork PRs (whose suites list
	// none) re-run against the right base.
	if n, err := strconv.Atoi(run.GetExternalID()); err == nil && n > 0 {
		pr, err := h.pullRequest(ctx, inst, job.Owner, job.Repo, n)
		if err != nil {
			return err
		}
		if pr.GetHead().GetSHA() != job.HeadSHA {
			log.Info().Int("pr", n).Msg("re-run of an outdated commit: checking it against the PR's base")
		}
		job.PR = n
		job.BaseSHA = pr.GetBase().GetSHA()
		job.BaseRef = pr.GetBase().GetRef()
		return h.Runner.Run(ctx, job)
	}
	if len(run.PullRequests) > 0 {
		pr := run.PullRequests[0]
		job.PR = pr.GetNumber()
		job.BaseSHA = pr.GetBase().GetSHA()
		job.BaseRef = pr.GetBase().GetRef()
		return h.Runner.Run(ctx, job)
	}
	if run.GetCheckSuite().GetHeadBranch() != repo.GetDefaultBranch() {
		log.Debug().Msg("re-run without a pull request on another branch; skipped")
		return nil
	}
	job.BaseSHA = pushBase(run.GetCheckSuite().GetBeforeSHA())
	return h.Runner.Run(ctx, job)
}

func (h *CheckRun) pullRequest(ctx context.Context, inst int64, owner, repo string, n int) (*github.PullRequest, error) {
	if h.Clients == nil {
		return nil, fmt.Errorf("no client to read pull request #%d", n)
	}
	client, err := h.Clients.NewInstallationClient(inst)
	if err != nil {
		return nil, fmt.Errorf("installation client: %w", err)
	}
	pr, _, err := client.PullRequests.Get(ctx, owner, repo, n)
	if err != nil {
		return nil, fmt.Errorf("read pull request #%d: %w", n, err)
	}
	return pr, nil
}

// action runs a check-run button as if its user had commented the command.
func (h *CheckRun) action(ctx context.Context, e *github.CheckRunEvent, deliveryID string) error {
	if e.GetRequestedAction().Identifier != runner.ActionAddStubs || h.Commenter == nil {
		return nil
	}
	run := e.GetCheckRun()
	n, err := strconv.Atoi(run.GetExternalID())
	if err != nil || n <= 0 {
		if len(run.PullRequests) == 0 {
			return nil // not a pull request's run: nothing to commit to
		}
		n = run.PullRequests[0].GetNumber()
	}
	repo := e.GetRepo()
	inst := githubapp.GetInstallationIDFromEvent(e)
	ctx, _ = logger(ctx, repo, inst, "check_run", deliveryID)
	return h.Commenter.Comment(ctx, runner.CommentJob{
		InstallationID: inst,
		Owner:          repo.GetOwner().GetLogin(),
		Repo:           repo.GetName(),
		PR:             n,
		Author:         e.GetSender().GetLogin(),
		Commands:       []command.Command{{Name: command.FixDirs}},
	})
}
