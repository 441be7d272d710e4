package handlers

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-github/v66/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/housekeeper-app/housekeeper/internal/runner"
)

// MergeGroup runs both checks on a merge queue's group, so they can be
// required on branches with merge queues.
type MergeGroup struct {
	Runner Runner
}

var _ githubapp.EventHandler = (*MergeGroup)(nil)

// Handles implements githubapp.EventHandler.
func (h *MergeGroup) Handles() []string { return []string{"merge_group"} }

// queuePR reads the PR number from a merge group's head ref,
// refs/heads/gh-readonly-queue/<base>/pr-<n>-<sha>.
var queuePR = regexp.MustCompile(`/pr-(\d+)-[0-9a-f]+$`)

// Handle implements githubapp.EventHandler.
func (h *MergeGroup) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var e github.MergeGroupEvent
	if err := decode(payload, &e, eventType); err != nil {
		return err
	}
	if e.GetAction() != "checks_requested" {
		return nil
	}
	mg := e.GetMergeGroup()
	repo := e.GetRepo()
	inst := githubapp.GetInstallationIDFromEvent(&e)
	ctx, _ = logger(ctx, repo, inst, eventType, deliveryID)
	job := runner.Job{
		InstallationID: inst, Owner: repo.GetOwner().GetLogin(), Repo: repo.GetName(), DefaultBranch: repo.GetDefaultBranch(),
		HeadSHA: mg.GetHeadSHA(), BaseSHA: mg.GetBaseSHA(), BaseRef: strings.TrimPrefix(mg.GetBaseRef(), "refs/heads/"),
		Event: eventType, Delivery: deliveryID,
	}
	if m := queuePR.FindStringSubmatch(mg.GetHeadRef()); m != nil {
		job.IgnoresPR, _ = strconv.Atoi(m[1])
	}
	return h.Runner.Run(ctx, job)
}
