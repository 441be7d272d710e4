package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Refusal reasons of the shared state (internal/coord).
const (
	// RefusedShare: the delivery's installation holds its share of the
	// queue.
	RefusedShare = "installation_share"
	// RefusedCoordination: the shared state (Redis) cannot be reached.
	RefusedCoordination = "coordination"
)

func init() {
	refusalReasons[RefusedShare] = true
	refusalReasons[RefusedCoordination] = true
}

// coordMetrics are the shared state's collectors, registered on first use
// so a server without them exports none.
type coordMetrics struct {
	redisOps      *prometheus.CounterVec
	reclaimed     prometheus.Counter
	leaderChanges *prometheus.CounterVec
	leader        *prometheus.GaugeVec
	lockBusy      *prometheus.CounterVec
	paceWait      *prometheus.HistogramVec
	limited       *prometheus.CounterVec
	redisUp       prometheus.Gauge
	budgetLeft    prometheus.Histogram
	budgetDefer   *prometheus.CounterVec
	pruned        prometheus.Counter
}

var coordOnce sync.Map // *Metrics → *coordMetrics

func (m *Metrics) coord() *coordMetrics {
	if c, ok := coordOnce.Load(m); ok {
		return c.(*coordMetrics)
	}
	c := &coordMetrics{
		redisOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_redis_operations_total",
			Help: "Redis commands (and pipelines) sent for the shared state, by command and result (ok, error).",
		}, []string{"op", "result"}),
		reclaimed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "housekeeper_queue_reclaimed_total",
			Help: "Deliveries this replica took over from a replica that stopped working on them (died).",
		}),
		leaderChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_leader_changes_total",
			Help: "Times this replica became (gained) or stopped being (lost) the leader of a role (reconciler, auditor).",
		}, []string{"role", "change"}),
		leader: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "housekeeper_leader",
			Help: "1 while this replica leads the role.",
		}, []string{"role"}),
		lockBusy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_lock_busy_total",
			Help: "Times a lease was held elsewhere (commit: the event was handed to the run in progress).",
		}, []string{"lock"}),
		paceWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "housekeeper_limit_wait_seconds",
			Help:    "Time waited for a per-installation limit (content-creating requests) before a request.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60},
		}, []string{"limit"}),
		redisUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "housekeeper_redis_up",
			Help: "1 when the last readiness check reached Redis, 0 when it did not (only with redis_url).",
		}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_limited_total",
			Help: "Requests refused by a limit (command limits per user and repository or per installation).",
		}, []string{"limit"}),
		budgetLeft: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "housekeeper_api_budget_left_ratio",
			Help:    "Fraction of an installation's hourly GitHub API budget left, as reported by GitHub and recorded in the shared state (no installation label: the low buckets count how often any installation was near its reserve).",
			Buckets: []float64{0.01, 0.05, 0.1, 0.2, 0.5, 0.8, 1},
		}),
		budgetDefer: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_api_budget_deferred_total",
			Help: "Work deferred to the budget's reset because only the reserve kept for pull requests was left (audit: baseline audits; reconciler: passes, on the App's own budget).",
		}, []string{"work"}),
		pruned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "housekeeper_queue_consumers_pruned_total",
			Help: "Consumer names of dead replicas removed from the shared queue's consumer group by the leader.",
		}),
	}
	if prev, loaded := coordOnce.LoadOrStore(m, c); loaded {
		return prev.(*coordMetrics)
	}
	m.reg.MustRegister(c.redisOps, c.reclaimed, c.leaderChanges, c.leader, c.lockBusy, c.paceWait, c.limited, c.redisUp, c.budgetLeft, c.budgetDefer, c.pruned)
	return c
}

var (
	redisResults = set("ok", "error")
	roles        = set("reconciler", "auditor", "deferred")
	locks        = set("commit", "leader")
	limitNames   = set("content", "command_user", "command_installation")
	budgetWork   = set("audit", "reconciler")
)

// RedisOp counts one Redis command; op is the command's name (a fixed
// vocabulary of the code's own commands).
func (m *Metrics) RedisOp(op string, err error) {
	r := "ok"
	if err != nil {
		r = "error"
	}
	m.coord().redisOps.WithLabelValues(Word(op), oneOf(r, redisResults)).Inc()
}

// RedisUp records whether the last readiness check reached Redis.
func (m *Metrics) RedisUp(up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.coord().redisUp.Set(v)
}

// QueueReclaimed counts a delivery taken over from a dead replica.
func (m *Metrics) QueueReclaimed() { m.coord().reclaimed.Inc() }

// SetQueueDepth sets the queue depth gauge from the shared queue.
func (m *Metrics) SetQueueDepth(n int) { m.queueDepth.Set(float64(n)) }

// Leading records a gain (true) or loss of a role's leadership.
func (m *Metrics) Leading(role string, on bool) {
	c := m.coord()
	role = oneOf(role, roles)
	change, v := "lost", 0.0
	if on {
		change, v = "gained", 1
	}
	c.leaderChanges.WithLabelValues(role, change).Inc()
	c.leader.WithLabelValues(role).Set(v)
}

// LockBusy counts a lease found held elsewhere.
func (m *Metrics) LockBusy(lock string) { m.coord().lockBusy.WithLabelValues(oneOf(lock, locks)).Inc() }

// LimitWait observes a wait for a limit, in seconds.
func (m *Metrics) LimitWait(limit string, seconds float64) {
	m.coord().paceWait.WithLabelValues(oneOf(limit, limitNames)).Observe(seconds)
}

// Limited counts a request refused by a limit.
func (m *Metrics) Limited(limit string) {
	m.coord().limited.WithLabelValues(oneOf(limit, limitNames)).Inc()
}

// BudgetSeen observes the fraction of an installation's hourly budget left
// in a report recorded to the shared state.
func (m *Metrics) BudgetSeen(fractionLeft float64) {
	m.coord().budgetLeft.Observe(min(max(fractionLeft, 0), 1))
}

// BudgetDeferred counts work deferred to keep the budget's reserve.
func (m *Metrics) BudgetDeferred(work string) {
	m.coord().budgetDefer.WithLabelValues(oneOf(work, budgetWork)).Inc()
}

// ConsumersPruned counts consumer names of dead replicas removed.
func (m *Metrics) ConsumersPruned(n int) { m.coord().pruned.Add(float64(n)) }
