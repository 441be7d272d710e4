package reconcile

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/coord"
	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/runner"
)

// With the App's own budget at its reserve, a pass asks for nothing and
// says until when; the budget it sees is recorded in the shared state,
// and with room again passes resume.
func TestPassKeepsTheAppBudgetsReserve(t *testing.T) {
	gh, a, cc := setup(t, githubtest.WithRateLimit(1000))
	a.script["pull_request"] = []int{503}
	guid := send(t, gh, "pull_request")
	shared := coord.NewMemory(coord.MemoryOptions{})
	rn := &runner.Runner{Clients: cc, Shared: shared}
	r := New(Options{Clients: cc, Logger: zerolog.Nop(), Budget: rn.ReconcileBudget, Record: rn.RecordAppBudget})

	reset := gh.SetRateLimitRemaining(0, 50) // 5% of the App's budget
	gh.ResetCalls()
	res, err := r.Pass(context.Background())
	var be *BudgetError
	if !errors.As(err, &be) || !be.Until.Equal(reset) || res.Asked != 0 {
		t.Fatalf("pass at the reserve: %+v, %v; want it skipped until %s", res, err, reset)
	}
	if n := gh.Calls().Count("GET /app/hook/deliveries"); n != 0 || a.count(guid) != 1 {
		t.Fatalf("%d listings, %d attempts: the skipped pass spent the budget", n, a.count(guid))
	}
	if b, ok, _ := shared.Budgets.Get(context.Background(), runner.BudgetKey(0)); !ok || b.Remaining != 50 {
		t.Fatalf("App budget in the shared state: %+v %v, want 50 left", b, ok)
	}

	// A fresh window: the pass goes, and records what it spent.
	gh2, a2, cc2 := setup(t, githubtest.WithRateLimit(1000))
	a2.script["pull_request"] = []int{503}
	guid2 := send(t, gh2, "pull_request")
	rn2 := &runner.Runner{Clients: cc2, Shared: coord.NewMemory(coord.MemoryOptions{})}
	r2 := New(Options{Clients: cc2, Logger: zerolog.Nop(), Budget: rn2.ReconcileBudget, Record: rn2.RecordAppBudget})
	if res, err := r2.Pass(context.Background()); err != nil || res.Asked != 1 || a2.count(guid2) != 2 {
		t.Fatalf("pass with room: %+v, %v, %d attempts", res, err, a2.count(guid2))
	}
	if b, ok, _ := rn2.Shared.Budgets.Get(context.Background(), runner.BudgetKey(0)); !ok || b.Remaining >= 1000 || time.Until(b.Reset) <= 0 {
		t.Fatalf("App budget recorded: %+v %v", b, ok)
	}
}
