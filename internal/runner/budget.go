package runner

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-github/v66/github"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/coord"
)

// The hourly API budget: GitHub gives each installation a number of REST
// requests an hour, reported on every answer. The runner records each
// installation's in the shared state, so every replica sees it, and work
// that can wait (baseline audits, with their dashboards, onboarding and
// stub-entries pull requests) reserves its requests first: below
// BudgetKeep of the limit it is deferred to the budget's reset, and what
// is left goes to pull-request checks and commands alone.
const (
	// BudgetKeep is the fraction of an installation's hourly budget kept
	// for pull-request checks and commands.
	BudgetKeep = 0.10
	// auditCost is what an audit reserves: a typical baseline's requests
	// (repository, tarball, config, check runs, dashboard). A newer report
	// from GitHub replaces the reservations with what was really spent.
	auditCost = 10
)

// BudgetObserver, when Waits implements it, hears the budgets: the
// fraction left in each report written to the shared state, and work
// deferred to keep the reserve.
type BudgetObserver interface {
	BudgetSeen(fractionLeft float64)
	BudgetDeferred(work string)
}

// BudgetKey names an installation's budget in the shared state (0: the
// App's own, spent with its JWT).
func BudgetKey(inst int64) string {
	if inst == 0 {
		return "app"
	}
	return "inst:" + strconv.FormatInt(inst, 10)
}

// budgetWrites throttles the reports written to the shared state: one
// answer in many is enough while the budget is far from its reserve.
type budgetWrites struct {
	mu   sync.Mutex
	last map[int64]budgetWrite
}

type budgetWrite struct {
	b  coord.Budget
	at time.Time
}

// maxBudgetWrites bounds the installations remembered; past it the
// memory starts over (a few extra writes).
const maxBudgetWrites = 10_000

// due reports whether b should be written: a new window, 1% of the
// limit spent since the last write, a second passed, or the budget near
// its reserve.
func (w *budgetWrites) due(inst int64, b coord.Budget, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil || len(w.last) >= maxBudgetWrites {
		w.last = map[int64]budgetWrite{}
	}
	prev, ok := w.last[inst]
	step := max(b.Limit/100, 1)
	if ok && prev.b.Reset.Equal(b.Reset) && prev.b.Limit == b.Limit && prev.b.Remaining-b.Remaining < step &&
		now.Sub(prev.at) < time.Second && float64(b.Remaining) > 2*BudgetKeep*float64(b.Limit) {
		return false
	}
	w.last[inst] = budgetWrite{b: b, at: now}
	return true
}

// budgetFromHeader reads GitHub's rate headers of the core (REST) budget.
func budgetFromHeader(h http.Header) (coord.Budget, bool) {
	if res := h.Get("X-RateLimit-Resource"); res != "" && res != "core" {
		return coord.Budget{}, false // search, GraphQL…: budgets of their own
	}
	limit, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	left, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset, err3 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || limit <= 0 {
		return coord.Budget{}, false
	}
	return coord.Budget{Limit: limit, Remaining: max(left, 0), Reset: time.Unix(reset, 0)}, true
}

// RecordBudget stores what GitHub reported of inst's hourly budget.
func (r *Runner) RecordBudget(ctx context.Context, inst int64, b coord.Budget) {
	if !r.budgetWrites.due(inst, b, time.Now()) {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := r.shared().Budgets.Record(cctx, BudgetKey(inst), b); err != nil {
		zerolog.Ctx(ctx).Debug().Err(err).Msg("cannot record the API budget")
		return
	}
	if o, ok := r.Waits.(BudgetObserver); ok {
		o.BudgetSeen(float64(b.Remaining) / float64(b.Limit))
	}
}

// budgetTransport records the budget each answer reports.
type budgetTransport struct {
	next http.RoundTripper
	r    *Runner
	inst int64
}

func (t budgetTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		if b, ok := budgetFromHeader(resp.Header); ok {
			t.r.RecordBudget(req.Context(), t.inst, b)
		}
	}
	return resp, err
}

// budgetDeferral says work was put off until its budget resets.
type budgetDeferral struct{ until time.Time }

func (d *budgetDeferral) Error() string {
	return "the installation's hourly API budget is at the reserve kept for pull requests until " + d.until.UTC().Format(time.TimeOnly)
}

// reserveBudget takes n requests of inst's budget for work that can wait,
// or returns a *budgetDeferral saying until when to wait. A budget never
// seen is asked of GitHub first (GET /rate_limit does not count against
// it). Errors of the shared state let the work go: GitHub's own limit
// still stops it.
func (r *Runner) reserveBudget(ctx context.Context, inst int64, client *github.Client, n int, work string) error {
	sh := r.shared()
	key := BudgetKey(inst)
	cctx, cancel := coordContext(ctx)
	_, known, err := sh.Budgets.Get(cctx, key)
	cancel()
	if err == nil && !known && client != nil {
		if rl, _, err := client.RateLimit.Get(ctx); err == nil && rl.GetCore() != nil {
			c := rl.GetCore()
			cctx, cancel := coordContext(ctx)
			_ = sh.Budgets.Record(cctx, key, coord.Budget{Limit: c.Limit, Remaining: c.Remaining, Reset: c.Reset.Time})
			cancel()
		}
	}
	cctx, cancel = coordContext(ctx)
	ok, b, err := sh.Budgets.Reserve(cctx, key, n, BudgetKeep)
	cancel()
	if err != nil || ok {
		return nil
	}
	if o, ok := r.Waits.(BudgetObserver); ok {
		o.BudgetDeferred(work)
	}
	zerolog.Ctx(ctx).Warn().Int("remaining", b.Remaining).Int("limit", b.Limit).Time("until", b.Reset).Str("work", work).
		Msg("deferred: the rest of the hour's API budget is kept for pull requests")
	return &budgetDeferral{until: b.Reset}
}

// reconcileCost is what a reconciler pass reserves of the App's own
// budget: a few pages of deliveries and a few redelivery requests.
const reconcileCost = 10

// ReconcileBudget is the reconciler's Budget: a pass reserves its
// requests of the App's own hourly budget (spent with the App's JWT, which
// also mints every installation's token), or is put off until the reset
// it returns while only the reserve is left.
func (r *Runner) ReconcileBudget(ctx context.Context, client *github.Client) time.Time {
	var bd *budgetDeferral
	if errors.As(r.reserveBudget(ctx, 0, client, reconcileCost, "reconciler"), &bd) {
		return bd.until
	}
	return time.Time{}
}

// RecordAppBudget is the reconciler's Record: the App budget an answer
// reported.
func (r *Runner) RecordAppBudget(ctx context.Context, rate github.Rate) {
	r.RecordBudget(ctx, 0, coord.Budget{Limit: rate.Limit, Remaining: rate.Remaining, Reset: rate.Reset.Time})
}
