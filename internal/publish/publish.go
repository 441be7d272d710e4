// Package publish posts check runs: one lookup finds the runs already on a
// commit so they are updated rather than duplicated, a quick result is
// created already completed in one request, annotations go in batches of
// 50, and content-creating requests are paced.
package publish

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/checkrun"
)

// GitHub's limits.
const (
	annotationsPerRequest = 50
	maxTitle              = 255
	maxAnnotationMessage  = 64 * 1024
)

// Target is the commit the runs belong to.
type Target struct {
	Owner, Repo string
	SHA         string
	// ExternalID names the pull request ("" when none), so re-runs of fork
	// PRs, whose check_suite events list no PR, find it.
	ExternalID string
}

// Publisher posts runs through one installation's client.
type Publisher struct {
	Client *github.Client
	AppID  int64
	Pacer  Waiter // nil: unpaced
	// MaxAnnotations caps the annotations posted per run (the summary counts
	// the rest); 0 means the default 500.
	MaxAnnotations int
	// Now is the clock (tests).
	Now func() time.Time
}

// Runs are the App's existing runs on a commit, by name.
type Runs map[string]*github.CheckRun

// Lookup lists the App's runs on the commit (one request for both names).
func (p *Publisher) Lookup(ctx context.Context, t Target) (Runs, error) {
	opts := &github.ListCheckRunsOptions{Filter: github.String("latest"), ListOptions: github.ListOptions{PerPage: 100}}
	if p.AppID != 0 {
		opts.AppID = github.Int64(p.AppID)
	}
	runs := Runs{}
	for {
		res, resp, err := p.Client.Checks.ListCheckRunsForRef(ctx, t.Owner, t.Repo, t.SHA, opts)
		if err != nil {
			return nil, fmt.Errorf("list check runs for %s: %w", short(t.SHA), err)
		}
		for _, r := range res.CheckRuns {
			if p.AppID != 0 && r.GetApp().GetID() != 0 && r.GetApp().GetID() != p.AppID {
				continue
			}
			name := r.GetName()
			if name != checkrun.NameDirs && name != checkrun.NameSecrets {
				continue
			}
			// Keep the newest if an earlier crash left two.
			if old, ok := runs[name]; !ok || r.GetID() > old.GetID() {
				runs[name] = r
			}
		}
		if resp.NextPage == 0 {
			return runs, nil
		}
		opts.Page = resp.NextPage
	}
}

// Start marks a run in progress (creating it when there is none), for
// checks that take a while.
func (p *Publisher) Start(ctx context.Context, t Target, runs Runs, name string) error {
	if err := p.wait(ctx); err != nil {
		return err
	}
	now := github.Timestamp{Time: p.now()}
	if r := runs[name]; r != nil {
		upd, _, err := p.Client.Checks.UpdateCheckRun(ctx, t.Owner, t.Repo, r.GetID(), github.UpdateCheckRunOptions{
			Name: name, Status: github.String("in_progress"), ExternalID: github.String(t.ExternalID),
		})
		if err != nil {
			return fmt.Errorf("mark %s in progress: %w", name, err)
		}
		runs[name] = upd
		return nil
	}
	r, found, err := p.create(ctx, t, github.CreateCheckRunOptions{
		Name: name, HeadSHA: t.SHA, Status: github.String("in_progress"), StartedAt: &now, ExternalID: github.String(t.ExternalID),
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	if found {
		// The create landed after all; mark it in progress.
		runs[name] = r
		return p.Start(ctx, t, runs, name)
	}
	runs[name] = r
	return nil
}

// create posts a new run. A create that may have landed although its
// answer did not arrive (a 5xx, a timeout, a lost connection) is never
// blindly repeated: the commit's runs are looked up, and a run of that name
// that was not there before is returned with found set, for the caller to
// update; only when none is there is the create sent once more.
func (p *Publisher) create(ctx context.Context, t Target, opts github.CreateCheckRunOptions) (run *github.CheckRun, found bool, err error) {
	r, _, err := p.Client.Checks.CreateCheckRun(ctx, t.Owner, t.Repo, opts)
	if err == nil {
		return r, false, nil
	}
	if !MayHaveLanded(err) {
		return nil, false, err
	}
	// Look even when ctx ended (shutdown cancelled the create in flight):
	// the caller then fails the run closed, and must update a run that
	// landed rather than create a second one.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*time.Second)
	runs, lerr := p.Lookup(lctx, t)
	cancel()
	if lerr != nil {
		return nil, false, errors.Join(err, fmt.Errorf("look up whether the create landed: %w", lerr))
	}
	if ctx.Err() != nil {
		if r := runs[opts.Name]; r != nil {
			return r, true, nil
		}
		return nil, false, err
	}
	if r := runs[opts.Name]; r != nil {
		return r, true, nil
	}
	if err := p.wait(ctx); err != nil {
		return nil, false, err
	}
	r, _, err2 := p.Client.Checks.CreateCheckRun(ctx, t.Owner, t.Repo, opts)
	if err2 != nil {
		return nil, false, errors.Join(err, err2)
	}
	return r, false, nil
}

// MayHaveLanded reports whether a request that failed with err may still
// have been carried out by GitHub: no answer at all, or a 5xx. A 4xx (a
// validation error, a rate limit, a permission) was not.
func MayHaveLanded(err error) bool {
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	if errors.As(err, &rl) || errors.As(err, &ab) {
		return false
	}
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		return ge.Response.StatusCode >= 500
	}
	return true
}

// landed reports whether r is the completed run this create would have
// made, so it is not updated again (an update appends its annotations once
// more).
func landed(r *github.CheckRun, c checkrun.Check) bool {
	return r.GetStatus() == "completed" && r.GetConclusion() == string(c.Conclusion) &&
		r.GetOutput().GetTitle() == clip(c.Title, maxTitle)
}

// Action is a button on a check run.
type Action struct {
	Label, Description, Identifier string
}

// Complete posts a finished run: created completed in one request when
// there is none yet, else updated; annotations beyond the first 50 follow
// in further updates.
func (p *Publisher) Complete(ctx context.Context, t Target, runs Runs, c checkrun.Check, actions []Action) error {
	// What is posted comes from checkrun.Post, as the CLI prints it.
	posted := checkrun.Post(c, p.MaxAnnotations)
	anns := toAnnotations(posted.Annotations)
	output := func(batch []*github.CheckRunAnnotation) *github.CheckRunOutput {
		return &github.CheckRunOutput{Title: github.String(posted.Title), Summary: github.String(posted.Summary), Annotations: batch}
	}
	first := anns
	if len(first) > annotationsPerRequest {
		first = first[:annotationsPerRequest]
	}
	var acts []*github.CheckRunAction
	for _, a := range actions {
		acts = append(acts, &github.CheckRunAction{Label: a.Label, Description: a.Description, Identifier: a.Identifier})
	}
	if err := p.wait(ctx); err != nil {
		return err
	}
	now := github.Timestamp{Time: p.now()}
	var id int64
	if runs[c.Name] == nil {
		r, found, err := p.create(ctx, t, github.CreateCheckRunOptions{
			Name: c.Name, HeadSHA: t.SHA, Status: github.String("completed"), Conclusion: github.String(string(c.Conclusion)),
			CompletedAt: &now, ExternalID: github.String(t.ExternalID), Output: output(first), Actions: acts,
		})
		if err != nil {
			return fmt.Errorf("create %s: %w", c.Name, err)
		}
		runs[c.Name] = r
		switch {
		case !found || landed(r, c):
			id = r.GetID()
		default:
			// Another run of that name appeared meanwhile: update it.
			if err := p.wait(ctx); err != nil {
				return err
			}
		}
	}
	if r := runs[c.Name]; id == 0 {
		upd, _, err := p.Client.Checks.UpdateCheckRun(ctx, t.Owner, t.Repo, r.GetID(), github.UpdateCheckRunOptions{
			Name: c.Name, Status: github.String("completed"), Conclusion: github.String(string(c.Conclusion)),
			CompletedAt: &now, ExternalID: github.String(t.ExternalID), Output: output(first), Actions: emptyActions(acts),
		})
		if err != nil {
			return fmt.Errorf("update %s: %w", c.Name, err)
		}
		id = upd.GetID()
		runs[c.Name] = upd
	}
	for i := len(first); i < len(anns); i += annotationsPerRequest {
		end := min(i+annotationsPerRequest, len(anns))
		if err := p.wait(ctx); err != nil {
			return err
		}
		if _, _, err := p.Client.Checks.UpdateCheckRun(ctx, t.Owner, t.Repo, id, github.UpdateCheckRunOptions{
			Name: c.Name, Output: output(anns[i:end]),
		}); err != nil {
			return fmt.Errorf("add annotations to %s: %w", c.Name, err)
		}
	}
	return nil
}

// emptyActions clears old buttons on update: a nil slice would leave them.
func emptyActions(a []*github.CheckRunAction) []*github.CheckRunAction {
	if a == nil {
		return []*github.CheckRunAction{}
	}
	return a
}

func (p *Publisher) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func toAnnotations(as []checkrun.Annotation) []*github.CheckRunAnnotation {
	out := make([]*github.CheckRunAnnotation, 0, len(as))
	for _, a := range as {
		out = append(out, &github.CheckRunAnnotation{
			Path: github.String(a.Path), StartLine: github.Int(a.Line), EndLine: github.Int(a.Line),
			AnnotationLevel: github.String(a.Level), Title: github.String(clip(a.Title, maxTitle)),
			Message: github.String(clip(a.Message, maxAnnotationMessage)),
		})
	}
	return out
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
