package coord_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/coord"
	"github.com/housekeeper-app/housekeeper/internal/redistest"
)

// replicas returns two backends sharing one state, as two replicas of one
// deployment see it.
type replicas func(t *testing.T, q coord.QueueOptions) (a, b *coord.Backend)

func memory(t *testing.T, q coord.QueueOptions) (*coord.Backend, *coord.Backend) {
	m := coord.NewMemory(coord.MemoryOptions{DedupWindow: time.Hour, DedupSize: 100, Queue: q})
	return m, m
}

var prefixes atomic.Int64

func redisAt(url string) replicas {
	return func(t *testing.T, q coord.QueueOptions) (*coord.Backend, *coord.Backend) {
		// A prefix of the test's own: tests share the server.
		prefix := fmt.Sprintf("hk-test-%d-%d:", time.Now().UnixNano(), prefixes.Add(1))
		open := func() *coord.Backend {
			b, err := coord.NewRedis(coord.RedisOptions{URL: url, Prefix: prefix, DedupWindow: time.Hour, Queue: q})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		}
		return open(), open()
	}
}

// eachBackend runs test against the memory backend and, when a test Redis
// is named, the Redis one: one suite for both.
func eachBackend(t *testing.T, test func(t *testing.T, r replicas)) {
	t.Run("memory", func(t *testing.T) { test(t, memory) })
	t.Run("redis", func(t *testing.T) { test(t, redisAt(redistest.URL(t))) })
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDeliveries(t *testing.T) { eachBackend(t, testDeliveries) }

func testDeliveries(t *testing.T, r replicas) {
	ctx := ctxT(t)
	a, b := r(t, coord.QueueOptions{Capacity: 10})
	ok, _, err := a.Deliveries.Claim(ctx, "guid-1")
	must(t, err)
	if !ok {
		t.Fatal("first claim refused")
	}
	ok, done, err := b.Deliveries.Claim(ctx, "guid-1")
	must(t, err)
	if ok || done {
		t.Fatalf("second claim at the other replica: ok=%v completed=%v, want false false", ok, done)
	}
	must(t, a.Deliveries.Complete(ctx, "guid-1"))
	if ok, done, _ = b.Deliveries.Claim(ctx, "guid-1"); ok || !done {
		t.Fatalf("claim after completion: ok=%v completed=%v, want false true", ok, done)
	}
	must(t, b.Deliveries.Forget(ctx, "guid-1"))
	if ok, _, _ = a.Deliveries.Claim(ctx, "guid-1"); !ok {
		t.Fatal("a forgotten GUID is not claimed again")
	}
	// Two replicas racing for one GUID: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			be := a
			if i%2 == 1 {
				be = b
			}
			if ok, _, err := be.Deliveries.Claim(ctx, "guid-race"); err == nil && ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d claims of one GUID won, want 1", wins.Load())
	}
}

func TestLocks(t *testing.T) { eachBackend(t, testLocks) }

func testLocks(t *testing.T, r replicas) {
	ctx := ctxT(t)
	a, b := r(t, coord.QueueOptions{Capacity: 10})
	l, err := a.Locks.Obtain(ctx, "repo@sha", time.Minute)
	must(t, err)
	if _, err := b.Locks.Obtain(ctx, "repo@sha", time.Minute); !errors.Is(err, coord.ErrNotObtained) {
		t.Fatalf("second obtain: %v, want ErrNotObtained", err)
	}
	if _, err := b.Locks.Obtain(ctx, "repo@other", time.Minute); err != nil {
		t.Fatalf("another key: %v", err)
	}
	must(t, l.Refresh(ctx, time.Minute))
	must(t, l.Release(ctx))
	if _, err := b.Locks.Obtain(ctx, "repo@sha", time.Minute); err != nil {
		t.Fatalf("obtain after release: %v", err)
	}

	// A holder that stops renewing (a dead pod) loses the lease at
	// its expiry, and cannot renew or release the successor's.
	old, err := a.Locks.Obtain(ctx, "expiring", 150*time.Millisecond)
	must(t, err)
	time.Sleep(300 * time.Millisecond)
	next, err := b.Locks.Obtain(ctx, "expiring", time.Minute)
	if err != nil {
		t.Fatalf("obtain after expiry: %v", err)
	}
	if err := old.Refresh(ctx, time.Minute); !errors.Is(err, coord.ErrLeaseLost) {
		t.Fatalf("refresh of an expired lease: %v, want ErrLeaseLost", err)
	}
	if err := old.Release(ctx); !errors.Is(err, coord.ErrLeaseLost) {
		t.Fatalf("release of an expired lease: %v, want ErrLeaseLost", err)
	}
	if _, err := a.Locks.Obtain(ctx, "expiring", time.Minute); !errors.Is(err, coord.ErrNotObtained) {
		t.Fatalf("the successor's lease was released by the old holder: %v", err)
	}
	must(t, next.Release(ctx))
}

func TestLimits(t *testing.T) { eachBackend(t, testLimits) }

func testLimits(t *testing.T, r replicas) {
	ctx := ctxT(t)
	a, b := r(t, coord.QueueOptions{Capacity: 10})
	lim := coord.PerMinute(3)
	for i := range 3 {
		be := a
		if i == 1 {
			be = b
		}
		wait, err := be.Limits.Allow(ctx, "inst:1", lim)
		must(t, err)
		if wait != 0 {
			t.Fatalf("event %d of 3 a minute: wait %s", i+1, wait)
		}
	}
	wait, err := b.Limits.Allow(ctx, "inst:1", lim)
	must(t, err)
	if wait <= 0 || wait > 21*time.Second {
		t.Fatalf("4th of 3 a minute: wait %s, want about 20s", wait)
	}
	// A refusal takes nothing; another key has its own budget.
	if w2, _ := a.Limits.Allow(ctx, "inst:1", lim); w2 <= 0 || w2 > wait {
		t.Fatalf("refused again: wait %s after %s", w2, wait)
	}
	if w, _ := a.Limits.Allow(ctx, "inst:2", lim); w != 0 {
		t.Fatalf("another installation waits %s", w)
	}
	// A fast rate refills.
	fast := coord.Limit{Rate: 20, Per: time.Second, Burst: 1}
	must(t, ignoreWait(a.Limits.Allow(ctx, "fast", fast)))
	if w, _ := b.Limits.Allow(ctx, "fast", fast); w <= 0 || w > 50*time.Millisecond {
		t.Fatalf("burst 1 at 20/s: wait %s, want ≤ 50ms", w)
	}
	time.Sleep(60 * time.Millisecond)
	if w, _ := b.Limits.Allow(ctx, "fast", fast); w != 0 {
		t.Fatalf("after the interval: wait %s", w)
	}
}

func ignoreWait(_ time.Duration, err error) error { return err }

func TestSlots(t *testing.T) { eachBackend(t, testSlots) }

func testSlots(t *testing.T, r replicas) {
	ctx := ctxT(t)
	a, b := r(t, coord.QueueOptions{Capacity: 10})
	must(t, a.Slots.Put(ctx, "k", []byte("job 1"), time.Minute))
	must(t, a.Slots.Put(ctx, "k", []byte("job 2"), time.Minute)) // the newest wins
	if has, _ := b.Slots.Has(ctx, "k"); !has {
		t.Fatal("Has: false after Put")
	}
	v, ok, err := b.Slots.Take(ctx, "k")
	must(t, err)
	if !ok || string(v) != "job 2" {
		t.Fatalf("Take = %q %v, want job 2", v, ok)
	}
	if _, ok, _ := a.Slots.Take(ctx, "k"); ok {
		t.Fatal("taken twice")
	}
	must(t, a.Slots.Put(ctx, "short", []byte("x"), 100*time.Millisecond))
	time.Sleep(200 * time.Millisecond)
	if has, _ := b.Slots.Has(ctx, "short"); has {
		t.Fatal("an expired slot is still held")
	}
}

func TestDeferred(t *testing.T) { eachBackend(t, testDeferred) }

func testDeferred(t *testing.T, r replicas) {
	ctx := ctxT(t)
	a, b := r(t, coord.QueueOptions{Capacity: 10})
	now := time.Now()
	for i := range 50 {
		must(t, a.Deferred.Add(ctx, now.Add(-time.Duration(i)*time.Millisecond), []byte("job "+strconv.Itoa(i))))
	}
	must(t, a.Deferred.Add(ctx, now.Add(time.Hour), []byte("later")))
	must(t, a.Deferred.Add(ctx, now.Add(time.Hour), []byte("later"))) // equal values stay two
	if n, _ := b.Deferred.Len(ctx); n != 52 {
		t.Fatalf("Len = %d, want 52", n)
	}
	// Two replicas take what is due: each value once.
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for _, be := range []*coord.Backend{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				vs, err := be.Deferred.Due(ctx, now, 7)
				if err != nil || len(vs) == 0 {
					return
				}
				mu.Lock()
				for _, v := range vs {
					got = append(got, string(v))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.Sort(got)
	if len(got) != 50 || len(slices.Compact(slices.Clone(got))) != 50 {
		t.Fatalf("took %d values (%d distinct), want each of 50 once", len(got), len(slices.Compact(got)))
	}
	if n, _ := a.Deferred.Len(ctx); n != 2 {
		t.Fatalf("Len after = %d, want the 2 not due", n)
	}
	vs, _ := a.Deferred.Due(ctx, now.Add(2*time.Hour), 10)
	if len(vs) != 2 || string(vs[0]) != "later" || string(vs[1]) != "later" {
		t.Fatalf("Due later = %q", vs)
	}
}

func push(t *testing.T, ctx context.Context, q coord.Queue, c coord.Class, owner, data string) error {
	t.Helper()
	return q.Push(ctx, coord.Entry{Class: c, Owner: owner, Data: []byte(data)})
}

func pop(t *testing.T, ctx context.Context, q coord.Queue, consumer string) coord.Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	e, err := q.Pop(ctx, consumer)
	if err != nil {
		t.Fatalf("pop: %v", err)
	}
	must(t, q.Ack(ctx, e))
	return e
}

func TestQueueAdmission(t *testing.T) { eachBackend(t, testQueueAdmission) }

func testQueueAdmission(t *testing.T, r replicas) {
	ctx := ctxT(t)
	a, b := r(t, coord.QueueOptions{Capacity: 4})
	must(t, push(t, ctx, a.Queue, coord.ClassCheck, "inst-A", "a1"))
	must(t, push(t, ctx, b.Queue, coord.ClassCheck, "inst-A", "a2"))
	// Installation A holds half the queue: its third is refused,
	// across replicas, while B still gets in.
	if err := push(t, ctx, a.Queue, coord.ClassCheck, "inst-A", "a3"); !errors.Is(err, coord.ErrShare) {
		t.Fatalf("A's third of 4: %v, want ErrShare", err)
	}
	must(t, push(t, ctx, b.Queue, coord.ClassCheck, "inst-B", "b1"))
	must(t, push(t, ctx, a.Queue, coord.ClassCheck, "", "unowned"))
	if err := push(t, ctx, a.Queue, coord.ClassCheck, "inst-C", "c1"); !errors.Is(err, coord.ErrFull) {
		t.Fatalf("fifth of 4: %v, want ErrFull", err)
	}
	if n, _ := b.Queue.Depth(ctx); n != 4 {
		t.Fatalf("Depth = %d, want 4", n)
	}
	if n, _ := a.Queue.Held(ctx, "inst-A"); n != 2 {
		t.Fatalf("Held(inst-A) = %d, want 2", n)
	}
	e := pop(t, ctx, b.Queue, "c1")
	if string(e.Data) != "a1" || e.Owner != "inst-A" || e.Queued.IsZero() {
		t.Fatalf("first out = %+v, want a1 of inst-A", e)
	}
	// A's share has room again.
	must(t, push(t, ctx, a.Queue, coord.ClassCheck, "inst-A", "a3"))
	if n, _ := a.Queue.Depth(ctx); n != 4 {
		t.Fatalf("Depth = %d, want 4", n)
	}
}

func TestQueuePriority(t *testing.T) { eachBackend(t, testQueuePriority) }

func testQueuePriority(t *testing.T, r replicas) {
	ctx := ctxT(t)
	a, b := r(t, coord.QueueOptions{Capacity: 20, AgeAfter: time.Hour})
	must(t, push(t, ctx, a.Queue, coord.ClassAudit, "", "audit"))
	must(t, push(t, ctx, a.Queue, coord.ClassCommand, "", "command"))
	must(t, push(t, ctx, a.Queue, coord.ClassCheck, "", "check 1"))
	must(t, push(t, ctx, a.Queue, coord.ClassCheck, "", "check 2"))
	var got []string
	for range 4 {
		got = append(got, string(pop(t, ctx, b.Queue, "c1").Data))
	}
	if want := []string{"check 1", "check 2", "command", "audit"}; !slices.Equal(got, want) {
		t.Fatalf("order %q, want %q", got, want)
	}

	// An audit that waited AgeAfter goes first.
	a, b = r(t, coord.QueueOptions{Capacity: 20, AgeAfter: 300 * time.Millisecond})
	must(t, push(t, ctx, a.Queue, coord.ClassAudit, "", "old audit"))
	time.Sleep(1200 * time.Millisecond) // past AgeAfter and the Redis check's once-a-second cache
	must(t, push(t, ctx, a.Queue, coord.ClassCheck, "", "check"))
	if e := pop(t, ctx, b.Queue, "c1"); string(e.Data) != "old audit" {
		t.Fatalf("first out %q, want the aged audit", e.Data)
	}
}

func TestQueuePopWaits(t *testing.T) { eachBackend(t, testQueuePopWaits) }

func testQueuePopWaits(t *testing.T, r replicas) {
	ctx := ctxT(t)
	a, b := r(t, coord.QueueOptions{Capacity: 20})
	got := make(chan coord.Entry, 1)
	go func() {
		e, err := b.Queue.Pop(ctx, "waiter")
		if err == nil {
			got <- e
		}
	}()
	time.Sleep(100 * time.Millisecond)
	must(t, push(t, ctx, a.Queue, coord.ClassCommand, "", "late"))
	select {
	case e := <-got:
		if string(e.Data) != "late" {
			t.Fatalf("got %q", e.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting Pop did not get the entry pushed later")
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := b.Queue.Pop(cctx, "waiter"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Pop on an empty queue past its deadline: %v", err)
	}
}

func TestLeader(t *testing.T) { eachBackend(t, testLeader) }

func testLeader(t *testing.T, r replicas) {
	ctx := ctxT(t)
	a, b := r(t, coord.QueueOptions{Capacity: 10})
	var leading, most, changes atomic.Int32
	work := func(ctx context.Context) {
		n := leading.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-ctx.Done()
		leading.Add(-1)
	}
	ttl := 300 * time.Millisecond
	c1, cancel1 := context.WithCancel(ctx)
	c2, cancel2 := context.WithCancel(ctx)
	defer cancel2()
	var wg sync.WaitGroup
	who := make(chan string, 10)
	for i, be := range []*coord.Backend{a, b} {
		c := []context.Context{c1, c2}[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &coord.Leader{Locks: be.Locks, Key: "reconciler", TTL: ttl, OnChange: func(on bool) {
				changes.Add(1)
				if on {
					who <- strconv.Itoa(i)
				}
			}}
			l.Run(c, work)
		}()
	}
	first := <-who
	time.Sleep(time.Second)
	if most.Load() != 1 {
		t.Fatalf("%d replicas led at once", most.Load())
	}
	// The leader goes away; the other takes over within the TTL plus
	// one attempt interval.
	start := time.Now()
	if first == "0" {
		cancel1()
	} else {
		cancel2()
	}
	select {
	case next := <-who:
		if next == first {
			t.Fatal("the stopped leader led again")
		}
		if d := time.Since(start); d > ttl+ttl/3+500*time.Millisecond {
			t.Fatalf("failover took %s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no failover")
	}
	cancel1()
	cancel2()
	wg.Wait()
	if most.Load() != 1 {
		t.Fatalf("%d replicas led at once", most.Load())
	}
}
