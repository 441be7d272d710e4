package coord

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Budget is an installation's hourly REST budget as GitHub last reported
// it (X-RateLimit-Limit, -Remaining and -Reset), less what was reserved
// since.
type Budget struct {
	Limit, Remaining int
	Reset            time.Time
}

// Known reports whether b says anything: a budget seen, in a window that
// has not reset yet.
func (b Budget) Known(now time.Time) bool { return b.Limit > 0 && now.Before(b.Reset) }

// Budgets track GitHub's hourly API budget per key (an installation)
// across replicas, so that work that can wait never spends what pull
// requests need.
type Budgets interface {
	// Record stores what one response reported. Within a window (one
	// Reset) remaining only falls, so the lowest report wins whatever
	// order responses arrive in; a later Reset starts a new window; an
	// earlier one is stale and ignored. A newer report also drops the
	// reservations made since the last one: the report counts what they
	// spent.
	Record(ctx context.Context, key string, b Budget) error
	// Reserve takes n requests of key's budget when at least keep (a
	// fraction of the limit) would be left, and reports true; otherwise it
	// takes nothing and reports false with the budget, whose Reset says
	// when to try again. A budget never seen, or whose window has reset,
	// is granted.
	Reserve(ctx context.Context, key string, n int, keep float64) (ok bool, b Budget, err error)
	// Get returns key's budget as last recorded, less reservations.
	Get(ctx context.Context, key string) (b Budget, ok bool, err error)
}

// --- memory ---

type memBudget struct {
	Budget
	held int // reserved since the last report
}

type memBudgets struct {
	mu  sync.Mutex
	m   map[string]memBudget
	now func() time.Time
}

func newMemBudgets() *memBudgets { return &memBudgets{m: map[string]memBudget{}, now: time.Now} }

func (m *memBudgets) Record(_ context.Context, key string, b Budget) error {
	if b.Limit <= 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if len(m.m) > memoryMaxKeys {
		for k, v := range m.m {
			if !v.Known(now) {
				delete(m.m, k)
			}
		}
	}
	cur, ok := m.m[key]
	switch {
	case !ok || b.Reset.After(cur.Reset):
	case b.Reset.Before(cur.Reset) || b.Remaining >= cur.Remaining:
		return nil
	}
	m.m[key] = memBudget{Budget: b}
	return nil
}

func (m *memBudgets) Reserve(_ context.Context, key string, n int, keep float64) (bool, Budget, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.m[key]
	if !ok || !cur.Known(m.now()) {
		return true, Budget{}, nil
	}
	left := cur.Remaining - cur.held
	b := cur.Budget
	b.Remaining = left
	if float64(left-n) < keep*float64(cur.Limit) {
		return false, b, nil
	}
	cur.held += n
	m.m[key] = cur
	b.Remaining -= n
	return true, b, nil
}

func (m *memBudgets) Get(_ context.Context, key string) (Budget, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.m[key]
	if !ok || !cur.Known(m.now()) {
		return Budget{}, false, nil
	}
	b := cur.Budget
	b.Remaining -= cur.held
	return b, true, nil
}

// --- redis ---

// redisBudgets keep one hash per key: l (limit), r (remaining as
// reported), t (reset, Unix seconds) and h (reserved since the report);
// it expires a minute after its window resets.
type redisBudgets struct{ b *redisBackend }

var recordScript = redis.NewScript(`
local t = tonumber(redis.call('HGET', KEYS[1], 't') or '-1')
local nt = tonumber(ARGV[3])
if nt < t then return 0 end
if nt == t and tonumber(ARGV[2]) >= tonumber(redis.call('HGET', KEYS[1], 'r') or '0') then return 0 end
redis.call('HSET', KEYS[1], 'l', ARGV[1], 'r', ARGV[2], 't', ARGV[3], 'h', 0)
redis.call('EXPIREAT', KEYS[1], nt + 60)
return 1
`)

// reserveScript answers {granted, limit, remaining after, reset}.
var reserveScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'l', 'r', 't', 'h')
if not v[1] then return {1, 0, 0, 0} end
local l, r, t, h = tonumber(v[1]), tonumber(v[2]), tonumber(v[3]), tonumber(v[4] or '0')
if t <= tonumber(ARGV[3]) then return {1, 0, 0, 0} end
local left = r - h
if left - tonumber(ARGV[1]) < tonumber(ARGV[2]) * l then return {0, l, left, t} end
redis.call('HINCRBY', KEYS[1], 'h', ARGV[1])
return {1, l, left - tonumber(ARGV[1]), t}
`)

func (r *redisBudgets) key(k string) string { return r.b.key("budget", k) }

func (r *redisBudgets) Record(ctx context.Context, key string, b Budget) error {
	if b.Limit <= 0 {
		return nil
	}
	return recordScript.Run(ctx, r.b.c, []string{r.key(key)}, b.Limit, b.Remaining, b.Reset.Unix()).Err()
}

func (r *redisBudgets) Reserve(ctx context.Context, key string, n int, keep float64) (bool, Budget, error) {
	v, err := reserveScript.Run(ctx, r.b.c, []string{r.key(key)}, n, strconv.FormatFloat(keep, 'f', -1, 64), time.Now().Unix()).Int64Slice()
	if err != nil || len(v) != 4 {
		return false, Budget{}, err
	}
	b := Budget{Limit: int(v[1]), Remaining: int(v[2])}
	if v[3] > 0 {
		b.Reset = time.Unix(v[3], 0)
	}
	return v[0] == 1, b, nil
}

func (r *redisBudgets) Get(ctx context.Context, key string) (Budget, bool, error) {
	v, err := r.b.c.HMGet(ctx, r.key(key), "l", "r", "t", "h").Result()
	if err != nil {
		return Budget{}, false, err
	}
	n := make([]int64, len(v))
	for i, x := range v {
		if s, ok := x.(string); ok {
			n[i], _ = strconv.ParseInt(s, 10, 64)
		}
	}
	b := Budget{Limit: int(n[0]), Remaining: int(n[1] - n[3]), Reset: time.Unix(n[2], 0)}
	if !b.Known(time.Now()) {
		return Budget{}, false, nil
	}
	return b, true, nil
}
