// Package metrics owns Housekeeper's Prometheus metrics. Every label value
// comes from a small, fixed set (or is folded into "other"), so no secret or
// user-controlled text can reach a time series and the number of series stays
// bounded whatever GitHub or an attacker sends.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every collector on a private registry, so tests and several
// servers in one process never collide on the global one.
type Metrics struct {
	reg *prometheus.Registry

	events      *prometheus.CounterVec
	refused     *prometheus.CounterVec
	ignored     *prometheus.CounterVec
	duplicates  prometheus.Counter
	dropped     *prometheus.CounterVec
	handling    *prometheus.HistogramVec
	conclusions *prometheus.CounterVec
	findings    *prometheus.CounterVec
	apiCalls    *prometheus.CounterVec
	rateLimit   *prometheus.GaugeVec
	queueDepth  prometheus.Gauge
	inFlight    prometheus.Gauge
	runCalls    prometheus.Histogram
	runTime     prometheus.Histogram
	onboarding  *prometheus.CounterVec

	ops operations // operations.go
}

// New registers all collectors, plus the Go runtime and process collectors,
// on a fresh registry. version is exported as housekeeper_build_info.
func New(version string) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_webhook_events_total",
			Help: "Webhook deliveries with a valid signature, by event and action.",
		}, []string{"event", "action"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_webhook_refused_total",
			Help: "Webhook deliveries refused, by reason.",
		}, []string{"reason"}),
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_webhook_ignored_total",
			Help: "Valid webhook deliveries of events no handler subscribes to, by event.",
		}, []string{"event"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "housekeeper_webhook_duplicates_total",
			Help: "Webhook deliveries acknowledged without handling because their GUID was already accepted.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_jobs_dropped_total",
			Help: "Accepted deliveries whose handler never ran, by reason.",
		}, []string{"reason"}),
		handling: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "housekeeper_handler_duration_seconds",
			Help:    "Time spent handling a delivery, by event and outcome.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"event", "outcome"}),
		conclusions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_check_conclusions_total",
			Help: "Completed check runs, by check name and conclusion.",
		}, []string{"check", "conclusion"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_findings_total",
			Help: "Findings reported on check runs, by check, secret tier and level.",
		}, []string{"check", "tier", "level"}),
		apiCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_github_api_calls_total",
			Help: "GitHub API requests, by endpoint (method and path template) and status class.",
		}, []string{"endpoint", "status"}),
		rateLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "housekeeper_github_rate_limit_remaining",
			Help: "Last X-RateLimit-Remaining seen, by rate-limit resource (X-RateLimit-Resource).",
		}, []string{"resource"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "housekeeper_queue_depth",
			Help: "Accepted deliveries waiting for a worker.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "housekeeper_workers_busy",
			Help: "Workers currently running a handler.",
		}),
		runCalls: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "housekeeper_run_api_calls",
			Help:    "GitHub API calls per check of one commit (both runs).",
			Buckets: []float64{4, 6, 8, 10, 12, 16, 24, 48, 100, 500},
		}),
		onboarding: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "housekeeper_onboarding_total",
			Help: "Onboarding decisions for repositories without a map, by outcome (opened, refreshed, up_to_date, handed_over, declined, merged, dry_run, no_permission, switched_off, fork, org_config_repository, error).",
		}, []string{"outcome"}),
		runTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "housekeeper_run_duration_seconds",
			Help:    "Time to check one commit and publish both runs.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "housekeeper_build_info",
		Help: "Always 1; the version label is the running build.",
	}, []string{"version"})
	build.WithLabelValues(boundedVersion(version)).Set(1)

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		build, m.events, m.refused, m.ignored, m.duplicates, m.dropped, m.handling,
		m.conclusions, m.findings, m.apiCalls, m.rateLimit, m.queueDepth, m.inFlight,
		m.runCalls, m.runTime, m.onboarding,
	)
	m.registerOperations()
	return m
}

// Onboarding counts one onboarding decision.
func (m *Metrics) Onboarding(outcome string) { m.onboarding.WithLabelValues(Word(outcome)).Inc() }

// RunDone records one commit's check: its duration and API calls.
func (m *Metrics) RunDone(d time.Duration, calls int) {
	m.runCalls.Observe(float64(calls))
	m.runTime.Observe(d.Seconds())
}

// Registry is the registry behind Handler, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// EventReceived counts a delivery whose signature verified.
func (m *Metrics) EventReceived(event, action string) {
	m.events.WithLabelValues(Word(event), Word(action)).Inc()
}

// Refusal reasons for DeliveryRefused.
const (
	RefusedSignature    = "signature"
	RefusedBodyTooLarge = "body_too_large"
	RefusedNotJSON      = "not_json"
	RefusedMissingEvent = "missing_event"
	RefusedBadBody      = "bad_body"
	RefusedQueueFull    = "queue_full"
	RefusedDraining     = "draining"
	RefusedError        = "error"
)

var refusalReasons = set(RefusedSignature, RefusedBodyTooLarge, RefusedNotJSON, RefusedMissingEvent,
	RefusedBadBody, RefusedQueueFull, RefusedDraining, RefusedError)

// DeliveryRefused counts a delivery answered with a 4xx or 5xx status.
func (m *Metrics) DeliveryRefused(reason string) {
	m.refused.WithLabelValues(oneOf(reason, refusalReasons)).Inc()
}

// EventIgnored counts a valid delivery of an event nothing handles.
func (m *Metrics) EventIgnored(event string) { m.ignored.WithLabelValues(Word(event)).Inc() }

// DeliveryDuplicate counts a redelivery of an already accepted GUID.
func (m *Metrics) DeliveryDuplicate() { m.duplicates.Inc() }

// JobDropped counts an accepted delivery that was never handled (reason:
// "shutdown" when the drain deadline passed before a worker took it).
func (m *Metrics) JobDropped(reason string) { m.dropped.WithLabelValues(Word(reason)).Inc() }

// Handler outcomes for HandlingDone.
const (
	OutcomeOK       = "ok"
	OutcomeError    = "error"
	OutcomePanic    = "panic"
	OutcomeTimeout  = "timeout"
	OutcomeCanceled = "canceled"
)

var outcomes = set(OutcomeOK, OutcomeError, OutcomePanic, OutcomeTimeout, OutcomeCanceled)

// HandlingDone observes one handler run.
func (m *Metrics) HandlingDone(event, outcome string, d time.Duration) {
	m.handling.WithLabelValues(Word(event), oneOf(outcome, outcomes)).Observe(d.Seconds())
}

var (
	checkNames      = set("housekeeper/dirs", "housekeeper/secrets")
	conclusionNames = set("success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required", "stale")
	tierNames       = set("bootstrap", "runtime", "none")
	levelNames      = set("failure", "warning", "notice")
)

// CheckConclusion counts a completed check run.
func (m *Metrics) CheckConclusion(check, conclusion string) {
	m.conclusions.WithLabelValues(oneOf(check, checkNames), oneOf(conclusion, conclusionNames)).Inc()
}

// Findings adds n findings of one check, tier and level. Directory findings
// have no tier: pass "" (reported as "none").
func (m *Metrics) Findings(check, tier, level string, n int) {
	if n <= 0 {
		return
	}
	if tier == "" {
		tier = "none"
	}
	m.findings.WithLabelValues(oneOf(check, checkNames), oneOf(tier, tierNames), oneOf(level, levelNames)).Add(float64(n))
}

// APICall counts one GitHub API request. endpoint should come from
// EndpointTemplate; status 0 means the request failed without a response.
func (m *Metrics) APICall(endpoint string, status int) {
	m.apiCalls.WithLabelValues(endpoint, StatusClass(status)).Inc()
}

// RateLimitRemaining records the remaining requests GitHub reported for a
// rate-limit resource ("core", "search", "graphql", …).
func (m *Metrics) RateLimitRemaining(resource string, remaining int) {
	if resource == "" {
		resource = "core"
	}
	m.rateLimit.WithLabelValues(Word(resource)).Set(float64(remaining))
}

// Enqueued and Dequeued track the scheduler's queue depth.
func (m *Metrics) Enqueued() { m.queueDepth.Inc() }

// Dequeued is the counterpart of Enqueued.
func (m *Metrics) Dequeued() { m.queueDepth.Dec() }

// WorkerBusy and WorkerIdle track workers running a handler.
func (m *Metrics) WorkerBusy() { m.inFlight.Inc() }

// WorkerIdle is the counterpart of WorkerBusy.
func (m *Metrics) WorkerIdle() { m.inFlight.Dec() }

// StatusClass maps an HTTP status to "2xx" … "5xx", or "error" for 0 (no
// response) and "other" for anything outside 100–599.
func StatusClass(status int) string {
	switch {
	case status == 0:
		return "error"
	case status >= 100 && status < 600:
		return strconv.Itoa(status/100) + "xx"
	}
	return "other"
}
