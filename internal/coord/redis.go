package coord

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bsm/redislock"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key, so several deployments can share a Redis
// (give each its own).
const DefaultPrefix = "housekeeper:"

// RedisOptions shape NewRedis.
type RedisOptions struct {
	// URL: redis://[user:password@]host:port[/db], rediss://… (TLS), or
	// redis+sentinel://[user:password@]host:port[,host:port…]/master[/db]
	// (rediss+sentinel:// for TLS), or redis+cluster://host:port[,…]
	// (rediss+cluster://). See ParseRedisURL.
	URL string
	// Password, when set, replaces the URL's.
	Password string
	// Prefix starts every key (default DefaultPrefix).
	Prefix string
	// RootCAs verifies a rediss:// server (nil: the system's).
	RootCAs *x509.CertPool
	// DedupWindow is how long a delivery GUID is remembered (0: off).
	DedupWindow time.Duration
	Queue       QueueOptions
	// Observe, when set, hears every Redis command or pipeline: its name
	// and error (nil on success; redis.Nil counts as success).
	Observe func(op string, err error)
}

// ParseRedisURL turns a Redis URL into go-redis's universal options: one
// address for a standalone server, or the Sentinels and the master's name
// for redis+sentinel://, or the seed nodes of a Redis Cluster for
// redis+cluster://host:port[,host:port…]. Keys that one command or script
// touches together share a hash tag ({queue}), so they live on one node.
func ParseRedisURL(raw string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url's error repeats the URL, password included.
		return nil, errors.New("not a URL (redis://host:port, rediss://host:port, redis+sentinel://host:port/master or redis+cluster://host:port,host:port)")
	}
	o := &redis.UniversalOptions{}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	tlsOn := false
	switch u.Scheme {
	case "redis", "rediss":
		tlsOn = u.Scheme == "rediss"
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "6379")
		}
		if u.Hostname() == "" {
			return nil, errors.New("no host")
		}
		o.Addrs = []string{host}
		if db := strings.Trim(u.Path, "/"); db != "" {
			n, err := strconv.Atoi(db)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("database %q is not a number", db)
			}
			o.DB = n
		}
	case "redis+sentinel", "rediss+sentinel":
		tlsOn = u.Scheme == "rediss+sentinel"
		for _, h := range strings.Split(u.Host, ",") {
			if h == "" {
				continue
			}
			if _, _, err := net.SplitHostPort(h); err != nil {
				h = net.JoinHostPort(h, "26379")
			}
			o.Addrs = append(o.Addrs, h)
		}
		if len(o.Addrs) == 0 {
			return nil, errors.New("no Sentinel address")
		}
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if parts[0] == "" {
			return nil, errors.New("no master name (redis+sentinel://host:26379/MASTER)")
		}
		o.MasterName = parts[0]
		if len(parts) > 1 {
			n, err := strconv.Atoi(parts[1])
			if err != nil || n < 0 || len(parts) > 2 {
				return nil, fmt.Errorf("database %q is not a number", strings.Join(parts[1:], "/"))
			}
			o.DB = n
		}
		o.SentinelPassword = u.Query().Get("sentinel_password")
	case "redis+cluster", "rediss+cluster":
		// Any of the nodes: the client learns the others from them.
		tlsOn = u.Scheme == "rediss+cluster"
		for _, h := range strings.Split(u.Host, ",") {
			if h == "" {
				continue
			}
			if _, _, err := net.SplitHostPort(h); err != nil {
				h = net.JoinHostPort(h, "6379")
			}
			o.Addrs = append(o.Addrs, h)
		}
		if len(o.Addrs) == 0 {
			return nil, errors.New("no cluster node address")
		}
		if p := strings.Trim(u.Path, "/"); p != "" {
			return nil, fmt.Errorf("database %q: a Redis Cluster has database 0 only", p)
		}
		o.IsClusterMode = true
	default:
		return nil, fmt.Errorf("scheme %q: want redis, rediss, redis+sentinel, rediss+sentinel, redis+cluster or rediss+cluster", u.Scheme)
	}
	if tlsOn {
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if h := u.Hostname(); h != "" && !strings.Contains(u.Host, ",") {
			o.TLSConfig.ServerName = h
		}
	}
	return o, nil
}

// redisBackend is the state of several replicas, in one Redis.
type redisBackend struct {
	c      redis.UniversalClient
	prefix string
	o      RedisOptions
}

// NewRedis connects (lazily: the first command dials) to the Redis of
// o.URL and returns the backend of several replicas.
func NewRedis(o RedisOptions) (*Backend, error) {
	uo, err := ParseRedisURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	if o.Password != "" {
		uo.Password = o.Password
	}
	if uo.TLSConfig != nil && o.RootCAs != nil {
		uo.TLSConfig.RootCAs = o.RootCAs
	}
	uo.DialTimeout = 2 * time.Second
	uo.ReadTimeout = 3 * time.Second
	uo.WriteTimeout = 3 * time.Second
	// Ride out a short failover or restart (LOADING, a dropped
	// connection): about 5 s of retries before a call fails.
	uo.MaxRetries = 8
	uo.MinRetryBackoff = 50 * time.Millisecond
	uo.MaxRetryBackoff = time.Second
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	c := redis.NewUniversalClient(uo)
	if o.Observe != nil {
		c.AddHook(observeHook{o.Observe})
	}
	rb := &redisBackend{c: c, prefix: o.Prefix, o: o}
	q := &redisQueue{b: rb, o: o.Queue, group: "workers", created: map[string]bool{}}
	return &Backend{
		Name:       "redis",
		Deliveries: &redisDeliveries{b: rb, window: o.DedupWindow},
		Locks:      &redisLocks{b: rb, c: redislock.New(c)},
		Limits:     &redisLimits{b: rb, l: redis_rate.NewLimiter(c)},
		Budgets:    &redisBudgets{b: rb},
		Slots:      &redisSlots{b: rb},
		Deferred:   &redisDeferred{b: rb, key: rb.key("deferred")},
		Audits:     &redisDeferred{b: rb, key: rb.key("audits")},
		Queue:      q,
		Ping:       func(ctx context.Context) error { return c.Ping(ctx).Err() },
		Close:      c.Close,
	}, nil
}

func (b *redisBackend) key(parts ...string) string { return b.prefix + strings.Join(parts, ":") }

// observeHook reports each command's outcome, for the metrics.
type observeHook struct{ f func(op string, err error) }

func (h observeHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h observeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.f(cmd.Name(), quiet(err))
		return err
	}
}

func (h observeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.f("pipeline", quiet(err))
		return err
	}
}

// quiet drops the answers that are not failures: a missing key, and a
// blocking read that timed out empty.
func quiet(err error) error {
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}

// --- deliveries ---

type redisDeliveries struct {
	b      *redisBackend
	window time.Duration
}

const (
	deliveryAccepted  = "1"
	deliveryCompleted = "2"
)

func (d *redisDeliveries) off(id string) bool {
	return d.window <= 0 || id == "" || len(id) > maxKeyLen
}

func (d *redisDeliveries) Claim(ctx context.Context, id string) (bool, bool, error) {
	if d.off(id) {
		return true, false, nil
	}
	k := d.b.key("delivery", id)
	ok, err := d.b.c.SetNX(ctx, k, deliveryAccepted, d.window).Result()
	if err != nil || ok {
		return ok, false, err
	}
	v, err := d.b.c.Get(ctx, k).Result()
	if errors.Is(err, redis.Nil) { // forgotten in between: take it
		return d.Claim(ctx, id)
	}
	return false, v == deliveryCompleted, err
}

func (d *redisDeliveries) Complete(ctx context.Context, id string) error {
	if d.off(id) {
		return nil
	}
	return quiet(d.b.c.SetArgs(ctx, d.b.key("delivery", id), deliveryCompleted, redis.SetArgs{Mode: "XX", KeepTTL: true}).Err())
}

func (d *redisDeliveries) Forget(ctx context.Context, id string) error {
	if d.off(id) {
		return nil
	}
	return d.b.c.Del(ctx, d.b.key("delivery", id)).Err()
}

// --- locks ---

type redisLocks struct {
	b *redisBackend
	c *redislock.Client
}

type redisLease struct{ l *redislock.Lock }

func (l *redisLocks) Obtain(ctx context.Context, key string, ttl time.Duration) (Lease, error) {
	lk, err := l.c.Obtain(ctx, l.b.key("lock", key), ttl, nil)
	if errors.Is(err, redislock.ErrNotObtained) {
		return nil, ErrNotObtained
	}
	if err != nil {
		return nil, err
	}
	return redisLease{lk}, nil
}

func (l redisLease) Refresh(ctx context.Context, ttl time.Duration) error {
	err := l.l.Refresh(ctx, ttl, nil)
	if errors.Is(err, redislock.ErrNotObtained) {
		return ErrLeaseLost
	}
	return err
}

func (l redisLease) Release(ctx context.Context) error {
	err := l.l.Release(ctx)
	if errors.Is(err, redislock.ErrLockNotHeld) {
		return ErrLeaseLost
	}
	return err
}

// --- limits ---

type redisLimits struct {
	b *redisBackend
	l *redis_rate.Limiter
}

func (r *redisLimits) Allow(ctx context.Context, key string, l Limit) (time.Duration, error) {
	if l.Rate <= 0 || l.Per <= 0 {
		return 0, nil
	}
	res, err := r.l.Allow(ctx, r.b.key(key), redis_rate.Limit{Rate: l.Rate, Period: l.Per, Burst: max(l.Burst, 1)})
	if err != nil {
		return 0, err
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	return max(res.RetryAfter, time.Millisecond), nil
}

// --- slots ---

type redisSlots struct{ b *redisBackend }

func (s *redisSlots) Put(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	return s.b.c.Set(ctx, s.b.key("slot", key), v, ttl).Err()
}

func (s *redisSlots) Take(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := s.b.c.GetDel(ctx, s.b.key("slot", key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	return v, err == nil, err
}

func (s *redisSlots) Has(ctx context.Context, key string) (bool, error) {
	n, err := s.b.c.Exists(ctx, s.b.key("slot", key)).Result()
	return n > 0, err
}

// --- deferred ---

// redisDeferred is a sorted set scored by due time; a member is a random
// id, a colon and the value, so equal values stay distinct. Whoever removes
// a member (ZREM answering 1) owns it.
type redisDeferred struct {
	b   *redisBackend
	key string
}

func (d *redisDeferred) Add(ctx context.Context, at time.Time, v []byte) error {
	member := randomID() + ":" + string(v)
	return d.b.c.ZAdd(ctx, d.key, redis.Z{Score: float64(at.UnixMilli()), Member: member}).Err()
}

func (d *redisDeferred) Due(ctx context.Context, now time.Time, n int) ([][]byte, error) {
	ms, err := d.b.c.ZRangeArgs(ctx, redis.ZRangeArgs{Key: d.key, Start: "-inf", Stop: strconv.FormatInt(now.UnixMilli(), 10), ByScore: true, Count: int64(n)}).Result()
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, m := range ms {
		won, err := d.b.c.ZRem(ctx, d.key, m).Result()
		if err != nil {
			return out, err
		}
		if won == 1 {
			if _, v, ok := strings.Cut(m, ":"); ok {
				out = append(out, []byte(v))
			}
		}
	}
	return out, nil
}

func (d *redisDeferred) Len(ctx context.Context) (int, error) {
	n, err := d.b.c.ZCard(ctx, d.key).Result()
	return int(n), err
}

// --- queue ---

// redisQueue is one Redis Stream per class read by one consumer group:
// an entry stays pending under the consumer that read it until Ack, and
// XAUTOCLAIM hands entries whose consumer went quiet (a dead pod) to
// another. A hash counts waiting entries, in all and per owner, for
// admission. The keys share a hash tag.
type redisQueue struct {
	b     *redisBackend
	o     QueueOptions
	group string

	mu          sync.Mutex
	created     map[string]bool
	lastReclaim time.Time
	agedAt      time.Time // when the aged-audit check last ran
	aged        bool
}

func (q *redisQueue) stream(c Class) string {
	return q.b.key("{queue}", "stream", strconv.Itoa(int(c)))
}
func (q *redisQueue) counts() string { return q.b.key("{queue}", "counts") }

// pushScript admits an entry atomically: capacity, the owner's share, then
// XADD and the counts.
var pushScript = redis.NewScript(`
local total = tonumber(redis.call('HGET', KEYS[1], '*') or '0')
if total >= tonumber(ARGV[1]) then return -1 end
if ARGV[3] ~= '' then
  local o = tonumber(redis.call('HGET', KEYS[1], 'o:' .. ARGV[3]) or '0')
  if o >= tonumber(ARGV[2]) then return -2 end
  redis.call('HINCRBY', KEYS[1], 'o:' .. ARGV[3], 1)
end
redis.call('HINCRBY', KEYS[1], '*', 1)
redis.call('XADD', KEYS[2], '*', 'o', ARGV[3], 'd', ARGV[4])
return 1
`)

// takenScript counts an entry as no longer waiting.
var takenScript = redis.NewScript(`
if tonumber(redis.call('HINCRBY', KEYS[1], '*', -1)) < 0 then redis.call('HSET', KEYS[1], '*', 0) end
if ARGV[1] ~= '' then
  if tonumber(redis.call('HINCRBY', KEYS[1], 'o:' .. ARGV[1], -1)) <= 0 then redis.call('HDEL', KEYS[1], 'o:' .. ARGV[1]) end
end
return 1
`)

func (q *redisQueue) Push(ctx context.Context, e Entry) error {
	if e.Class < 0 || e.Class >= classes {
		e.Class = ClassAudit
	}
	if err := q.ensureGroups(ctx); err != nil {
		return err
	}
	n, err := pushScript.Run(ctx, q.b.c, []string{q.counts(), q.stream(e.Class)}, q.o.Capacity, q.o.OwnerLimit(), e.Owner, e.Data).Int()
	switch {
	case err != nil:
		return err
	case n == -1:
		return ErrFull
	case n == -2:
		return ErrShare
	}
	return nil
}

// ensureGroups creates the consumer group of each stream once per process
// (and again after Redis lost it: see Pop).
func (q *redisQueue) ensureGroups(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for c := range classes {
		s := q.stream(c)
		if q.created[s] {
			continue
		}
		err := q.b.c.XGroupCreateMkStream(ctx, s, q.group, "0").Err()
		if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
			return fmt.Errorf("create consumer group: %w", err)
		}
		q.created[s] = true
	}
	return nil
}

func (q *redisQueue) forgetGroups() {
	q.mu.Lock()
	defer q.mu.Unlock()
	clear(q.created)
}

func (q *redisQueue) Pop(ctx context.Context, consumer string) (Entry, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Entry{}, err
		}
		e, ok, err := q.try(ctx, consumer)
		if err != nil {
			if strings.HasPrefix(err.Error(), "NOGROUP") {
				q.forgetGroups() // Redis restarted without its data
				continue
			}
			return Entry{}, err
		}
		if ok {
			return e, nil
		}
	}
}

// try reclaims a dead consumer's entry, or reads the next one by priority,
// blocking briefly on the checks' stream when all are empty.
func (q *redisQueue) try(ctx context.Context, consumer string) (Entry, bool, error) {
	if err := q.ensureGroups(ctx); err != nil {
		return Entry{}, false, err
	}
	if e, ok, err := q.reclaim(ctx, consumer); err != nil || ok {
		return e, ok, err
	}
	order := []Class{ClassCheck, ClassCommand, ClassAudit}
	aged, err := q.auditAged(ctx)
	if err != nil {
		return Entry{}, false, err
	}
	if aged {
		order = []Class{ClassAudit, ClassCheck, ClassCommand}
	}
	for _, c := range order {
		e, ok, err := q.read(ctx, consumer, c, -1)
		if err != nil || ok {
			return e, ok, err
		}
	}
	// Nothing waits: block a little on the checks, the class that must
	// start fastest; the others are looked at again within that time.
	return q.read(ctx, consumer, ClassCheck, 200*time.Millisecond)
}

func (q *redisQueue) read(ctx context.Context, consumer string, c Class, block time.Duration) (Entry, bool, error) {
	res, err := q.b.c.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: q.group, Consumer: consumer, Streams: []string{q.stream(c), ">"}, Count: 1, Block: block,
	}).Result()
	if errors.Is(err, redis.Nil) || (err == nil && (len(res) == 0 || len(res[0].Messages) == 0)) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, err
	}
	e := q.entry(c, res[0].Messages[0])
	e.consumer = consumer
	if err := takenScript.Run(ctx, q.b.c, []string{q.counts()}, e.Owner).Err(); err != nil {
		return e, true, nil // counted too high until the next restart; the work is ours
	}
	return e, true, nil
}

func (q *redisQueue) entry(c Class, m redis.XMessage) Entry {
	e := Entry{ID: m.ID, Class: c}
	if s, ok := m.Values["o"].(string); ok {
		e.Owner = s
	}
	if s, ok := m.Values["d"].(string); ok {
		e.Data = []byte(s)
	}
	if ms, _, ok := strings.Cut(m.ID, "-"); ok {
		if n, err := strconv.ParseInt(ms, 10, 64); err == nil {
			e.Queued = time.UnixMilli(n)
		}
	}
	return e
}

// reclaim takes one entry whose consumer has not touched it for
// ReclaimIdle; it looks at most every ReclaimIdle/4 once it found none.
func (q *redisQueue) reclaim(ctx context.Context, consumer string) (Entry, bool, error) {
	idle := q.o.reclaimIdle()
	q.mu.Lock()
	due := time.Since(q.lastReclaim) >= idle/4
	if due {
		q.lastReclaim = time.Now()
	}
	q.mu.Unlock()
	if !due {
		return Entry{}, false, nil
	}
	for c := range classes {
		msgs, _, err := q.b.c.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: q.stream(c), Group: q.group, Consumer: consumer, MinIdle: idle, Start: "0-0", Count: 1,
		}).Result()
		if err != nil {
			return Entry{}, false, err
		}
		if len(msgs) > 0 {
			q.mu.Lock()
			q.lastReclaim = time.Time{} // more may wait: look again next time
			q.mu.Unlock()
			e := q.entry(c, msgs[0])
			e.Reclaimed, e.consumer = true, consumer
			return e, true, nil
		}
	}
	return Entry{}, false, nil
}

// auditAged reports whether the oldest audit not yet read waited AgeAfter;
// it asks Redis at most once a second.
func (q *redisQueue) auditAged(ctx context.Context) (bool, error) {
	q.mu.Lock()
	if time.Since(q.agedAt) < time.Second {
		defer q.mu.Unlock()
		return q.aged, nil
	}
	q.agedAt = time.Now()
	q.mu.Unlock()
	s := q.stream(ClassAudit)
	groups, err := q.b.c.XInfoGroups(ctx, s).Result()
	if err != nil {
		return false, err
	}
	aged := false
	for _, g := range groups {
		if g.Name != q.group {
			continue
		}
		msgs, err := q.b.c.XRangeN(ctx, s, "("+g.LastDeliveredID, "+", 1).Result()
		if err != nil {
			return false, err
		}
		if len(msgs) > 0 {
			aged = time.Since(q.entry(ClassAudit, msgs[0]).Queued) >= q.o.ageAfter()
		}
	}
	q.mu.Lock()
	q.aged = aged
	q.mu.Unlock()
	return aged, nil
}

func (q *redisQueue) Touch(ctx context.Context, e Entry) error {
	// XCLAIM by the holder with JUSTID resets the entry's idle time.
	return q.b.c.XClaimJustID(ctx, &redis.XClaimArgs{Stream: q.stream(e.Class), Group: q.group, Consumer: e.consumer, MinIdle: 0, Messages: []string{e.ID}}).Err()
}

func (q *redisQueue) Ack(ctx context.Context, e Entry) error {
	_, err := q.b.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, q.stream(e.Class), q.group, e.ID)
		p.XDel(ctx, q.stream(e.Class), e.ID)
		return nil
	})
	return err
}

func (q *redisQueue) Held(ctx context.Context, owner string) (int, error) {
	n, err := q.b.c.HGet(ctx, q.counts(), "o:"+owner).Int()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return max(n, 0), err
}

func (q *redisQueue) Depth(ctx context.Context) (int, error) {
	n, err := q.b.c.HGet(ctx, q.counts(), "*").Int()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return max(n, 0), err
}

// delConsumerScript forgets a consumer only while it holds no entry, so
// one that took an entry since it was listed keeps it.
var delConsumerScript = redis.NewScript(`
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return -1 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
`)

func (q *redisQueue) Prune(ctx context.Context, idle time.Duration) (int, error) {
	gone := map[string]bool{}
	for c := range classes {
		s := q.stream(c)
		cs, err := q.b.c.XInfoConsumers(ctx, s, q.group).Result()
		if err != nil {
			if strings.HasPrefix(err.Error(), "NOGROUP") || strings.HasPrefix(err.Error(), "ERR no such key") {
				continue
			}
			return len(gone), err
		}
		for _, con := range cs {
			if con.Pending > 0 || con.Idle < idle {
				continue
			}
			// Each stream has its own consumers; a name counts once.
			// -1: it took an entry since it was listed, and stays.
			kept, err := delConsumerScript.Run(ctx, q.b.c, []string{s}, q.group, con.Name).Int()
			if err != nil {
				return len(gone), err
			}
			if kept >= 0 {
				gone[con.Name] = true
			}
		}
	}
	return len(gone), nil
}
