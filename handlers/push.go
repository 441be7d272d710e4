package handlers

import (
	"context"
	"strings"

	"github.com/google/go-github/v66/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/housekeeper-app/housekeeper/internal/runner"
)

// Push re-checks the default branch on every push to it, every commit
// scanned, so it always shows current drift and leaks.
type Push struct {
	Runner  Runner
	Clients githubapp.ClientCreator // to find the PR a push merged
}

var _ githubapp.EventHandler = (*Push)(nil)

// Handles implements githubapp.EventHandler.
func (h *Push) Handles() []string { return []string{"push"} }

// Handle implements githubapp.EventHandler.
func (h *Push) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var e github.PushEvent
	if err := decode(payload, &e, eventType); err != nil {
		return err
	}
	repo := e.GetRepo()
	branch := strings.TrimPrefix(e.GetRef(), "refs/heads/")
	if e.GetDeleted() || branch != repo.GetDefaultBranch() || strings.Trim(e.GetAfter(), "0") == "" {
		return nil
	}
	inst := githubapp.GetInstallationIDFromEvent(&e)
	owner := repo.GetOwner().GetLogin()
	if owner == "" {
		owner = repo.GetOwner().GetName() // push payloads name the owner differently
	}
	ctx, log := logger(ctx, &github.Repository{FullName: github.String(owner + "/" + repo.GetName())}, inst, eventType, deliveryID)
	job := runner.Job{
		InstallationID: inst, Owner: owner, Repo: repo.GetName(), DefaultBranch: branch,
		HeadSHA: e.GetAfter(), BaseSHA: pushBase(e.GetBefore()), BaseRef: branch,
		Event: eventType, Delivery: deliveryID,
	}
	// The push that merges a PR honours that PR's accepted ignores.
	if n := h.mergedPR(ctx, inst, owner, repo.GetName(), branch, e.GetAfter()); n > 0 {
		job.IgnoresPR = n
		log.Debug().Int("merged_pr", n).Msg("push merges a pull request")
	}
	return h.Runner.Run(ctx, job)
}

// mergedPR finds the pull request this push merged: one into the default
// branch that GitHub merged with sha as its merge commit, or whose head is
// sha (a fast-forward or rebase merge). Any other pull request that merely
// contains the commit is not this push's, and its ignores do not apply.
func (h *Push) mergedPR(ctx context.Context, inst int64, owner, repo, branch, sha string) int {
	if h.Clients == nil {
		return 0
	}
	client, err := h.Clients.NewInstallationClient(inst)
	if err != nil {
		return 0
	}
	prs, _, err := client.PullRequests.ListPullRequestsWithCommit(ctx, owner, repo, sha, nil)
	if err != nil {
		return 0 // without it the run is stricter, never laxer
	}
	for _, pr := range prs {
		if pr.GetBase().GetRef() != branch {
			continue
		}
		merged := pr.GetMerged() || pr.MergedAt != nil
		if (merged && pr.GetMergeCommitSHA() == sha) || pr.GetHead().GetSHA() == sha {
			return pr.GetNumber()
		}
	}
	return 0
}
