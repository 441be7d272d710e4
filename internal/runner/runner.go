// Package runner runs both checks for one commit of one repository: it
// reads the config and the change through the GitHub API, calls the
// engines, and publishes the two check runs, failing closed. Work for one
// (repository, SHA) is coalesced so bursts never race into duplicate runs.
package runner

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-github/v66/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/checkrun"
	"github.com/housekeeper-app/housekeeper/internal/config"
	"github.com/housekeeper-app/housekeeper/internal/dirmap"
	"github.com/housekeeper-app/housekeeper/internal/publish"
)

// Job says which commit to check and against what.
type Job struct {
	InstallationID int64
	Owner, Repo    string
	DefaultBranch  string
	HeadSHA        string
	// BaseSHA is what the head is compared with ("" audits the whole tree).
	BaseSHA string
	// BaseRef is the branch whose tip holds the config that judges the
	// change (a PR's base branch; the default branch otherwise).
	BaseRef string
	PR      int
	// IgnoresPR names the pull request whose accepted ignores apply when
	// the job is not for that PR itself (its merge group, or the push that
	// merged it).
	IgnoresPR int
	// Event and Delivery are for logs.
	Event, Delivery string

	retries int // times this job was deferred (see Runner.Later)
}

func (j Job) key() string { return j.Owner + "/" + j.Repo + "@" + j.HeadSHA }

// FailClosedObserver, when the Observer implements it, hears each run
// completed as a failure because the App could not finish it, with a
// reason: config, rate_limit, shutdown or error.
type FailClosedObserver interface {
	FailedClosed(check, reason string)
}

func failClosedReason(cause error) string {
	var ce *configError
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	switch {
	case errors.As(cause, &ce):
		return "config"
	case errors.Is(cause, ErrShutdown):
		return "shutdown"
	case errors.As(cause, &rl), errors.As(cause, &ab):
		return "rate_limit"
	}
	return "error"
}

// Observer receives what the runner measures; the server's metrics
// implement it. A nil Observer is allowed.
type Observer interface {
	Conclusion(check, conclusion string)
	Finding(check, level, tier string)
	Run(d time.Duration, calls int)
}

// Runner runs jobs.
type Runner struct {
	Clients  githubapp.ClientCreator
	AppID    int64
	Pacer    *publish.Pacer
	Observer Observer
	// MarkerKey verifies the ignore markers in the App's comments.
	MarkerKey []byte
	// OrgConfigTTL is how long an organisation's inherited config is
	// cached (0: 5 minutes).
	OrgConfigTTL time.Duration
	// Later, when set, runs f after d unless the server is shutting down
	// (server.Background.Later). A job whose runs could not be completed at
	// all — GitHub's primary rate limit used up, or GitHub unreachable even
	// to fail closed — is run again through it: at the limit's reset, else
	// after RetryDelay, 2·RetryDelay, 4·RetryDelay (then it is left to a
	// re-run or the next push).
	Later func(d time.Duration, f func(context.Context)) bool
	// RetryDelay is the first deferral's delay when no reset time is known
	// (0: 30 s).
	RetryDelay time.Duration

	// AfterPush, when set, is told of a default-branch push whose config
	// keeps a dashboard, or of a repository still without a map, so the
	// dashboard and the onboarding pull request follow the branch.
	AfterPush func(ctx context.Context, inst int64, repo RepoRef)

	bot    botName
	mu     sync.Mutex
	active map[string]*slot
	orgCfg orgCache
	limits limiter
}

type slot struct{ pending *Job }

// onboardable: the default branch has no map and onboarding is on, so a
// push may change what the onboarding pull request should hold.
func onboardable(cfg *config.Config, checks []result) bool {
	if cfg.Onboarding == config.OnboardingOff {
		return false
	}
	for _, c := range checks {
		for _, f := range c.Findings {
			if f.Kind == string(dirmap.KindMissing) {
				return true
			}
		}
	}
	return false
}

// OnboardingObserver, when the Observer implements it, counts onboarding
// outcomes (opened, declined, no_permission, dry_run…).
type OnboardingObserver interface {
	Onboarding(outcome string)
}

func (r *Runner) observeOnboarding(outcome string) {
	if o, ok := r.Observer.(OnboardingObserver); ok {
		o.Onboarding(outcome)
	}
}

// Run runs a job, or, when the same commit is already being checked, asks
// that run to go once more when it ends (the newest job wins).
func (r *Runner) Run(ctx context.Context, job Job) error {
	key := job.key()
	r.mu.Lock()
	if r.active == nil {
		r.active = map[string]*slot{}
	}
	if s := r.active[key]; s != nil {
		s.pending = &job
		r.mu.Unlock()
		zerolog.Ctx(ctx).Debug().Str("sha", job.HeadSHA).Msg("coalesced with a run in progress for this commit")
		return nil
	}
	s := &slot{}
	r.active[key] = s
	r.mu.Unlock()
	var errs []error
	for {
		if err := r.runOnce(ctx, job); err != nil {
			errs = append(errs, err)
			r.deferLost(ctx, job, err)
		}
		r.mu.Lock()
		if s.pending == nil || ctx.Err() != nil {
			delete(r.active, key)
			r.mu.Unlock()
			return errors.Join(errs...)
		}
		job = *s.pending
		s.pending = nil
		r.mu.Unlock()
	}
}

// maxDeferrals bounds how often one job is run again later.
const maxDeferrals = 3

// lostError marks a run whose check runs could not be completed, not even
// as failures: the commit shows no result (or an old one) until it is run
// again.
type lostError struct{ err error }

func (e *lostError) Error() string { return e.err.Error() }
func (e *lostError) Unwrap() error { return e.err }

// deferLost runs a job again later when its runs could not be completed.
func (r *Runner) deferLost(ctx context.Context, job Job, err error) {
	var lost *lostError
	if r.Later == nil || !errors.As(err, &lost) || ctx.Err() != nil || job.retries >= maxDeferrals {
		return
	}
	d := r.RetryDelay
	if d <= 0 {
		d = 30 * time.Second
	}
	d <<= job.retries
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	switch {
	case errors.As(err, &rl):
		d = time.Until(rl.Rate.Reset.Time)
	case errors.As(err, &ab) && ab.RetryAfter != nil:
		d = *ab.RetryAfter
	}
	// Spread the jobs waiting for one reset.
	d = max(d, 0) + time.Duration(rand.Float64()*float64(min(d/10+time.Second, 30*time.Second)))
	job.retries++
	logger := *zerolog.Ctx(ctx)
	if r.Later(d, func(ctx context.Context) {
		ctx = logger.WithContext(ctx)
		logger.Info().Str("sha", job.HeadSHA).Int("retry", job.retries).Msg("running a deferred check again")
		if err := r.Run(ctx, job); err != nil {
			logger.Error().Err(err).Str("sha", job.HeadSHA).Msg("deferred check failed")
		}
	}) {
		logger.Warn().Str("sha", job.HeadSHA).Dur("in_ms", d).Int("retry", job.retries).Msg("the runs could not be completed; running the check again later")
	}
}

// runOnce checks one commit. Every error it survives ends with both runs
// completed (as failures saying why), never left in progress; when not even
// that was possible, the error is a *lostError.
func (r *Runner) runOnce(ctx context.Context, job Job) error {
	start := time.Now()
	logger := zerolog.Ctx(ctx).With().Str("sha", job.HeadSHA).Int("pr", job.PR).Logger()
	ctx = logger.WithContext(ctx)
	counter := &callCounter{}
	client, err := r.client(job.InstallationID, counter)
	if err != nil {
		return fmt.Errorf("installation client: %w", err)
	}
	pub := &publish.Publisher{Client: client, AppID: r.AppID, Pacer: r.Pacer}
	target := publish.Target{Owner: job.Owner, Repo: job.Repo, SHA: job.HeadSHA}
	if job.PR > 0 {
		target.ExternalID = strconv.Itoa(job.PR)
	}
	if ctx.Err() != nil {
		// Cancelled before it began (the server's shutdown deadline passed
		// while it was queued): complete the runs as failures saying so,
		// rather than leave the commit without them.
		return r.abandon(ctx, pub, target, job)
	}
	runs, err := pub.Lookup(ctx, target)
	if err != nil {
		if ctx.Err() != nil {
			return errors.Join(err, r.abandon(ctx, pub, target, job))
		}
		// Without the lookup a create could duplicate a run; the job is
		// run again later (deferLost), or the next event or a re-run
		// completes it.
		return &lostError{err}
	}
	st := &state{r: r, job: job, client: client, pub: pub, target: target, runs: runs}
	checks, err := st.check(ctx)
	if err != nil {
		logger.Error().Err(err).Msg("check failed; failing closed")
		ferr := r.failClosed(ctx, st, err)
		r.observe(start, counter, nil)
		if ferr != nil {
			return &lostError{errors.Join(err, ferr)}
		}
		return err
	}
	var errs []error
	for _, c := range checks {
		pub.MaxAnnotations = st.maxAnnotations
		if err := pub.Complete(ctx, target, runs, c.Check, c.actions); err != nil {
			errs = append(errs, err)
			// The run may be half-published: complete it as a failure.
			if ferr := r.failOne(ctx, st, c.Name, err); ferr != nil {
				errs = append(errs, &lostError{ferr})
			}
		}
	}
	r.observe(start, counter, checks)
	logger.Info().Int("api_calls", counter.n()).Dur("took_ms", time.Since(start)).Msg("checks published")
	if job.Event == "push" && job.PR == 0 && st.cfg != nil && r.AfterPush != nil && (st.cfg.Dashboard || onboardable(st.cfg, checks)) {
		r.AfterPush(ctx, job.InstallationID, RepoRef{Owner: job.Owner, Name: job.Repo, DefaultBranch: job.DefaultBranch})
	}
	return errors.Join(errs...)
}

func (r *Runner) observe(start time.Time, c *callCounter, checks []result) {
	if r.Observer == nil {
		return
	}
	r.Observer.Run(time.Since(start), c.n())
	for _, ch := range checks {
		r.Observer.Conclusion(ch.Name, string(ch.Conclusion))
		for _, f := range ch.Findings {
			tier := ""
			if f.Secret != nil {
				tier = f.Tier
			}
			r.Observer.Finding(ch.Name, f.Level, tier)
		}
	}
}

// failClosed completes both runs as failures that say what went wrong and
// how to run them again.
func (r *Runner) failClosed(ctx context.Context, st *state, cause error) error {
	var errs []error
	for _, name := range []string{checkrun.NameDirs, checkrun.NameSecrets} {
		if err := r.failOne(ctx, st, name, cause); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ErrShutdown is why a job cancelled by the server's shutdown failed.
var ErrShutdown = errors.New("the App was shutting down and could not finish this check")

// abandon completes both runs of a job that was cancelled before it could
// look them up: one lookup and two writes, within the shutdown's grace.
func (r *Runner) abandon(ctx context.Context, pub *publish.Publisher, target publish.Target, job Job) error {
	fctx, cancel := closingContext(ctx)
	defer cancel()
	runs, err := pub.Lookup(fctx, target)
	if err != nil {
		return fmt.Errorf("complete the runs of a cancelled job: %w", err)
	}
	st := &state{r: r, job: job, pub: pub, target: target, runs: runs}
	return errors.Join(ErrShutdown, r.failClosed(ctx, st, ErrShutdown))
}

// closingContext is for the last requests of a job: not cancelled with it,
// but short when the job was cancelled (shutdown gives handlers 5 s once it
// cancels them).
func closingContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d := 30 * time.Second
	if ctx.Err() != nil {
		d = 4 * time.Second
	}
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

func (r *Runner) failOne(ctx context.Context, st *state, name string, cause error) error {
	// A cancelled job (shutdown) still gets its runs completed.
	if ctx.Err() != nil && !errors.Is(cause, ErrShutdown) {
		cause = fmt.Errorf("%w: %w", ErrShutdown, cause)
	}
	ctx, cancel := closingContext(ctx)
	defer cancel()
	c := checkrun.Check{Name: name, Conclusion: checkrun.Failure, Title: "Housekeeper could not finish this check", Summary: failureSummary(cause)}
	var ce *configError
	if errors.As(cause, &ce) {
		c.Title = "Invalid Housekeeper config"
		c.Summary = ce.summary()
	}
	if o, ok := r.Observer.(FailClosedObserver); ok {
		o.FailedClosed(name, failClosedReason(cause))
	}
	// A client of its own: go-github refuses, without asking GitHub, every
	// request of a client that saw a rate limit until it resets, though
	// the limit may not apply to these writes (a secondary limit on reads).
	pub := *st.pub
	pub.Client = freshClient(st.pub.Client)
	pub.MaxAnnotations = 0
	return pub.Complete(ctx, st.target, st.runs, c, nil)
}

// freshClient is a go-github client over the same HTTP client (token,
// retries, metrics) without the rate-limit state of the old one.
func freshClient(old *github.Client) *github.Client {
	gc := github.NewClient(old.Client())
	gc.BaseURL, gc.UploadURL, gc.UserAgent = old.BaseURL, old.UploadURL, old.UserAgent
	return gc
}

func failureSummary(err error) string {
	msg := fmt.Sprintf("Housekeeper could not finish this check, so it fails closed (a passing result it could not compute would let the change through).\n\n**Why:** %s\n\n", err)
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	switch {
	case errors.As(err, &rl):
		msg += fmt.Sprintf("GitHub's API rate limit for this installation is used up until %s. Re-run this check after that (the **Re-run** button, or comment `/housekeeper recheck` on the pull request).\n", rl.Rate.Reset.UTC().Format("15:04:05 MST"))
	case errors.As(err, &ab):
		msg += "GitHub asked Housekeeper to slow down (a secondary rate limit). Re-run this check in a few minutes (the **Re-run** button, or comment `/housekeeper recheck`).\n"
	default:
		msg += "Re-run this check with the **Re-run** button, comment `/housekeeper recheck` on the pull request, or push again. If it keeps failing, the App's logs have the details.\n"
	}
	return msg
}

// callCounter counts the GitHub API calls of one run.
type callCounter struct {
	mu    sync.Mutex
	calls int
}

func (c *callCounter) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

type countingTransport struct {
	next http.RoundTripper
	c    *callCounter
}

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.c.mu.Lock()
	t.c.calls++
	t.c.mu.Unlock()
	return t.next.RoundTrip(req)
}

// client returns the installation's client, counting this run's calls.
func (r *Runner) client(installationID int64, c *callCounter) (*github.Client, error) {
	base, err := r.Clients.NewInstallationClient(installationID)
	if err != nil {
		return nil, err
	}
	hc := *base.Client()
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = countingTransport{next: next, c: c}
	gc := github.NewClient(&hc)
	gc.BaseURL, gc.UploadURL, gc.UserAgent = base.BaseURL, base.UploadURL, base.UserAgent
	return gc, nil
}
