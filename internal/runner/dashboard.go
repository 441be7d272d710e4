package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-github/v66/github"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/checkrun"
	"github.com/housekeeper-app/housekeeper/internal/dashboard"
	"github.com/housekeeper-app/housekeeper/internal/mapgen"
	"github.com/housekeeper-app/housekeeper/internal/onboarding"
)

// StubsBranch is the head of the pull request the dashboard's first
// checkbox opens.
const StubsBranch = "housekeeper/stub-entries"

// botName caches the App's bot login ("<slug>[bot]"), which creates its
// issues; one read of GET /app per process.
type botName struct {
	mu    sync.Mutex
	login string
}

func (r *Runner) botLogin(ctx context.Context) (string, error) {
	r.bot.mu.Lock()
	defer r.bot.mu.Unlock()
	if r.bot.login != "" {
		return r.bot.login, nil
	}
	client, err := r.Clients.NewAppClient()
	if err != nil {
		return "", fmt.Errorf("app client: %w", err)
	}
	app, _, err := client.Apps.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("read the App: %w", err)
	}
	r.bot.login = app.GetSlug() + "[bot]"
	return r.bot.login, nil
}

// findDashboard returns the App's dashboard issue, open or closed.
func (r *Runner) findDashboard(ctx context.Context, client *github.Client, owner, repo string) (*github.Issue, error) {
	login, err := r.botLogin(ctx)
	if err != nil {
		return nil, err
	}
	issues, _, err := client.Issues.ListByRepo(ctx, owner, repo, &github.IssueListByRepoOptions{
		State: "all", Creator: login, ListOptions: github.ListOptions{PerPage: 100},
	})
	if err != nil {
		return nil, fmt.Errorf("list the App's issues: %w", err)
	}
	for _, is := range issues {
		if is != nil && !is.IsPullRequest() && dashboard.IsDashboard(is.GetTitle(), is.GetBody()) {
			return is, nil
		}
	}
	return nil, nil
}

// updateDashboard writes the audit to the dashboard: created the first
// time, edited in place when it changed, left alone when a person closed
// it.
func (a *Auditor) updateDashboard(ctx context.Context, t auditTask, client *github.Client, snap *snapshot, dirs, sec checkrun.Check, onboardingPR int, note string) {
	log := zerolog.Ctx(ctx)
	r := a.Runner
	if t.repo.Permissions != nil && t.repo.Permissions["issues"] != "write" {
		r.observeOnboarding("dashboard_no_permission")
		log.Warn().Msg("dashboard skipped: the installation has not granted issues write")
		return
	}
	in := dashboard.Input{Branch: t.repo.DefaultBranch, SHA: snap.sha, MapPath: snap.cfg.Dirs.Map, HasMap: snap.hasMap,
		Dirs: dirs, Secrets: sec, Skipped: snap.scan.Skipped(), Onboarding: onboardingPR}
	if note != "" {
		in.Notes = []string{note}
	}
	body := dashboard.Render(in)
	is, err := r.findDashboard(ctx, client, t.repo.Owner, t.repo.Name)
	if err != nil {
		log.Error().Err(err).Msg("dashboard: lookup failed")
		return
	}
	switch {
	case is != nil && is.GetState() == "closed":
		log.Info().Int("issue", is.GetNumber()).Msg("dashboard closed by a person; left alone until reopened")
		return
	case is != nil && is.GetBody() == body:
		return
	}
	if err := a.Pace.Wait(ctx); err != nil {
		return
	}
	if err := r.Pacer.Wait(ctx); err != nil {
		return
	}
	if is == nil {
		_, _, err = client.Issues.Create(ctx, t.repo.Owner, t.repo.Name, &github.IssueRequest{Title: github.String(dashboard.Title), Body: github.String(body)})
	} else {
		_, _, err = client.Issues.Edit(ctx, t.repo.Owner, t.repo.Name, is.GetNumber(), &github.IssueRequest{Body: github.String(body)})
	}
	if forbidden(err) {
		r.observeOnboarding("dashboard_no_permission")
		log.Warn().Err(err).Msg("dashboard skipped: the installation has not granted issues write")
		return
	}
	if err != nil {
		log.Error().Err(err).Msg("dashboard: write failed")
	}
}

func forbidden(err error) bool {
	var ge *github.ErrorResponse
	return errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusForbidden
}

// DashboardTick is a person ticking boxes on a dashboard.
type DashboardTick struct {
	InstallationID int64
	Owner, Repo    string
	Issue          int
	IssueAuthor    string
	Sender         string
	Actions        []dashboard.Action
}

// Tick answers ticked boxes: the boxes are cleared either way; a writer's
// actions are returned for the caller to run, a reader gets one reply
// naming the access needed.
func (r *Runner) Tick(ctx context.Context, tk DashboardTick) ([]dashboard.Action, error) {
	login, err := r.botLogin(ctx)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(tk.IssueAuthor, login) {
		return nil, nil // someone's copy of the dashboard, not the App's
	}
	client, err := r.client(tk.InstallationID, &callCounter{})
	if err != nil {
		return nil, fmt.Errorf("installation client: %w", err)
	}
	ok, level, err := writeAccess(ctx, client, tk.Owner, tk.Repo, tk.Sender)
	if err != nil {
		return nil, fmt.Errorf("check %s's access: %w", tk.Sender, err)
	}
	// The body as it is now, not as the event saw it: edits in between stay.
	is, _, err := client.Issues.Get(ctx, tk.Owner, tk.Repo, tk.Issue)
	if err != nil {
		return nil, fmt.Errorf("read the dashboard: %w", err)
	}
	if err := r.Pacer.Wait(ctx); err != nil {
		return nil, err
	}
	if _, _, err := client.Issues.Edit(ctx, tk.Owner, tk.Repo, tk.Issue, &github.IssueRequest{Body: github.String(dashboard.Untick(is.GetBody(), tk.Actions...))}); err != nil {
		return nil, fmt.Errorf("untick the dashboard: %w", err)
	}
	if ok {
		return tk.Actions, nil
	}
	reply := dashboard.Refusal(tk.Sender, level)
	if err := r.Pacer.Wait(ctx); err != nil {
		return nil, err
	}
	if _, _, err := client.Issues.CreateComment(ctx, tk.Owner, tk.Repo, tk.Issue, &github.IssueComment{Body: github.String(reply)}); err != nil {
		return nil, fmt.Errorf("reply on the dashboard: %w", err)
	}
	return nil, nil
}

// writeAccess asks GitHub (never the payload) whether a user may write.
func writeAccess(ctx context.Context, client *github.Client, owner, repo, user string) (bool, string, error) {
	lvl, _, err := client.Repositories.GetPermissionLevel(ctx, owner, repo, user)
	if err != nil {
		return false, "", err
	}
	switch lvl.GetRoleName() {
	case "admin", "maintain", "write":
		return true, lvl.GetRoleName(), nil
	}
	switch lvl.GetPermission() {
	case "admin", "write":
		return true, lvl.GetPermission(), nil
	}
	return false, lvl.GetPermission(), nil
}

// stubsPR opens a pull request that registers every unregistered
// directory in the map, in its own format, with what can be inferred.
func (a *Auditor) stubsPR(ctx context.Context, t auditTask, client *github.Client, snap *snapshot) {
	log := zerolog.Ctx(ctx)
	cfg := snap.cfg
	if !snap.hasMap {
		log.Info().Msg("stub entries: no map yet; the onboarding pull request adds one")
		return
	}
	gen, err := mapgen.Generate(snap.tree, mapgen.Options{
		MapPath: cfg.Dirs.Map, Ignore: cfg.Dirs.Ignore, MaxDepth: cfg.Dirs.MaxDepth, RequiredAnnotations: cfg.Dirs.RequiredAnnotations,
		RootNames: []string{t.repo.Name}, Layer: cfg.Dirs.LayerOf, Existing: snap.mapData, HasExisting: true,
	})
	if err != nil || !gen.Changed {
		log.Info().Err(err).Msg("stub entries: nothing to add")
		return
	}
	body := onboarding.StubsBody(cfg.Dirs.Map, gen)
	o := &onboarding.Onboarder{Branch: StubsBranch, Title: fmt.Sprintf("Housekeeper: register %d directories in the map", len(gen.Entries)), Again: true,
		Client: client, Pacer: a.Runner.Pacer, Pace: a.Pace}
	res, err := o.Ensure(ctx, onboarding.Repo{Owner: t.repo.Owner, Name: t.repo.Name, DefaultBranch: t.repo.DefaultBranch, HeadSHA: snap.sha},
		onboarding.Content{MapPath: cfg.Dirs.Map, Map: gen.Map, Body: body}, false)
	if err != nil {
		log.Error().Err(err).Msg("stub entries pull request failed")
		return
	}
	log.Info().Str("outcome", string(res.Outcome)).Int("pr", res.Number).Msg("stub entries pull request")
}
