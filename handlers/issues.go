package handlers

import (
	"context"

	"github.com/google/go-github/v66/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/housekeeper-app/housekeeper/internal/dashboard"
	"github.com/housekeeper-app/housekeeper/internal/runner"
)

// Ticker answers ticks on a dashboard's checkboxes.
type Ticker interface {
	Tick(ctx context.Context, tk runner.DashboardTick) ([]dashboard.Action, error)
}

// Issues turns ticks on the Housekeeping dashboard into actions (an edit
// that checks a box), and refreshes a dashboard someone reopened.
type Issues struct {
	Ticker  Ticker
	Auditor Auditor
}

var _ githubapp.EventHandler = (*Issues)(nil)

// Handles implements githubapp.EventHandler.
func (h *Issues) Handles() []string { return []string{"issues"} }

// Handle implements githubapp.EventHandler.
func (h *Issues) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var e github.IssuesEvent
	if err := decode(payload, &e, eventType); err != nil {
		return err
	}
	is := e.GetIssue()
	if !dashboard.IsDashboard(is.GetTitle(), is.GetBody()) || is.GetUser().GetType() != "Bot" {
		return nil
	}
	inst := githubapp.GetInstallationIDFromEvent(&e)
	repo := e.GetRepo()
	ref := runner.RepoRef{Owner: repo.GetOwner().GetLogin(), Name: repo.GetName(), DefaultBranch: repo.GetDefaultBranch(), Known: true, Fork: repo.GetFork()}
	ctx, log := logger(ctx, repo, inst, eventType, deliveryID)
	switch e.GetAction() {
	case "reopened":
		log.Info().Int("issue", is.GetNumber()).Msg("dashboard reopened: auditing again")
		h.Auditor.Enqueue(ctx, inst, []runner.RepoRef{ref})
	case "edited":
		if e.GetChanges().GetBody() == nil || is.GetState() != "open" {
			return nil
		}
		ticked := dashboard.Ticked(e.GetChanges().GetBody().GetFrom(), is.GetBody())
		if len(ticked) == 0 {
			return nil
		}
		actions, err := h.Ticker.Tick(ctx, runner.DashboardTick{
			InstallationID: inst, Owner: ref.Owner, Repo: ref.Name, Issue: is.GetNumber(),
			IssueAuthor: is.GetUser().GetLogin(), Sender: e.GetSender().GetLogin(), Actions: ticked,
		})
		if err != nil {
			return err
		}
		for _, a := range actions {
			if a == dashboard.ActionStubs {
				ref.StubsPR = true
			}
		}
		if len(actions) > 0 {
			log.Info().Int("issue", is.GetNumber()).Str("sender", e.GetSender().GetLogin()).Msg("dashboard actions: auditing again")
			h.Auditor.Enqueue(ctx, inst, []runner.RepoRef{ref})
		}
	}
	return nil
}
