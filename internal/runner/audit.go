package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-github/v66/github"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/coord"
	"github.com/housekeeper-app/housekeeper/internal/publish"
)

// RepoRef names a repository to audit.
type RepoRef struct {
	Owner, Name   string
	DefaultBranch string // "" when the event did not say
	// Known when the repository came from the installation's list; an
	// event's short repository object does not say (read then).
	Known bool
	Fork  bool
	// StubsPR: open the stub-entries pull request (a dashboard tick).
	StubsPR bool
	// Permissions the installation has (nil: unknown, tried and handled
	// when refused).
	Permissions map[string]string
}

// Auditor runs whole-tree baseline audits of the repositories an
// installation covers, a few at a time, so that installing the App on a
// large organisation stays inside the installation's rate limit. Dropping
// an installation (deleted or suspended) cancels its pending audits.
type Auditor struct {
	Runner *Runner
	// Workers bounds concurrent audits (0: 2).
	Workers int
	// MaxWait caps how long a rate-limited audit waits before giving up
	// (0: 15 minutes).
	MaxWait time.Duration
	// Pace is background work's own budget of content-creating requests,
	// waited on before the Runner's shared one, so baselines and
	// onboarding never take the whole of it from pull requests (nil: no
	// budget of its own).
	Pace *publish.Pacer
	// Shared, when set (several replicas), holds the queue of audits so it
	// outlives the replica that queued it; Run works it, on one replica
	// at a time (the leader).
	Shared *coord.Backend

	once    sync.Once
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []auditTask
	running map[int64]map[*auditTask]context.CancelFunc
	closed  bool
	wg      sync.WaitGroup
	log     zerolog.Logger
}

type auditTask struct {
	inst int64
	repo RepoRef
}

func (a *Auditor) init() {
	a.once.Do(func() {
		a.cond = sync.NewCond(&a.mu)
		a.running = map[int64]map[*auditTask]context.CancelFunc{}
		n := a.Workers
		if n <= 0 {
			n = 2
		}
		if a.Shared != nil {
			n = 0 // Run works the shared queue
		}
		for i := 0; i < n; i++ {
			a.wg.Add(1)
			go a.work()
		}
	})
}

// sharedTask is an audit as the shared queue holds it.
type sharedTask struct {
	Inst int64   `json:"i"`
	Repo RepoRef `json:"r"`
}

func dropKey(inst int64, repo *RepoRef) string {
	k := "audit-drop:" + strconv.FormatInt(inst, 10)
	if repo != nil {
		k += ":" + repo.Owner + "/" + repo.Name
	}
	return k
}

// Enqueue schedules audits; it returns at once.
func (a *Auditor) Enqueue(ctx context.Context, inst int64, repos []RepoRef) {
	if a.Shared != nil {
		a.enqueueShared(ctx, inst, repos)
		return
	}
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	a.log = *zerolog.Ctx(ctx)
next:
	for _, r := range repos {
		// A repository already waiting is audited once (pushes and ticks
		// come in bursts); a stub-entries request is kept.
		for i := range a.queue {
			q := &a.queue[i]
			if q.inst == inst && q.repo.Owner == r.Owner && q.repo.Name == r.Name {
				q.repo.StubsPR = q.repo.StubsPR || r.StubsPR
				continue next
			}
		}
		a.queue = append(a.queue, auditTask{inst: inst, repo: r})
	}
	a.cond.Broadcast()
}

func (a *Auditor) enqueueShared(ctx context.Context, inst int64, repos []RepoRef) {
	log := zerolog.Ctx(ctx)
	cctx, cancel := coordContext(ctx)
	defer cancel()
	_, _, _ = a.Shared.Slots.Take(cctx, dropKey(inst, nil))
	now := time.Now()
	for _, r := range repos {
		_, _, _ = a.Shared.Slots.Take(cctx, dropKey(inst, &r))
		data, _ := json.Marshal(sharedTask{Inst: inst, Repo: r})
		if err := a.Shared.Audits.Add(cctx, now, data); err != nil {
			log.Error().Err(err).Str("repository", r.Owner+"/"+r.Name).Msg("cannot queue a baseline audit")
		}
	}
}

// dropped reports whether t's installation or repository was dropped
// since it was queued (shared queue).
func (a *Auditor) dropped(ctx context.Context, t auditTask) bool {
	cctx, cancel := coordContext(ctx)
	defer cancel()
	for _, k := range []string{dropKey(t.inst, nil), dropKey(t.inst, &t.repo)} {
		if has, _ := a.Shared.Slots.Has(cctx, k); has {
			return true
		}
	}
	return false
}

// Run works the shared queue of audits with Workers at a time until ctx
// ends; the serve command runs it on the leader only.
func (a *Auditor) Run(ctx context.Context) {
	if a.Shared == nil {
		return
	}
	a.init()
	a.mu.Lock()
	a.log = *zerolog.Ctx(ctx)
	a.mu.Unlock()
	n := a.Workers
	if n <= 0 {
		n = 2
	}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				cctx, cancel := coordContext(ctx)
				due, err := a.Shared.Audits.Due(cctx, time.Now(), 1)
				cancel()
				if err != nil || len(due) == 0 {
					select {
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
					continue
				}
				var st sharedTask
				if json.Unmarshal(due[0], &st) != nil {
					continue
				}
				t := auditTask{inst: st.Inst, repo: st.Repo}
				if a.dropped(ctx, t) {
					continue
				}
				a.runTask(ctx, t)
			}
		}()
	}
	wg.Wait()
}

// runTask audits t, cancellable by Drop and Close.
func (a *Auditor) runTask(parent context.Context, t auditTask) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	a.mu.Lock()
	if a.running[t.inst] == nil {
		a.running[t.inst] = map[*auditTask]context.CancelFunc{}
	}
	a.running[t.inst][&t] = cancel
	log := a.log
	a.mu.Unlock()
	if err := a.audit(log.WithContext(ctx), t); err != nil && !errors.Is(err, context.Canceled) {
		log.Error().Err(err).Str("repository", t.repo.Owner+"/"+t.repo.Name).Msg("baseline audit failed")
	}
	a.mu.Lock()
	delete(a.running[t.inst], &t)
	if len(a.running[t.inst]) == 0 {
		delete(a.running, t.inst)
	}
	a.mu.Unlock()
}

// Drop forgets an installation's pending audits and cancels running ones;
// with repos, only those repositories'.
func (a *Auditor) Drop(inst int64, repos ...RepoRef) {
	if a.Shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), coordTimeout)
		keys := []string{dropKey(inst, nil)}
		if len(repos) > 0 {
			keys = keys[:0]
			for _, r := range repos {
				keys = append(keys, dropKey(inst, &r))
			}
		}
		for _, k := range keys {
			_ = a.Shared.Slots.Put(ctx, k, []byte("1"), 24*time.Hour)
		}
		cancel()
	}
	a.init()
	match := func(t *auditTask) bool {
		if t.inst != inst {
			return false
		}
		if len(repos) == 0 {
			return true
		}
		for _, r := range repos {
			if r.Owner == t.repo.Owner && r.Name == t.repo.Name {
				return true
			}
		}
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	kept := a.queue[:0]
	for _, t := range a.queue {
		if !match(&t) {
			kept = append(kept, t)
		}
	}
	a.queue = kept
	for t, cancel := range a.running[inst] {
		if match(t) {
			cancel()
		}
	}
}

// Pending counts queued audits (tests, metrics).
func (a *Auditor) Pending() int {
	a.init()
	queued := 0
	if a.Shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), coordTimeout)
		queued, _ = a.Shared.Audits.Len(ctx)
		cancel()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	n := len(a.queue) + queued
	for _, m := range a.running {
		n += len(m)
	}
	return n
}

// Close stops taking audits, cancels running ones, and waits for workers.
func (a *Auditor) Close() {
	a.init()
	a.mu.Lock()
	a.closed = true
	a.queue = nil
	for _, m := range a.running {
		for _, cancel := range m {
			cancel()
		}
	}
	a.cond.Broadcast()
	a.mu.Unlock()
	a.wg.Wait()
}

func (a *Auditor) work() {
	defer a.wg.Done()
	for {
		a.mu.Lock()
		for len(a.queue) == 0 && !a.closed {
			a.cond.Wait()
		}
		if a.closed {
			a.mu.Unlock()
			return
		}
		t := a.queue[0]
		a.queue = a.queue[1:]
		ctx, cancel := context.WithCancel(a.log.WithContext(context.Background()))
		if a.running[t.inst] == nil {
			a.running[t.inst] = map[*auditTask]context.CancelFunc{}
		}
		a.running[t.inst][&t] = cancel
		a.mu.Unlock()

		if err := a.audit(ctx, t); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error().Err(err).Str("repository", t.repo.Owner+"/"+t.repo.Name).Msg("baseline audit failed")
		}
		cancel()
		a.mu.Lock()
		delete(a.running[t.inst], &t)
		if len(a.running[t.inst]) == 0 {
			delete(a.running, t.inst)
		}
		a.mu.Unlock()
	}
}

// audit checks a repository's default-branch head as a whole tree. When
// the installation's hourly budget is at the reserve kept for pull
// requests, or spent, the audit is deferred to the budget's reset (see
// deferTask); it backs off briefly on a secondary limit.
func (a *Auditor) audit(ctx context.Context, t auditTask) error {
	maxWait := a.MaxWait
	if maxWait == 0 {
		maxWait = 15 * time.Minute
	}
	deadline := time.Now().Add(maxWait)
	for {
		err := a.once1(ctx, t)
		var bd *budgetDeferral
		var rl *github.RateLimitError
		var until time.Time
		switch {
		case errors.As(err, &bd):
			until = bd.until
		case errors.As(err, &rl):
			until = rl.Rate.Reset.Time
		}
		if !until.IsZero() && a.deferTask(ctx, t, until) {
			return nil
		}
		if bd != nil {
			// Nowhere to defer it to: wait for the reset here.
			if err := sleep(ctx, max(time.Until(bd.until), time.Second)); err != nil {
				return err
			}
			continue
		}
		wait, retry := backoff(err)
		if !retry {
			return err
		}
		if time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("rate limited past %s: %w", maxWait, err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (a *Auditor) once1(ctx context.Context, t auditTask) error {
	counter := &callCounter{}
	client, err := a.Runner.client(t.inst, counter)
	if err != nil {
		return err
	}
	if err := a.Runner.reserveBudget(ctx, t.inst, client, auditCost, "audit"); err != nil {
		return err
	}
	if !t.repo.Known {
		repo, _, err := client.Repositories.Get(ctx, t.repo.Owner, t.repo.Name)
		if err != nil {
			return fmt.Errorf("read %s/%s: %w", t.repo.Owner, t.repo.Name, err)
		}
		if repo.GetArchived() {
			return nil
		}
		t.repo.DefaultBranch, t.repo.Fork, t.repo.Known = repo.GetDefaultBranch(), repo.GetFork(), true
	}
	// An empty repository has no tarball: the baseline's first request
	// answers 404 and it stops there (size 0 is no proof: GitHub reports
	// small repositories as 0 KB too).
	return a.baseline(ctx, t, client, counter, t.repo.DefaultBranch)
}

// deferTask puts an audit off until until (and a little, so audits
// waiting for one reset spread out): into the shared queue of audits, due
// then on whichever replica leads, or through the Runner's Later. It
// reports false when neither is there; the caller then waits itself.
func (a *Auditor) deferTask(ctx context.Context, t auditTask, until time.Time) bool {
	d := max(time.Until(until), 0)
	d += time.Duration(rand.Float64() * float64(min(d/10+time.Second, 30*time.Second)))
	if a.Shared != nil {
		data, err := json.Marshal(sharedTask{Inst: t.inst, Repo: t.repo})
		if err != nil {
			return false
		}
		cctx, cancel := coordContext(ctx)
		defer cancel()
		return a.Shared.Audits.Add(cctx, time.Now().Add(d), data) == nil
	}
	if a.Runner.Later == nil {
		return false
	}
	log := *zerolog.Ctx(ctx)
	return a.Runner.Later(d, func(ctx context.Context) {
		a.Enqueue(log.WithContext(ctx), t.inst, []RepoRef{t.repo})
	})
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff says how long to wait after a rate-limit error.
func backoff(err error) (time.Duration, bool) {
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	switch {
	case errors.As(err, &ab):
		if d := ab.GetRetryAfter(); d > 0 {
			return d, true
		}
		return time.Minute, true
	case errors.As(err, &rl):
		return max(time.Until(rl.Rate.Reset.Time), time.Second), true
	}
	return 0, false
}
