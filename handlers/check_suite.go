package handlers

import (
	"context"
	"errors"
	"strings"

	"github.com/google/go-github/v66/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/housekeeper-app/housekeeper/internal/runner"
)

// CheckSuite runs both checks when GitHub asks for a suite (a push) or a
// user re-runs all checks.
type CheckSuite struct {
	Runner Runner
}

var _ githubapp.EventHandler = (*CheckSuite)(nil)

// Handles implements githubapp.EventHandler.
func (h *CheckSuite) Handles() []string { return []string{"check_suite"} }

// Handle implements githubapp.EventHandler.
func (h *CheckSuite) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var e github.CheckSuiteEvent
	if err := decode(payload, &e, eventType); err != nil {
		return err
	}
	switch e.GetAction() {
	case "requested", "rerequested":
	default:
		return nil
	}
	suite := e.GetCheckSuite()
	if suite == nil {
		return nil // nothing to check (found by FuzzHook)
	}
	repo := e.GetRepo()
	ctx, log := logger(ctx, repo, githubapp.GetInstallationIDFromEvent(&e), eventType, deliveryID)
	base := runner.Job{
		InstallationID: githubapp.GetInstallationIDFromEvent(&e),
		Owner:          repo.GetOwner().GetLogin(),
		Repo:           repo.GetName(),
		DefaultBranch:  repo.GetDefaultBranch(),
		HeadSHA:        suite.GetHeadSHA(),
		Event:          eventType,
		Delivery:       deliveryID,
	}
	prs := suite.PullRequests
	if len(prs) == 0 {
		// A fork PR's suite lists no PR: its runs come from pull_request
		// events. Without a PR only the default branch is checked.
		if suite.GetHeadBranch() != repo.GetDefaultBranch() {
			log.Debug().Str("branch", suite.GetHeadBranch()).Msg("suite without a pull request on another branch; skipped")
			return nil
		}
		if e.GetAction() == "requested" {
			// The push event for the same commit checks it; running here
			// too would only spend API calls on the same result.
			return nil
		}
		job := base
		job.BaseRef = repo.GetDefaultBranch()
		job.BaseSHA = pushBase(suite.GetBeforeSHA())
		return h.Runner.Run(ctx, job)
	}
	var errs []error
	for _, pr := range prs {
		job := base
		job.PR = pr.GetNumber()
		job.BaseSHA = pr.GetBase().GetSHA()
		job.BaseRef = pr.GetBase().GetRef()
		errs = append(errs, h.Runner.Run(ctx, job))
	}
	return errors.Join(errs...)
}

// pushBase is what a push is compared with: its "before", unless the push
// created the branch (all zeros), which is then audited whole.
func pushBase(before string) string {
	if strings.Trim(before, "0") == "" {
		return ""
	}
	return before
}
