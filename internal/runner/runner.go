// Package runner runs both checks for one commit of one repository: it
// reads the config and the change through the GitHub API, calls the
// engines, and publishes the two check runs, failing closed. Work for one
// (repository, SHA) is coalesced so bursts never race into duplicate runs.
package runner

import (
	"context"
	"encoding/json"
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
	"github.com/housekeeper-app/housekeeper/internal/coord"
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
	Clients githubapp.ClientCreator
	AppID   int64
	// Pacer, when set, paces every installation's content-creating
	// requests together (tests); else ContentPace paces each
	// installation's on its own, through Shared.
	Pacer *publish.Pacer
	// ContentPace is content-creating requests a minute per installation
	// (0: unpaced).
	ContentPace int
	// Shared is the state the replicas share: commit leases and pending
	// re-runs, pacing, command limits (nil: this process's, in memory).
	Shared *coord.Backend
	// CommandLimitUser and CommandLimitInstallation are slash commands a
	// minute per user and repository, and per installation (0: unlimited).
	CommandLimitUser, CommandLimitInstallation int
	// Waits, when set, hears each wait for a limit and each refusal.
	Waits    LimitObserver
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
	// Deferred, when set (several replicas), holds deferred jobs instead of
	// Later's timers, so they outlive this replica; RunDeferred takes them
	// when due, on whichever replica.
	Deferred coord.Deferred

	// AfterPush, when set, is told of a default-branch push whose config
	// keeps a dashboard, or of a repository still without a map, so the
	// dashboard and the onboarding pull request follow the branch.
	AfterPush func(ctx context.Context, inst int64, repo RepoRef)

	bot        botName
	sharedOnce sync.Once
	orgCfg     orgCache
	limits     limiter
	// budgetWrites throttles RecordBudget.
	budgetWrites budgetWrites
}

// LimitObserver hears the runner's limits; the server's metrics implement
// it.
type LimitObserver interface {
	LimitWait(limit string, seconds float64)
	Limited(limit string)
	LockBusy(lock string)
}

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

// shared is Shared, or this process's own state when none was given.
func (r *Runner) shared() *coord.Backend {
	r.sharedOnce.Do(func() {
		if r.Shared == nil {
			r.Shared = coord.NewMemory(coord.MemoryOptions{})
		}
	})
	return r.Shared
}

// Coalescing: a commit is checked by one run at a time across every
// replica. An event puts its job in the commit's pending slot (the newest
// wins), then tries for the commit's lease; whoever holds the lease runs
// what the slot holds until it is empty, releases the lease, and looks at
// the slot once more, since a job put there after its last look whose
// owner failed to get the lease would otherwise wait for the next event.
const (
	commitLeaseTTL = 30 * time.Second // renewed every third of it while the run lives
	pendingTTL     = 15 * time.Minute // a pending job nobody ran (its replica died) is forgotten
	coordTimeout   = 5 * time.Second  // one call to the shared state
)

// wireJob is a Job as the shared state holds it.
type wireJob struct {
	Job
	Retries int `json:"retries,omitempty"`
}

// Run runs a job, or, when the same commit is already being checked (here
// or by another replica), asks that run to go once more when it ends (the
// newest job wins).
func (r *Runner) Run(ctx context.Context, job Job) error {
	sh := r.shared()
	key := job.key()
	data, err := json.Marshal(wireJob{Job: job, Retries: job.retries})
	if err != nil {
		return fmt.Errorf("encode job: %w", err)
	}
	err = coordDo(ctx, func(ctx context.Context) error { return sh.Slots.Put(ctx, key, data, pendingTTL) })
	if err != nil {
		return fmt.Errorf("coalesce %s: %w", job.key(), err)
	}
	return r.drain(ctx, key)
}

// pacer paces one installation's content-creating requests.
func (r *Runner) pacer(installationID int64) publish.Waiter {
	if r.Pacer != nil || r.ContentPace <= 0 {
		return r.Pacer
	}
	lp := &publish.LimitPacer{
		Limits: r.shared().Limits,
		Key:    "pace:" + strconv.FormatInt(installationID, 10),
		Limit:  coord.Limit{Rate: r.ContentPace, Per: time.Minute, Burst: max(r.ContentPace/10, 1)},
	}
	if r.Waits != nil {
		lp.Observe = func(d time.Duration) { r.Waits.LimitWait("content", d.Seconds()) }
	}
	return lp
}

// coordContext bounds one call to the shared state; it is not cancelled
// with a job, so a cancelled job still releases its lease.
func coordContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), coordTimeout)
}

// coordRetryFor is how long a call to the shared state is retried: a
// Redis restart or Sentinel failover takes a few seconds, and a job that
// gave up then would be lost (its delivery was already answered 202).
const coordRetryFor = 30 * time.Second

// coordDo runs f against the shared state, retrying failures (not
// coord.ErrNotObtained) with backoff for up to coordRetryFor.
func coordDo(ctx context.Context, f func(ctx context.Context) error) error {
	deadline := time.Now().Add(coordRetryFor)
	wait := 100 * time.Millisecond
	for {
		cctx, cancel := coordContext(ctx)
		err := f(cctx)
		cancel()
		if err == nil || errors.Is(err, coord.ErrNotObtained) || time.Now().Add(wait).After(deadline) {
			return err
		}
		zerolog.Ctx(ctx).Warn().Err(err).Dur("retry_in", wait).Msg("shared state unavailable; retrying")
		time.Sleep(wait)
		wait = min(2*wait, 2*time.Second)
	}
}

func (r *Runner) drain(ctx context.Context, key string) error {
	sh := r.shared()
	log := zerolog.Ctx(ctx)
	var errs []error
	for {
		var lease coord.Lease
		err := coordDo(ctx, func(ctx context.Context) (err error) {
			lease, err = sh.Locks.Obtain(ctx, "commit:"+key, commitLeaseTTL)
			return err
		})
		if errors.Is(err, coord.ErrNotObtained) {
			if r.Waits != nil {
				r.Waits.LockBusy("commit")
			}
			log.Debug().Str("commit", key).Msg("coalesced with a run in progress for this commit")
			return errors.Join(errs...)
		}
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("lease for %s: %w", key, err))...)
		}
		errs = append(errs, r.runPending(ctx, key, lease)...)
		cctx, cancel := coordContext(ctx)
		_ = lease.Release(cctx)
		cancel()
		var more bool
		err = coordDo(ctx, func(ctx context.Context) (err error) {
			more, err = sh.Slots.Has(ctx, key)
			return err
		})
		if err != nil || !more || ctx.Err() != nil {
			return errors.Join(errs...)
		}
	}
}

// runPending runs the commit's pending jobs while holding its lease, which
// is renewed meanwhile; a run whose lease is lost (Redis unreachable past
// the TTL) is cancelled, since another replica may now check the commit.
func (r *Runner) runPending(ctx context.Context, key string, lease coord.Lease) []error {
	sh := r.shared()
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(commitLeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				cctx, cancel := coordContext(ctx)
				err := lease.Refresh(cctx, commitLeaseTTL)
				cancel()
				if errors.Is(err, coord.ErrLeaseLost) {
					zerolog.Ctx(ctx).Error().Str("commit", key).Msg("lost the commit's lease; stopping this run")
					cancelRun()
					return
				}
			}
		}
	}()
	var errs []error
	// The first job runs even when cancelled already (shutdown): runOnce
	// then completes its runs as failures saying so.
	for first := true; first || runCtx.Err() == nil; first = false {
		var data []byte
		var ok bool
		err := coordDo(ctx, func(ctx context.Context) (err error) {
			data, ok, err = sh.Slots.Take(ctx, key)
			return err
		})
		if err != nil {
			return append(errs, fmt.Errorf("take pending job of %s: %w", key, err))
		}
		if !ok {
			break
		}
		var w wireJob
		if err := json.Unmarshal(data, &w); err != nil {
			errs = append(errs, fmt.Errorf("decode pending job of %s: %w", key, err))
			continue
		}
		job := w.Job
		job.retries = w.Retries
		if err := r.runOnce(runCtx, job); err != nil {
			errs = append(errs, err)
			r.deferLost(ctx, job, err)
		}
	}
	return errs
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
	if r.Deferred != nil {
		data, err := json.Marshal(wireJob{Job: job, Retries: job.retries})
		if err == nil {
			cctx, cancel := coordContext(ctx)
			err = r.Deferred.Add(cctx, time.Now().Add(d), data)
			cancel()
		}
		if err != nil {
			logger.Error().Err(err).Str("sha", job.HeadSHA).Msg("cannot defer the check; a re-run or the next push checks this commit")
			return
		}
		logger.Warn().Str("sha", job.HeadSHA).Dur("in", d).Int("retry", job.retries).Msg("the runs could not be completed; running the check again later")
		return
	}
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

// RunDeferred runs deferred jobs when they are due, until ctx ends; each
// replica runs it, and each job goes to one of them. A job is run through
// Later (bounded by shutdown like any deferred work); one Later refuses
// (shutdown) goes back for another replica.
func (r *Runner) RunDeferred(ctx context.Context) {
	if r.Deferred == nil {
		return
	}
	log := zerolog.Ctx(ctx)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := coordContext(ctx)
		due, err := r.Deferred.Due(cctx, time.Now(), 20)
		cancel()
		if err != nil {
			log.Warn().Err(err).Msg("cannot read deferred checks")
			continue
		}
		for _, data := range due {
			var w wireJob
			if err := json.Unmarshal(data, &w); err != nil {
				log.Error().Err(err).Msg("undecodable deferred check dropped")
				continue
			}
			job := w.Job
			job.retries = w.Retries
			run := func(ctx context.Context) {
				ctx = log.WithContext(ctx)
				log.Info().Str("sha", job.HeadSHA).Int("retry", job.retries).Msg("running a deferred check again")
				if err := r.Run(ctx, job); err != nil {
					log.Error().Err(err).Str("sha", job.HeadSHA).Msg("deferred check failed")
				}
			}
			if r.Later == nil {
				run(ctx)
				continue
			}
			if !r.Later(0, run) {
				cctx, cancel := coordContext(ctx)
				_ = r.Deferred.Add(cctx, time.Now(), data)
				cancel()
			}
		}
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
	pub := &publish.Publisher{Client: client, AppID: r.AppID, Pacer: r.pacer(job.InstallationID)}
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
	pctx := ctx
	if ctx.Err() != nil {
		// The deadline cut the scan short: what it found is published,
		// failing, within the closing grace.
		var cancel context.CancelFunc
		pctx, cancel = closingContext(ctx)
		defer cancel()
	}
	for _, c := range checks {
		pub.MaxAnnotations = st.maxAnnotations
		if err := pub.Complete(pctx, target, runs, c.Check, c.actions); err != nil {
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
	hc.Transport = countingTransport{next: budgetTransport{next: next, r: r, inst: installationID}, c: c}
	gc := github.NewClient(&hc)
	gc.BaseURL, gc.UploadURL, gc.UserAgent = base.BaseURL, base.UploadURL, base.UserAgent
	return gc, nil
}
