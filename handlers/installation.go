package handlers

import (
	"context"
	"fmt"

	"github.com/google/go-github/v66/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/runner"
)

// Auditor schedules and drops baseline audits.
type Auditor interface {
	Enqueue(ctx context.Context, inst int64, repos []runner.RepoRef)
	Drop(inst int64, repos ...runner.RepoRef)
}

// Installation starts a baseline audit of every repository when the App is
// installed, and drops pending work when it is removed or suspended.
type Installation struct {
	Auditor Auditor
	Clients githubapp.ClientCreator
}

var _ githubapp.EventHandler = (*Installation)(nil)

// Handles implements githubapp.EventHandler.
func (h *Installation) Handles() []string {
	return []string{"installation", "installation_repositories"}
}

// Handle implements githubapp.EventHandler.
func (h *Installation) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	if eventType == "installation_repositories" {
		return h.repositories(ctx, deliveryID, payload)
	}
	var e github.InstallationEvent
	if err := decode(payload, &e, eventType); err != nil {
		return err
	}
	inst := e.GetInstallation().GetID()
	log := zerolog.Ctx(ctx).With().Str("event", eventType).Str("delivery", deliveryID).Int64("installation", inst).Logger()
	ctx = log.WithContext(ctx)
	switch e.GetAction() {
	case "created", "unsuspend", "new_permissions_accepted":
		// Accepting new permissions lets onboarding and dashboards start
		// where they were skipped.
		repos, err := h.listRepos(ctx, inst, permissions(e.GetInstallation()))
		if err != nil {
			return err
		}
		log.Info().Int("repositories", len(repos)).Msg("scheduling baseline audits")
		h.Auditor.Enqueue(ctx, inst, repos)
	case "deleted", "suspend":
		log.Info().Msg("dropping pending work for the installation")
		h.Auditor.Drop(inst)
	}
	return nil
}

func (h *Installation) repositories(ctx context.Context, deliveryID string, payload []byte) error {
	var e github.InstallationRepositoriesEvent
	if err := decode(payload, &e, "installation_repositories"); err != nil {
		return err
	}
	inst := e.GetInstallation().GetID()
	log := zerolog.Ctx(ctx).With().Str("event", "installation_repositories").Str("delivery", deliveryID).Int64("installation", inst).Logger()
	ctx = log.WithContext(ctx)
	switch e.GetAction() {
	case "added":
		repos := refs(e.RepositoriesAdded, e.GetInstallation().GetAccount().GetLogin())
		for i := range repos {
			repos[i].Permissions = permissions(e.GetInstallation())
		}
		log.Info().Int("repositories", len(repos)).Msg("scheduling baseline audits")
		h.Auditor.Enqueue(ctx, inst, repos)
	case "removed":
		h.Auditor.Drop(inst, refs(e.RepositoriesRemoved, e.GetInstallation().GetAccount().GetLogin())...)
	}
	return nil
}

// listRepos lists what the installation covers (100 a page).
func (h *Installation) listRepos(ctx context.Context, inst int64, perms map[string]string) ([]runner.RepoRef, error) {
	client, err := h.Clients.NewInstallationClient(inst)
	if err != nil {
		return nil, fmt.Errorf("installation client: %w", err)
	}
	var out []runner.RepoRef
	opt := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := client.Apps.ListRepos(ctx, opt)
		if err != nil {
			return nil, fmt.Errorf("list the installation's repositories: %w", err)
		}
		for _, r := range page.Repositories {
			if r.GetArchived() {
				continue
			}
			out = append(out, runner.RepoRef{Owner: r.GetOwner().GetLogin(), Name: r.GetName(), DefaultBranch: r.GetDefaultBranch(),
				Known: true, Fork: r.GetFork(), Permissions: perms})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
}

// refs names repositories from an event's short repository objects, whose
// full_name carries the owner.
func refs(rs []*github.Repository, account string) []runner.RepoRef {
	var out []runner.RepoRef
	for _, r := range rs {
		owner, name := account, r.GetName()
		if fn := r.GetFullName(); fn != "" {
			for i := 0; i < len(fn); i++ {
				if fn[i] == '/' {
					owner, name = fn[:i], fn[i+1:]
					break
				}
			}
		}
		out = append(out, runner.RepoRef{Owner: owner, Name: name})
	}
	return out
}

// permissions reads what the installation was granted, as the event says
// (nil when it does not: the App then tries and handles a refusal).
func permissions(inst *github.Installation) map[string]string {
	p := inst.GetPermissions()
	if p == nil {
		return nil
	}
	return map[string]string{
		"contents":      p.GetContents(),
		"pull_requests": p.GetPullRequests(),
		"issues":        p.GetIssues(),
		"checks":        p.GetChecks(),
	}
}
