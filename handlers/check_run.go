package handlers

import (
	"context"
	"fmt"
	"strconv"

	"github.com/google/go-github/v66/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/housekeeper-app/housekeeper/internal/runner"
)

// CheckRun re-runs both checks when a user re-runs one of the App's runs.
type CheckRun struct {
	Runner  Runner
	Clients githubapp.ClientCreator // to read the PR its external_id names
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
	if e.GetAction() != "rerequested" {
		return nil
	}
	run := e.GetCheckRun()
	if name := run.GetName(); name != "housekeeper/dirs" && name != "housekeeper/secrets" {
		return nil
	}
	repo := e.GetRepo()
	inst := githubapp.GetInstallationIDFromEvent(&e)
	ctx, log := logger(ctx, repo, inst, eventType, e.GetAction(), deliveryID)
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
