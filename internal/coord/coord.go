// Package coord holds the state the App's replicas share: which deliveries
// were accepted, who checks which commit, how fast each installation may
// write, how much of each installation's hourly API budget is left, which
// commands were spent, what is deferred, and the work queue.
// Each piece is a small interface with two implementations run through one
// test suite: in memory (one replica, the default) and Redis (several).
package coord

import (
	"context"
	"errors"
	"time"
)

// Errors the backends report.
var (
	// ErrNotObtained: the lease is held by someone else.
	ErrNotObtained = errors.New("coord: lease held elsewhere")
	// ErrLeaseLost: the lease expired or was taken over.
	ErrLeaseLost = errors.New("coord: lease lost")
	// ErrFull: the queue holds its capacity.
	ErrFull = errors.New("coord: queue full")
	// ErrShare: the owner already holds its share of the queue.
	ErrShare = errors.New("coord: owner holds its share of the queue")
)

// Deliveries remembers accepted webhook delivery GUIDs, so one delivered
// twice (to one replica or two) is handled once.
type Deliveries interface {
	// Claim records id as accepted and reports true; or false, and whether
	// the earlier delivery completed, when id is already held.
	Claim(ctx context.Context, id string) (ok, completed bool, err error)
	// Complete marks id as handled successfully.
	Complete(ctx context.Context, id string) error
	// Forget drops id so its redelivery is handled.
	Forget(ctx context.Context, id string) error
}

// Locks hands out leases: exclusive, expiring, renewable by their holder
// only.
type Locks interface {
	// Obtain takes key for ttl, or fails at once with ErrNotObtained.
	Obtain(ctx context.Context, key string, ttl time.Duration) (Lease, error)
}

// Lease is a held lock.
type Lease interface {
	// Refresh extends the lease to ttl from now; ErrLeaseLost when it is no
	// longer held.
	Refresh(ctx context.Context, ttl time.Duration) error
	// Release gives it up (ErrLeaseLost when it had already expired).
	Release(ctx context.Context) error
}

// Limit is a rate: Rate events per Per, with bursts of up to Burst.
type Limit struct {
	Rate  int
	Per   time.Duration
	Burst int
}

// PerMinute is n a minute with bursts of n.
func PerMinute(n int) Limit { return Limit{Rate: n, Per: time.Minute, Burst: n} }

// Limits are shared rate limits (generic cell rate algorithm): pacing,
// budgets, command limits.
type Limits interface {
	// Allow takes one event of l for key and returns 0; or, when none is
	// free, takes nothing and returns how long until one is.
	Allow(ctx context.Context, key string, l Limit) (wait time.Duration, err error)
}

// Slots hold one value per key with an expiry: the one pending re-run of a
// commit being checked.
type Slots interface {
	Put(ctx context.Context, key string, v []byte, ttl time.Duration) error
	// Take removes and returns key's value.
	Take(ctx context.Context, key string) (v []byte, ok bool, err error)
	Has(ctx context.Context, key string) (bool, error)
}

// Deferred holds work due later (re-runs after a rate limit resets), so it
// outlives the replica that deferred it.
type Deferred interface {
	Add(ctx context.Context, at time.Time, v []byte) error
	// Due removes and returns up to max values due by now; each goes to one
	// caller only.
	Due(ctx context.Context, now time.Time, max int) ([][]byte, error)
	Len(ctx context.Context) (int, error)
}

// Class orders the queue: lower classes are served first.
type Class int

// The queue's classes.
const (
	ClassCheck   Class = iota // pull request and push checks
	ClassCommand              // slash commands
	ClassAudit                // baseline audits and other background work
	classes
)

// Entry is one piece of queued work.
type Entry struct {
	ID    string // the backend's
	Class Class
	// Owner is whose share of the queue it counts against (an
	// installation); "" counts against no share.
	Owner string
	Data  []byte
	// Queued is when it was pushed.
	Queued time.Time
	// Reclaimed: a consumer that died had taken it first.
	Reclaimed bool

	// Local travels with the entry in the memory backend only (the
	// in-process work itself); Redis carries Data alone.
	Local any

	consumer string // who took it (Redis)
}

// QueueOptions shape a Queue.
type QueueOptions struct {
	// Capacity bounds entries waiting (pushed, not yet popped). In memory,
	// 0 means hand-off only: a push succeeds while a Pop is waiting.
	Capacity int
	// Share is the fraction of Capacity one owner may hold (0: 0.5).
	Share float64
	// AgeAfter: an audit waiting that long goes before everything (0: 10m).
	AgeAfter time.Duration
	// ReclaimIdle: an entry taken by a consumer that has not touched it for
	// that long is given to another (Redis; 0: 30s).
	ReclaimIdle time.Duration
}

// OwnerLimit is how many waiting entries one owner may hold: Push refuses
// the next with ErrShare. Whoever predicts admission (the reconciler's
// room for redeliveries) uses this, so the two never disagree.
func (o QueueOptions) OwnerLimit() int {
	s := o.Share
	if s <= 0 {
		s = 0.5
	}
	return max(int(float64(o.Capacity)*s), 1)
}

func (o QueueOptions) ageAfter() time.Duration {
	if o.AgeAfter <= 0 {
		return 10 * time.Minute
	}
	return o.AgeAfter
}

func (o QueueOptions) reclaimIdle() time.Duration {
	if o.ReclaimIdle <= 0 {
		return 30 * time.Second
	}
	return o.ReclaimIdle
}

// Queue is the work queue: accepted deliveries wait in it for a worker of
// any replica. Checks go before commands and audits, except that an audit
// waiting longer than AgeAfter goes first.
type Queue interface {
	// Push queues e, or refuses it with ErrFull or ErrShare.
	Push(ctx context.Context, e Entry) error
	// Pop takes the next entry for consumer, waiting until there is one
	// or ctx ends.
	Pop(ctx context.Context, consumer string) (Entry, error)
	// Touch tells the queue e's consumer is still working on it.
	Touch(ctx context.Context, e Entry) error
	// Ack removes e for good: its work is done (or failed for good).
	Ack(ctx context.Context, e Entry) error
	// Depth is how many entries wait.
	Depth(ctx context.Context) (int, error)
	// Held is how many waiting entries count against owner's share.
	Held(ctx context.Context, owner string) (int, error)
	// Prune forgets consumers (pods) idle for longer than idle that hold
	// no entries, so the names of dead pods do not pile up; it returns how
	// many it forgot. Entries a dead consumer held are given to another
	// first (Pop reclaims them), and a consumer still alive that was
	// forgotten comes back with its next Pop.
	Prune(ctx context.Context, idle time.Duration) (int, error)
}

// Backend is one deployment's shared state.
type Backend struct {
	Name       string // "memory" or "redis"
	Deliveries Deliveries
	Locks      Locks
	Limits     Limits
	// Budgets are GitHub's hourly API budgets per installation.
	Budgets  Budgets
	Slots    Slots
	Deferred Deferred
	// Audits is the audit queue: due at once, in the order queued.
	Audits Deferred
	Queue  Queue
	// Ping reports whether the backend answers (nil for memory).
	Ping func(ctx context.Context) error
	// Close releases the connections.
	Close func() error
}

// Healthy reports whether the backend answers now.
func (b *Backend) Healthy(ctx context.Context) error {
	if b == nil || b.Ping == nil {
		return nil
	}
	return b.Ping(ctx)
}
