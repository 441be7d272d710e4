package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRunDrainsAcceptedWork(t *testing.T) {
	h := &stubHandler{events: []string{"pull_request"}, block: make(chan struct{}), started: make(chan string, 10)}
	hr := newHarness(t, func(c *Config) { c.Workers, c.QueueSize = 1, 2 }, h)
	base, stop := hr.running(t)

	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz before shutdown = %d", code)
	}
	if code := post(t, base, delivery{event: "pull_request", id: "a"}); code != http.StatusAccepted {
		t.Fatalf("a: %d", code)
	}
	waitStarted(t, h, "a")
	if code := post(t, base, delivery{event: "pull_request", id: "b"}); code != http.StatusAccepted {
		t.Fatalf("b: %d", code)
	}

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	eventually(t, "draining to start", func() bool { return !hr.s.Ready() })

	// While draining, the listener is still up: readyz and new deliveries
	// get 503, so GitHub (or the reconciler) redelivers elsewhere or later.
	if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining = %d, want 503", code)
	}
	if code := post(t, base, delivery{event: "pull_request", id: "c"}); code != http.StatusServiceUnavailable {
		t.Errorf("delivery while draining = %d, want 503", code)
	}
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz while draining = %d, want 200", code)
	}

	close(h.block) // let the accepted work finish
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("Run = %v, want a clean drain", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return")
	}
	for _, id := range []string{"a", "b"} {
		if got := h.callsFor(id); got != 1 {
			t.Errorf("%s handled %d times, want 1", id, got)
		}
	}
	for _, c := range h.allCalls() {
		if c.ctxErr != nil {
			t.Errorf("%s ran with a cancelled context (%v); accepted work must finish", c.id, c.ctxErr)
		}
	}
	if got := h.callsFor("c"); got != 0 {
		t.Errorf("c handled during drain")
	}
	if got := refusedCount(hr.m, "draining"); got != 1 {
		t.Errorf("refused{draining} = %v", got)
	}
}

func TestRunCancelsAfterShutdownTimeout(t *testing.T) {
	h := &stubHandler{events: []string{"pull_request"}, block: make(chan struct{}), started: make(chan string, 10)}
	defer close(h.block)
	hr := newHarness(t, func(c *Config) { c.Workers, c.QueueSize, c.ShutdownTimeout = 1, 2, 100*time.Millisecond }, h)
	base, stop := hr.running(t)

	post(t, base, delivery{event: "pull_request", id: "running"})
	waitStarted(t, h, "running")
	post(t, base, delivery{event: "pull_request", id: "queued"})

	if err := stop(); err != nil {
		t.Fatalf("Run = %v; handlers that honour cancellation make a clean exit", err)
	}
	// The queued delivery's handler runs too, already cancelled, so it can
	// complete its check runs as failures.
	calls := h.allCalls()
	if len(calls) != 2 || calls[0].id != "running" || calls[1].id != "queued" {
		t.Fatalf("calls = %+v; want 'running' then 'queued'", calls)
	}
	for _, c := range calls {
		if !errors.Is(c.ctxErr, context.Canceled) {
			t.Errorf("%s ran with context error %v, want cancelled", c.id, c.ctxErr)
		}
	}
	if got := counterValue(hr.m, "housekeeper_jobs_dropped_total", map[string]string{"reason": "shutdown"}); got != 1 {
		t.Errorf("dropped = %v, want 1 (the queued delivery)", got)
	}
	if got := counterValue(hr.m, "housekeeper_handler_duration_seconds", map[string]string{"outcome": "canceled"}); got != 2 {
		t.Errorf("handling{canceled} = %v, want 2", got)
	}
	// Neither GUID counts as accepted any more, so redeliveries are handled.
	for _, id := range []string{"running", "queued"} {
		if ok, _, _ := hr.s.shared.Deliveries.Claim(context.Background(), id); !ok {
			t.Errorf("%s still remembered after it was cancelled", id)
		}
	}
}

func TestRunRoutesAndLogs(t *testing.T) {
	h := &stubHandler{events: []string{"pull_request"}, started: make(chan string, 10)}
	hr := newHarness(t, nil, h)
	base, stop := hr.running(t)

	body := `{"action":"opened","installation":{"id":42},"repository":{"full_name":"acme/infra"},"pull_request":{"title":"BODY-MARKER"}}`
	if code := post(t, base, delivery{event: "pull_request", id: "guid-1", body: body}); code != http.StatusAccepted {
		t.Fatalf("delivery: %d", code)
	}
	waitStarted(t, h, "guid-1")
	post(t, base, delivery{event: "pull_request", id: "guid-2", signature: "sha256=" + strings.Repeat("0", 64)})

	code, metricsText := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("metrics: %d", code)
	}
	for _, want := range []string{
		`housekeeper_webhook_events_total{action="opened",event="pull_request"} 1`,
		`housekeeper_webhook_refused_total{reason="signature"} 1`,
		`housekeeper_queue_depth`,
		`process_start_time_seconds`,
	} {
		if !strings.Contains(metricsText, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	logs := hr.logs.String()
	for _, want := range []string{
		`"github_delivery_id":"guid-1"`, `"github_event_type":"pull_request"`, `"action":"opened"`,
		`"github_installation_id":42`, `"repository":"acme/infra"`, `"outcome":"queued"`, `"status":202`,
		`"outcome":"signature"`, `"status":400`, `"message":"listening"`, `"message":"stopped"`,
		`"outcome":"ok"`, // the handler's completion, with the dispatcher's keys
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	for _, leak := range []string{testSecret, "BODY-MARKER", Sign([]byte(testSecret), []byte(body))} {
		if strings.Contains(logs, leak) {
			t.Errorf("logs contain %q", leak)
		}
	}
}

func TestRunListenError(t *testing.T) {
	first := newHarness(t, nil)
	if err := first.s.Listen(); err != nil {
		t.Fatal(err)
	}
	taken := first.s.Addr().String()
	second := newHarness(t, func(c *Config) { c.Addr = taken })
	err := second.s.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "listen on "+taken) {
		t.Fatalf("Run on a taken port = %v", err)
	}
}

func TestNewRefusesInvalidConfig(t *testing.T) {
	c := testConfig(t, func(c *Config) { c.WebhookSecret = Secret{} })
	if _, err := New(c, hrLogger(), nil); err == nil || !strings.Contains(err.Error(), "GITHUB_APP_WEBHOOK_SECRET: required") {
		t.Fatalf("New without a webhook secret = %v", err)
	}
}
