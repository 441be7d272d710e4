package coord

import (
	"container/heap"
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"
	"time"
)

// maxKeyLen bounds what the memory backend stores per key; delivery GUIDs
// are 36 characters and a longer one is not remembered.
const maxKeyLen = 128

// memoryMaxKeys bounds the keys of the memory limits and slots; past it the
// oldest are forgotten.
const memoryMaxKeys = 100_000

// MemoryOptions shape NewMemory.
type MemoryOptions struct {
	DedupWindow time.Duration // 0: de-duplication off
	DedupSize   int           // 0: de-duplication off
	Queue       QueueOptions
}

// NewMemory is the one-replica backend: everything in this process.
func NewMemory(o MemoryOptions) *Backend {
	return &Backend{
		Name:       "memory",
		Deliveries: newMemDeliveries(o.DedupWindow, o.DedupSize),
		Locks:      &memLocks{held: map[string]*memLease{}},
		Limits:     &memLimits{tat: map[string]time.Time{}},
		Budgets:    newMemBudgets(),
		Slots:      &memSlots{m: map[string]memSlot{}},
		Deferred:   &memDeferred{},
		Audits:     &memDeferred{},
		Queue:      newMemQueue(o.Queue),
		Close:      func() error { return nil },
	}
}

// --- deliveries ---

type memDeliveries struct {
	mu      sync.Mutex
	window  time.Duration
	max     int
	entries map[string]*list.Element
	order   *list.List // of *memDelivery, oldest first
	now     func() time.Time
}

type memDelivery struct {
	id   string
	at   time.Time
	done bool
}

func newMemDeliveries(window time.Duration, n int) *memDeliveries {
	return &memDeliveries{window: window, max: n, entries: map[string]*list.Element{}, order: list.New(), now: time.Now}
}

func (l *memDeliveries) off(id string) bool {
	return l.window <= 0 || l.max <= 0 || id == "" || len(id) > maxKeyLen
}

func (l *memDeliveries) Claim(_ context.Context, id string) (bool, bool, error) {
	if l.off(id) {
		return true, false, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for e := l.order.Front(); e != nil && now.Sub(e.Value.(*memDelivery).at) > l.window; e = l.order.Front() {
		l.remove(e)
	}
	if e, seen := l.entries[id]; seen {
		return false, e.Value.(*memDelivery).done, nil
	}
	if l.order.Len() >= l.max {
		l.remove(l.order.Front())
	}
	l.entries[id] = l.order.PushBack(&memDelivery{id: id, at: now})
	return true, false, nil
}

func (l *memDeliveries) Complete(_ context.Context, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.entries[id]; ok {
		e.Value.(*memDelivery).done = true
	}
	return nil
}

func (l *memDeliveries) Forget(_ context.Context, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.entries[id]; ok {
		l.remove(e)
	}
	return nil
}

func (l *memDeliveries) remove(e *list.Element) {
	l.order.Remove(e)
	delete(l.entries, e.Value.(*memDelivery).id)
}

// --- locks ---

type memLocks struct {
	mu   sync.Mutex
	held map[string]*memLease
}

type memLease struct {
	l     *memLocks
	key   string
	until time.Time
}

func (l *memLocks) Obtain(_ context.Context, key string, ttl time.Duration) (Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if h := l.held[key]; h != nil && now.Before(h.until) {
		return nil, ErrNotObtained
	}
	if len(l.held) > memoryMaxKeys {
		for k, h := range l.held {
			if !now.Before(h.until) {
				delete(l.held, k)
			}
		}
	}
	le := &memLease{l: l, key: key, until: now.Add(ttl)}
	l.held[key] = le
	return le, nil
}

func (le *memLease) Refresh(_ context.Context, ttl time.Duration) error {
	le.l.mu.Lock()
	defer le.l.mu.Unlock()
	now := time.Now()
	if le.l.held[le.key] != le || !now.Before(le.until) {
		return ErrLeaseLost
	}
	le.until = now.Add(ttl)
	return nil
}

func (le *memLease) Release(_ context.Context) error {
	le.l.mu.Lock()
	defer le.l.mu.Unlock()
	if le.l.held[le.key] != le {
		return ErrLeaseLost
	}
	delete(le.l.held, le.key)
	if !time.Now().Before(le.until) {
		return ErrLeaseLost
	}
	return nil
}

// --- limits ---

// memLimits is the generic cell rate algorithm, as the Redis backend's
// script computes it: tat is each key's theoretical arrival time.
type memLimits struct {
	mu  sync.Mutex
	tat map[string]time.Time
}

func (m *memLimits) Allow(_ context.Context, key string, l Limit) (time.Duration, error) {
	if l.Rate <= 0 || l.Per <= 0 {
		return 0, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if len(m.tat) > memoryMaxKeys {
		for k, t := range m.tat {
			if t.Before(now) {
				delete(m.tat, k)
			}
		}
	}
	wait, tat := gcra(now, m.tat[key], l)
	if wait > 0 {
		return wait, nil
	}
	m.tat[key] = tat
	return 0, nil
}

// gcra returns how long until an event of l is allowed, or 0 and the new
// theoretical arrival time when it is allowed now.
func gcra(now, tat time.Time, l Limit) (time.Duration, time.Time) {
	interval := l.Per / time.Duration(l.Rate)
	burst := max(l.Burst, 1)
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	allowAt := next.Add(-interval * time.Duration(burst))
	if allowAt.After(now) {
		return allowAt.Sub(now), tat
	}
	return 0, next
}

// --- slots ---

type memSlots struct {
	mu sync.Mutex
	m  map[string]memSlot
}

type memSlot struct {
	v     []byte
	until time.Time
}

func (s *memSlots) Put(_ context.Context, key string, v []byte, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if len(s.m) > memoryMaxKeys {
		for k, e := range s.m {
			if !now.Before(e.until) {
				delete(s.m, k)
			}
		}
	}
	s.m[key] = memSlot{v: append([]byte(nil), v...), until: now.Add(ttl)}
	return nil
}

func (s *memSlots) Take(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	delete(s.m, key)
	if !ok || !time.Now().Before(e.until) {
		return nil, false, nil
	}
	return e.v, true, nil
}

func (s *memSlots) Has(_ context.Context, key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	return ok && time.Now().Before(e.until), nil
}

// --- deferred ---

type memDeferred struct {
	mu sync.Mutex
	h  deferredHeap
}

type deferredItem struct {
	at time.Time
	v  []byte
}

type deferredHeap []deferredItem

func (h deferredHeap) Len() int           { return len(h) }
func (h deferredHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h deferredHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deferredHeap) Push(x any)        { *h = append(*h, x.(deferredItem)) }
func (h *deferredHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (d *memDeferred) Add(_ context.Context, at time.Time, v []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	heap.Push(&d.h, deferredItem{at: at, v: append([]byte(nil), v...)})
	return nil
}

func (d *memDeferred) Due(_ context.Context, now time.Time, n int) ([][]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out [][]byte
	for len(out) < n && d.h.Len() > 0 && !d.h[0].at.After(now) {
		out = append(out, heap.Pop(&d.h).(deferredItem).v)
	}
	return out, nil
}

func (d *memDeferred) Len(context.Context) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.h.Len(), nil
}

// --- queue ---

type memQueue struct {
	o      QueueOptions
	mu     sync.Mutex
	wake   chan struct{} // closed and replaced on every push
	lanes  [classes][]Entry
	n      int
	owners map[string]int
	seq    uint64
	waits  int // Pops waiting
}

func newMemQueue(o QueueOptions) *memQueue {
	return &memQueue{o: o, wake: make(chan struct{}), owners: map[string]int{}}
}

func (q *memQueue) Push(_ context.Context, e Entry) error {
	if e.Class < 0 || e.Class >= classes {
		e.Class = ClassAudit
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n >= q.o.Capacity && (q.o.Capacity > 0 || q.waits <= q.n) {
		return ErrFull
	}
	if e.Owner != "" && q.owners[e.Owner] >= q.o.OwnerLimit() {
		return ErrShare
	}
	q.seq++
	e.ID = strconv.FormatUint(q.seq, 10)
	e.Queued = time.Now()
	q.lanes[e.Class] = append(q.lanes[e.Class], e)
	q.n++
	if e.Owner != "" {
		q.owners[e.Owner]++
	}
	close(q.wake)
	q.wake = make(chan struct{})
	return nil
}

func (q *memQueue) Pop(ctx context.Context, _ string) (Entry, error) {
	for {
		q.mu.Lock()
		if c, ok := q.next(); ok {
			e := q.lanes[c][0]
			q.lanes[c][0] = Entry{}
			q.lanes[c] = q.lanes[c][1:]
			q.n--
			if e.Owner != "" {
				if q.owners[e.Owner]--; q.owners[e.Owner] <= 0 {
					delete(q.owners, e.Owner)
				}
			}
			q.mu.Unlock()
			return e, nil
		}
		wake := q.wake
		q.waits++
		q.mu.Unlock()
		var err error
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-wake:
		}
		q.mu.Lock()
		q.waits--
		q.mu.Unlock()
		if err != nil {
			return Entry{}, err
		}
	}
}

// next is the lane to serve: an aged audit, else the lowest class waiting.
func (q *memQueue) next() (Class, bool) {
	if a := q.lanes[ClassAudit]; len(a) > 0 && time.Since(a[0].Queued) >= q.o.ageAfter() {
		return ClassAudit, true
	}
	for c := range classes {
		if len(q.lanes[c]) > 0 {
			return c, true
		}
	}
	return 0, false
}

func (q *memQueue) Touch(context.Context, Entry) error { return nil }
func (q *memQueue) Ack(context.Context, Entry) error   { return nil }

// Prune has nothing to forget: in memory there is one consumer, this
// process.
func (q *memQueue) Prune(context.Context, time.Duration) (int, error) { return 0, nil }

func (q *memQueue) Held(_ context.Context, owner string) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.owners[owner], nil
}

func (q *memQueue) Depth(context.Context) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n, nil
}

// randomID names a consumer or a deferred value uniquely.
func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
