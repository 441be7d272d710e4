package handlers_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/coord"
	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/redistest"
)

// budgetWatch hears the runner's limits and budgets.
type budgetWatch struct {
	mu       sync.Mutex
	deferred map[string]int
	seen     []float64
}

func (w *budgetWatch) LimitWait(string, float64) {}
func (w *budgetWatch) Limited(string)            {}
func (w *budgetWatch) LockBusy(string)           {}
func (w *budgetWatch) BudgetSeen(f float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, f)
}

func (w *budgetWatch) BudgetDeferred(work string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.deferred == nil {
		w.deferred = map[string]int{}
	}
	w.deferred[work]++
}

func (w *budgetWatch) deferrals(work string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.deferred[work]
}

const tarballs = "GET /repos/{owner}/{repo}/tarball/{ref}"

// With 4% of the installation's hourly budget left (the emulator reports
// it on every answer), the baseline audit is deferred to the budget's
// reset and reads nothing, while a pull request's check still runs: the
// last 10% are the pull requests'. One replica defers the audit through
// its timers; several through the shared audit queue (in memory, or in
// Redis when a test Redis is named).
func TestAuditDeferredAtBudgetReserveWhilePRCheckRuns(t *testing.T) {
	for _, backend := range []string{"one replica", "shared memory", "shared redis"} {
		t.Run(backend, func(t *testing.T) {
			f := newFixture(t, githubtest.WithRateLimit(1000))
			watch := &budgetWatch{}
			f.runner.Waits = watch
			var later []time.Duration
			var mu sync.Mutex
			f.runner.Later = func(d time.Duration, _ func(context.Context)) bool {
				mu.Lock()
				defer mu.Unlock()
				later = append(later, d)
				return true
			}
			var shared *coord.Backend
			switch backend {
			case "shared memory":
				shared = coord.NewMemory(coord.MemoryOptions{})
			case "shared redis":
				var err error
				shared, err = coord.NewRedis(coord.RedisOptions{URL: redistest.URL(t), Prefix: fmt.Sprintf("hk-budget-%d:", time.Now().UnixNano())})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { shared.Close() })
			}
			if shared != nil {
				f.runner.Shared, f.auditor.Shared = shared, shared
				ctx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				go f.auditor.Run(ctx) // this replica leads
			}

			reset := f.gh.SetRateLimitRemaining(f.inst, 40)
			f.gh.ResetCalls()
			if err := f.deliver("installation", f.gh.InstallationEvent("created", f.inst)); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for watch.deferrals("audit") == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("no audit deferred; %d tarballs read", f.gh.Calls().Count(tarballs))
				}
				time.Sleep(10 * time.Millisecond)
			}
			if n := f.gh.Calls().Count(tarballs); n != 0 {
				t.Fatalf("%d tarballs read with 4%% of the budget left", n)
			}
			if n := f.gh.Calls().Count("GET /rate_limit"); n != 1 {
				t.Errorf("GET /rate_limit asked %d times, want once (the budget was not known yet)", n)
			}
			// Deferred to the reset, spread by at most 30 s.
			until := time.Until(reset)
			if shared == nil {
				mu.Lock()
				got := append([]time.Duration(nil), later...)
				mu.Unlock()
				if len(got) != 1 || got[0] < until-5*time.Second || got[0] > until+31*time.Second {
					t.Fatalf("deferred by %v, want one deferral of about %s", got, until.Round(time.Second))
				}
			} else {
				ctx := context.Background()
				if due, _ := shared.Audits.Due(ctx, time.Now().Add(until-5*time.Second), 10); len(due) != 0 {
					t.Fatalf("the deferred audit is due before the reset: %s", due)
				}
				due, _ := shared.Audits.Due(ctx, reset.Add(31*time.Second), 10)
				if len(due) != 1 {
					t.Fatalf("%d audits due after the reset, want the deferred one", len(due))
				}
			}

			n := f.pr("feature", map[string]string{"apps/web/b.go": "package main\n"})
			if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, n)); err != nil {
				t.Fatal(err)
			}
			runs := f.runs(f.head(n))
			for _, name := range []string{"housekeeper/dirs", "housekeeper/secrets"} {
				if r := runs[name]; r.Status != "completed" || r.Conclusion != "success" {
					t.Errorf("%s on the PR: %s/%s %q, want a completed success", name, r.Status, r.Conclusion, r.Output.Title)
				}
			}
			if watch.deferrals("audit") != 1 {
				t.Errorf("%d audits deferred, want 1", watch.deferrals("audit"))
			}
			watch.mu.Lock()
			low := len(watch.seen) > 0 && watch.seen[len(watch.seen)-1] < 0.04
			watch.mu.Unlock()
			if !low {
				t.Errorf("the PR check's answers did not record the low budget: %v", watch.seen)
			}
		})
	}
}
