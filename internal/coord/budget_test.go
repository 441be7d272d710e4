package coord_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/coord"
)

func TestBudgets(t *testing.T) { eachBackend(t, testBudgets) }

func testBudgets(t *testing.T, r replicas) {
	ctx := ctxT(t)
	a, b := r(t, coord.QueueOptions{Capacity: 10})
	reset := time.Now().Add(time.Hour).Truncate(time.Second)

	// Never seen: granted, and nothing known.
	if ok, _, err := a.Budgets.Reserve(ctx, "inst:1", 10, 0.1); err != nil || !ok {
		t.Fatalf("unknown budget: ok=%v err=%v, want granted", ok, err)
	}
	if _, known, _ := b.Budgets.Get(ctx, "inst:1"); known {
		t.Fatal("Get: known before any report")
	}

	// Reports from two replicas, out of order: the lowest wins.
	must(t, a.Budgets.Record(ctx, "inst:1", coord.Budget{Limit: 5000, Remaining: 700, Reset: reset}))
	must(t, b.Budgets.Record(ctx, "inst:1", coord.Budget{Limit: 5000, Remaining: 900, Reset: reset}))
	got, known, err := b.Budgets.Get(ctx, "inst:1")
	must(t, err)
	if !known || got.Limit != 5000 || got.Remaining != 700 || !got.Reset.Equal(reset) {
		t.Fatalf("Get = %+v known=%v, want 700 of 5000 until %s", got, known, reset)
	}
	// A report of an earlier window is stale.
	must(t, a.Budgets.Record(ctx, "inst:1", coord.Budget{Limit: 5000, Remaining: 10, Reset: reset.Add(-time.Hour)}))
	if got, _, _ := a.Budgets.Get(ctx, "inst:1"); got.Remaining != 700 {
		t.Fatalf("a stale report changed the budget: %d left", got.Remaining)
	}

	// Reservations keep 10% (500) back, across replicas.
	for i, be := range []*coord.Backend{a, b} {
		ok, left, err := be.Budgets.Reserve(ctx, "inst:1", 100, 0.1)
		must(t, err)
		if !ok || left.Remaining != 600-100*i {
			t.Fatalf("reservation %d: ok=%v left=%d, want granted, %d left", i+1, ok, left.Remaining, 600-100*i)
		}
	}
	ok, left, err := a.Budgets.Reserve(ctx, "inst:1", 1, 0.1)
	must(t, err)
	if ok || left.Remaining != 500 || !left.Reset.Equal(reset) {
		t.Fatalf("reservation into the reserve: ok=%v %+v, want refused with 500 left until %s", ok, left, reset)
	}
	// Work that may use the reserve (keep 0) still gets it.
	if ok, _, _ := b.Budgets.Reserve(ctx, "inst:1", 1, 0); !ok {
		t.Fatal("keep 0 refused with 500 left")
	}
	// Another installation has its own budget.
	if ok, _, _ := b.Budgets.Reserve(ctx, "inst:2", 1000, 0.1); !ok {
		t.Fatal("another installation was refused")
	}

	// A newer report replaces the reservations with what was spent.
	must(t, b.Budgets.Record(ctx, "inst:1", coord.Budget{Limit: 5000, Remaining: 650, Reset: reset}))
	if got, _, _ := a.Budgets.Get(ctx, "inst:1"); got.Remaining != 650 {
		t.Fatalf("after a newer report: %d left, want 650", got.Remaining)
	}
	// A new window starts over, even with fewer left than before.
	next := reset.Add(time.Hour)
	must(t, a.Budgets.Record(ctx, "inst:1", coord.Budget{Limit: 5000, Remaining: 4999, Reset: next}))
	if got, _, _ := b.Budgets.Get(ctx, "inst:1"); got.Remaining != 4999 || !got.Reset.Equal(next) {
		t.Fatalf("new window: %+v, want 4999 until %s", got, next)
	}
	must(t, a.Budgets.Record(ctx, "inst:1", coord.Budget{Limit: 5000, Remaining: 3, Reset: next}))

	// Exhausted, then its window resets: granted again.
	past := time.Now().Add(-time.Second).Truncate(time.Second)
	must(t, a.Budgets.Record(ctx, "inst:3", coord.Budget{Limit: 5000, Remaining: 0, Reset: past}))
	if ok, _, _ := b.Budgets.Reserve(ctx, "inst:3", 1, 0.1); !ok {
		t.Fatal("a budget whose window has reset was refused")
	}

	// Replicas racing for the last of a budget never overdraw it.
	must(t, a.Budgets.Record(ctx, "race", coord.Budget{Limit: 100, Remaining: 30, Reset: reset}))
	var granted atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			be := a
			if i%2 == 1 {
				be = b
			}
			if ok, _, err := be.Budgets.Reserve(ctx, "race", 1, 0.1); err == nil && ok {
				granted.Add(1)
			}
		}()
	}
	wg.Wait()
	if granted.Load() != 20 {
		t.Fatalf("%d of 40 racing reservations granted, want 20 (30 left, 10 kept)", granted.Load())
	}
}
