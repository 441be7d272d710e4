// Package publish posts check runs: one lookup finds the runs already on a
// commit so they are updated rather than duplicated, a quick result is
// created already completed in one request, annotations go in batches of
// 50, and content-creating requests are paced.
package publish

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/checkrun"
	"github.com/housekeeper-app/housekeeper/internal/retry"
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
	// SettleAfter is how long a create that got no answer may still land
	// on GitHub's side; 0 means DefaultSettleAfter.
	SettleAfter time.Duration
	// Sleep waits d or until ctx ends (tests); nil: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultSettleAfter: GitHub ends a request after 10 s on its side, so a
// create sent longer ago than that has landed or never will.
const DefaultSettleAfter = 10 * time.Second

// ErrUnsettled is why a run was neither created nor updated: a create of
// it got no answer and may still land, and there was no time left to wait
// for that. A second create now could duplicate the run; the job is to be
// run again later, when a lookup finds what landed.
var ErrUnsettled = errors.New("a create of this run got no answer and may still land")

// unsettled marks, in Runs, a name whose create got no answer and was not
// found yet; its StartedAt is when that create was sent.
func unsettled(r *github.CheckRun) bool { return r != nil && r.ID == nil }

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
	if err := p.settle(ctx, t, runs, name); err != nil {
		return fmt.Errorf("mark %s in progress: %w", name, err)
	}
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
	r, found, err := p.create(ctx, t, runs, github.CreateCheckRunOptions{
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
// answer did not arrive is never blindly repeated, since a second create
// would duplicate the run:
//   - it is not cut off by ctx (a shutdown): once sent it gets createGrace
//     to answer, so its answer, not a guess, says what happened;
//   - after a failure the commit's runs are looked up, and a run of that
//     name that was not there before is returned with found set (for the
//     caller to update);
//   - when none is there after a 5xx answer (GitHub is done with the
//     request), it is created again;
//   - when none is there after no answer at all (a timeout, a lost
//     connection), it may still land until SettleAfter has passed since it
//     was sent: it is looked up again after that, and only then created.
//     When ctx leaves no time to wait, nothing is created: runs[name] is
//     marked unsettled and ErrUnsettled returned.
func (p *Publisher) create(ctx context.Context, t Target, runs Runs, opts github.CreateCheckRunOptions) (run *github.CheckRun, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err // not sent: nothing can land
	}
	sent := p.now()
	cctx, cancel := detach(ctx, createGrace)
	r, _, err := p.Client.Checks.CreateCheckRun(cctx, t.Owner, t.Repo, opts)
	cancel()
	if err == nil {
		return r, false, nil
	}
	if !MayHaveLanded(err) {
		return nil, false, err
	}
	// Look even when ctx ended: the caller then fails the run closed, and
	// must update a run that landed rather than create a second.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupGrace)
	existing, lerr := p.Lookup(lctx, t)
	cancel()
	if lerr != nil {
		return nil, false, errors.Join(err, fmt.Errorf("look up whether the create landed: %w", lerr))
	}
	if r := existing[opts.Name]; r != nil {
		return r, true, nil
	}
	if !answered(err) {
		runs[opts.Name] = &github.CheckRun{Name: github.String(opts.Name), StartedAt: &github.Timestamp{Time: sent}}
		if ctx.Err() != nil {
			return nil, false, errors.Join(err, ErrUnsettled)
		}
		if serr := p.settle(ctx, t, runs, opts.Name); serr != nil {
			return nil, false, errors.Join(err, serr)
		}
		if r := runs[opts.Name]; r != nil {
			return r, true, nil
		}
	} else if ctx.Err() != nil {
		return nil, false, err
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

// Time given to the last requests of a cancelled job.
const (
	createGrace = 4 * time.Second // a create in flight when its job is cancelled
	lookupGrace = 4 * time.Second // the lookup after a create that failed
)

// settle resolves a name marked unsettled: once SettleAfter has passed
// since its create was sent, one lookup tells whether it landed (runs then
// holds it) or not (the name is cleared, to be created). It returns
// ErrUnsettled, leaving the mark, when ctx ends before that; when ctx has
// ended already it still looks once within lookupGrace, in case the run
// has landed by now.
func (p *Publisher) settle(ctx context.Context, t Target, runs Runs, name string) error {
	r := runs[name]
	if !unsettled(r) {
		return nil
	}
	settleAfter := p.SettleAfter
	if settleAfter <= 0 {
		settleAfter = DefaultSettleAfter
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupGrace)
	defer cancel()
	waited := ctx.Err() == nil && p.sleep(ctx, time.Until(r.GetStartedAt().Add(settleAfter))) == nil
	if waited {
		lctx = ctx
	}
	found, err := p.Lookup(lctx, t)
	if err != nil {
		return fmt.Errorf("look up whether the create of %s landed: %w", name, err)
	}
	if landed := found[name]; landed != nil {
		runs[name] = landed
		return nil
	}
	if !waited {
		return ErrUnsettled
	}
	delete(runs, name)
	return nil
}

// answered reports whether a failed request got an answer from GitHub (a
// 5xx): GitHub is done with it. Without one it may still be under way.
func answered(err error) bool {
	var ge *github.ErrorResponse
	return errors.As(err, &ge) && ge.Response != nil
}

// detach gives a request a context that ctx's end does not cut off at
// once, only grace later.
func detach(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var mu sync.Mutex
	var timer *time.Timer
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(grace, cancel)
	})
	return dctx, func() {
		stop()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

func (p *Publisher) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	return retry.Sleep(ctx, d)
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
	if err := p.settle(ctx, t, runs, c.Name); err != nil {
		return fmt.Errorf("complete %s: %w", c.Name, err)
	}
	var id int64
	if runs[c.Name] == nil {
		r, found, err := p.create(ctx, t, runs, github.CreateCheckRunOptions{
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
