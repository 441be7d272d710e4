package coord

import (
	"context"
	"testing"
	"time"
)

// The memory backend's delivery log is bounded by count and by time.
func TestMemoryDeliveriesBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newMemDeliveries(time.Hour, 3)
	l.now = func() time.Time { return now }
	ctx := context.Background()
	claim := func(id string) bool { ok, _, _ := l.Claim(ctx, id); return ok }
	if !claim("a") || claim("a") {
		t.Fatal("a second claim of an accepted GUID must fail")
	}
	// The oldest entry goes first.
	claim("b")
	claim("c")
	claim("d") // evicts a
	if !claim("a") {
		t.Error("a should have been evicted by capacity")
	}
	now = now.Add(2 * time.Hour)
	for _, id := range []string{"b", "c", "d"} {
		if !claim(id) {
			t.Errorf("%s should have expired", id)
		}
	}
	// No GUID, an absurd GUID, or a disabled log: never de-duplicated.
	if !claim("") || !claim("") {
		t.Error("empty GUIDs are never de-duplicated")
	}
	long := string(make([]byte, 200))
	if !claim(long) || !claim(long) {
		t.Error("GUIDs over 128 bytes are never de-duplicated")
	}
	off := newMemDeliveries(0, 10)
	for range 2 {
		if ok, _, _ := off.Claim(ctx, "x"); !ok {
			t.Error("a disabled log must accept")
		}
	}
}

// A memory queue of capacity 0 hands entries over only to a waiting Pop.
func TestMemoryQueueHandOff(t *testing.T) {
	q := newMemQueue(QueueOptions{Capacity: 0})
	ctx := context.Background()
	if err := q.Push(ctx, Entry{}); err != ErrFull {
		t.Fatalf("push with nobody waiting: %v, want ErrFull", err)
	}
	got := make(chan Entry)
	go func() {
		e, _ := q.Pop(ctx, "")
		got <- e
	}()
	for {
		q.mu.Lock()
		w := q.waits
		q.mu.Unlock()
		if w == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := q.Push(ctx, Entry{Data: []byte("x")}); err != nil {
		t.Fatalf("push with a Pop waiting: %v", err)
	}
	if e := <-got; string(e.Data) != "x" {
		t.Fatalf("popped %q", e.Data)
	}
}
