package metrics

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// operations are the metrics an operator alerts on besides deliveries:
// GitHub API retries and rate-limit waits, the reconciler's redelivery
// requests, time in the queue, and runs completed as failures because the
// App could not finish them (fail closed).
type operations struct {
	retries        *prometheus.CounterVec
	rateLimitWaits *prometheus.CounterVec
	rateLimitSecs  *prometheus.CounterVec
	redeliveries   *prometheus.CounterVec
	reconcilerRuns *prometheus.CounterVec
	queueWait      prometheus.Histogram
	failedClosed   *prometheus.CounterVec
}

func (m *Metrics) registerOperations() {
	m.ops = operations{
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_github_retries_total",
			Help: "GitHub API requests retried, by reason (transport_error, timeout, server_error, rate_limit, secondary_rate_limit).",
		}, []string{"reason"}),
		rateLimitWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_github_rate_limit_waits_total",
			Help: "Waits for a GitHub rate limit before a retry, by kind (primary, secondary).",
		}, []string{"kind"}),
		rateLimitSecs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_github_rate_limit_wait_seconds_total",
			Help: "Seconds spent waiting for GitHub rate limits before retries, by kind (primary, secondary).",
		}, []string{"kind"}),
		redeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_reconciler_redeliveries_total",
			Help: "Failed deliveries the reconciler handled, by outcome (asked: redelivery requested; ask_failed: the request failed; deferred: no queue room, left for the next pass; gave_up: no longer asked for, lost).",
		}, []string{"outcome"}),
		reconcilerRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_reconciler_passes_total",
			Help: "Reconciler passes over the App's recent deliveries, by outcome (ok, error).",
		}, []string{"outcome"}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "housekeeper_queue_wait_seconds",
			Help:    "Time an accepted delivery waited in the queue for a worker.",
			Buckets: []float64{0.001, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
		failedClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_runs_failed_closed_total",
			Help: "Check runs completed as failure because the App could not finish them, by check and reason (config, rate_limit, shutdown, error).",
		}, []string{"check", "reason"}),
	}
	m.reg.MustRegister(m.ops.retries, m.ops.rateLimitWaits, m.ops.rateLimitSecs, m.ops.redeliveries,
		m.ops.reconcilerRuns, m.ops.queueWait, m.ops.failedClosed)
}

// retryReason folds the retry transport's reasons ("status 502",
// "secondary rate limit", …) into a fixed set.
func retryReason(reason string) string {
	switch {
	case reason == "secondary rate limit":
		return "secondary_rate_limit"
	case reason == "rate limit":
		return "rate_limit"
	case reason == "timeout":
		return "timeout"
	case reason == "transport error":
		return "transport_error"
	case strings.HasPrefix(reason, "status 5"):
		return "server_error"
	}
	return "other"
}

// Retry counts one retried GitHub request; a rate-limit retry also counts
// as a wait of that length.
func (m *Metrics) Retry(reason string, wait time.Duration) {
	r := retryReason(reason)
	m.ops.retries.WithLabelValues(r).Inc()
	kind := ""
	switch r {
	case "rate_limit":
		kind = "primary"
	case "secondary_rate_limit":
		kind = "secondary"
	default:
		return
	}
	m.ops.rateLimitWaits.WithLabelValues(kind).Inc()
	m.ops.rateLimitSecs.WithLabelValues(kind).Add(wait.Seconds())
}

// Reconciler outcomes for Redeliveries.
const (
	RedeliveryAsked     = "asked"
	RedeliveryAskFailed = "ask_failed"
	RedeliveryDeferred  = "deferred"
	// RedeliveryGaveUp: a failed delivery no longer asked for, lost unless
	// someone redelivers it by hand (docs/reliability.md).
	RedeliveryGaveUp = "gave_up"
)

// ReconcilerPass records one reconciler pass and what it did with the
// failed deliveries it found.
func (m *Metrics) ReconcilerPass(err error, asked, askFailed, deferred, gaveUp int) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.ops.reconcilerRuns.WithLabelValues(outcome).Inc()
	m.ops.redeliveries.WithLabelValues(RedeliveryAsked).Add(float64(max(asked, 0)))
	m.ops.redeliveries.WithLabelValues(RedeliveryAskFailed).Add(float64(max(askFailed, 0)))
	m.ops.redeliveries.WithLabelValues(RedeliveryDeferred).Add(float64(max(deferred, 0)))
	m.ops.redeliveries.WithLabelValues(RedeliveryGaveUp).Add(float64(max(gaveUp, 0)))
}

// QueueWait observes how long a delivery waited for a worker.
func (m *Metrics) QueueWait(d time.Duration) { m.ops.queueWait.Observe(d.Seconds()) }

var failClosedReasons = set("config", "rate_limit", "shutdown", "error")

// FailedClosed counts a check run completed as failure because the App
// could not finish it.
func (m *Metrics) FailedClosed(check, reason string) {
	m.ops.failedClosed.WithLabelValues(oneOf(check, checkNames), oneOf(reason, failClosedReasons)).Inc()
}
