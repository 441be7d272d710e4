package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/metrics"
)

func refusedCount(m *metrics.Metrics, reason string) float64 {
	return counterValue(m, "housekeeper_webhook_refused_total", map[string]string{"reason": reason})
}

// counterValue reads one series from the registry by name and labels.
func counterValue(m *metrics.Metrics, name string, labels map[string]string) float64 {
	families, err := m.Registry().Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			for _, lp := range s.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue series
				}
			}
			switch {
			case s.GetCounter() != nil:
				return s.GetCounter().GetValue()
			case s.GetGauge() != nil:
				return s.GetGauge().GetValue()
			case s.GetHistogram() != nil:
				return float64(s.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

func TestHookRefusals(t *testing.T) {
	tests := map[string]struct {
		d      delivery
		mutate func(*http.Request)
		status int
		reason string
	}{
		"missing signature":   {d: delivery{event: "pull_request", id: "g1", signature: "-"}, status: 400, reason: "signature"},
		"wrong signature":     {d: delivery{event: "pull_request", id: "g1", signature: Sign([]byte("other"), []byte("{}"))}, status: 400, reason: "signature"},
		"malformed signature": {d: delivery{event: "pull_request", id: "g1", signature: "sha256=zz"}, status: 400, reason: "signature"},
		"sha1 only":           {d: delivery{event: "pull_request", id: "g1", signature: "sha1=0123456789abcdef0123456789abcdef01234567"}, status: 400, reason: "signature"},
		"not JSON":            {d: delivery{event: "pull_request", id: "g1", body: "payload=%7B%7D"}, status: 400, reason: "not_json"},
		"JSON but no object":  {d: delivery{event: "pull_request", id: "g1", body: `["a"]`}, status: 400, reason: "not_json"},
		"missing event":       {d: delivery{id: "g1"}, status: 400, reason: "missing_event"},
		"over the limit, announced": {
			d: delivery{event: "pull_request", id: "g1", body: `{"action":"` + strings.Repeat("x", 200) + `"}`}, status: 413, reason: "body_too_large",
		},
		"over the limit, chunked": {
			d: delivery{event: "pull_request", id: "g1", body: `{"action":"` + strings.Repeat("x", 200) + `"}`}, status: 413, reason: "body_too_large",
			mutate: func(r *http.Request) { r.ContentLength = -1 },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := &stubHandler{events: []string{"pull_request"}}
			hr := newHarness(t, func(c *Config) { c.MaxBodyBytes = 128 }, h)
			r := tc.d.request(HookPath)
			if tc.mutate != nil {
				tc.mutate(r)
			}
			rec := newRecorder()
			hr.s.Handler().ServeHTTP(rec, r)
			if rec.Code != tc.status {
				t.Errorf("status = %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if got := refusedCount(hr.m, tc.reason); got != 1 {
				t.Errorf("refused{reason=%s} = %v, want 1", tc.reason, got)
			}
			if err := hr.s.sched.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := len(h.allCalls()); n != 0 {
				t.Errorf("handler called %d times for a refused delivery", n)
			}
		})
	}
}

// TestHookRealLimit sends one body a byte over the default 25 MiB, announced
// and chunked; the boundary itself is tested with a small limit below.
func TestHookRealLimit(t *testing.T) {
	h := &stubHandler{events: []string{"pull_request"}}
	hr := newHarness(t, nil, h)
	big := bytes.Repeat([]byte(" "), 25<<20+1) // JSON whitespace: only the size is wrong
	copy(big, "{}")
	for _, chunked := range []bool{false, true} {
		r := httptest.NewRequest(http.MethodPost, HookPath, bytes.NewReader(big))
		r.Header.Set("X-GitHub-Event", "pull_request")
		r.Header.Set("X-Hub-Signature-256", "sha256=00")
		if chunked {
			r.ContentLength = -1
		}
		rec := newRecorder()
		hr.s.Handler().ServeHTTP(rec, r)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked=%v: status = %d, want 413", chunked, rec.Code)
		}
	}
	if got := refusedCount(hr.m, "body_too_large"); got != 2 {
		t.Errorf("refused{body_too_large} = %v, want 2", got)
	}
}

func TestHookLimitBoundary(t *testing.T) {
	h := &stubHandler{events: []string{"pull_request"}}
	body := `{"action":"opened","pad":"` + strings.Repeat("x", 100) + `"}`
	hr := newHarness(t, func(c *Config) { c.MaxBodyBytes = int64(len(body)) }, h)
	if rec := hr.serve(delivery{event: "pull_request", id: "at-limit", body: body}); rec.Code != http.StatusAccepted {
		t.Errorf("body at the limit: status = %d, want 202", rec.Code)
	}
	over := strings.Replace(body, "xx", "xxx", 1)
	if rec := hr.serve(delivery{event: "pull_request", id: "over", body: over}); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("one byte over: status = %d, want 413", rec.Code)
	}
}

func TestHookAcknowledgements(t *testing.T) {
	h := &stubHandler{events: []string{"pull_request"}}
	hr := newHarness(t, nil, h)

	if rec := hr.serve(delivery{event: "star", id: "s1"}); rec.Code != http.StatusAccepted {
		t.Errorf("unhandled event: status = %d, want 202", rec.Code)
	}
	if rec := hr.serve(delivery{event: "ping", id: "p1", body: `{"zen":"Keep it logically awesome."}`}); rec.Code != http.StatusOK {
		t.Errorf("ping: status = %d, want 200", rec.Code)
	}
	if rec := hr.serve(delivery{event: "pull_request", id: "pr1"}); rec.Code != http.StatusAccepted {
		t.Errorf("handled event: status = %d, want 202 (%s)", rec.Code, rec.Body)
	}
	if err := hr.s.sched.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls := h.allCalls()
	if len(calls) != 1 || calls[0].id != "pr1" || calls[0].event != "pull_request" || !strings.Contains(string(calls[0].payload), `"acme/infra"`) {
		t.Fatalf("calls = %+v, want exactly pr1", calls)
	}
	if !calls[0].hasDeadline || calls[0].ctxErr != nil {
		t.Errorf("handler context: deadline=%v err=%v; want a live context with the handler timeout", calls[0].hasDeadline, calls[0].ctxErr)
	}
	if got := counterValue(hr.m, "housekeeper_webhook_ignored_total", map[string]string{"event": "star"}); got != 1 {
		t.Errorf("ignored{star} = %v", got)
	}
	if got := counterValue(hr.m, "housekeeper_webhook_events_total", map[string]string{"event": "pull_request", "action": "opened"}); got != 1 {
		t.Errorf("events{pull_request,opened} = %v", got)
	}
	if got := counterValue(hr.m, "housekeeper_handler_duration_seconds", map[string]string{"event": "pull_request", "outcome": "ok"}); got != 1 {
		t.Errorf("handling{pull_request,ok} = %v", got)
	}
}

func TestHookRedelivery(t *testing.T) {
	failOnce := map[string]bool{"fails": true}
	h := &stubHandler{
		events:  []string{"pull_request"},
		started: make(chan string, 10),
		result: func(_ context.Context, id string) error {
			if failOnce[id] {
				delete(failOnce, id) // only the handler goroutine touches it, one at a time
				return errors.New("boom")
			}
			return nil
		},
	}
	hr := newHarness(t, func(c *Config) { c.Workers = 1 }, h)

	// A completed GUID is acknowledged, not handled again.
	if rec := hr.serve(delivery{event: "pull_request", id: "same"}); rec.Code != http.StatusAccepted {
		t.Fatalf("first delivery: %d", rec.Code)
	}
	waitStarted(t, h, "same")
	eventually(t, "first handling to finish", func() bool { return h.callsFor("same") == 1 })
	if rec := hr.serve(delivery{event: "pull_request", id: "same"}); rec.Code != http.StatusOK {
		t.Errorf("redelivery of a completed GUID: status = %d, want 200", rec.Code)
	}

	// A failed GUID is handled again when redelivered.
	hr.serve(delivery{event: "pull_request", id: "fails"})
	waitStarted(t, h, "fails")
	eventually(t, "failing handling to finish", func() bool { return h.callsFor("fails") == 1 })
	eventually(t, "the failure to be forgotten", func() bool {
		// Not remembered: a claim succeeds (and is undone).
		ok, _, _ := hr.s.shared.Deliveries.Claim(context.Background(), "fails")
		if ok {
			_ = hr.s.shared.Deliveries.Forget(context.Background(), "fails")
		}
		return ok
	})
	if rec := hr.serve(delivery{event: "pull_request", id: "fails"}); rec.Code != http.StatusAccepted {
		t.Errorf("redelivery of a failed GUID: status = %d, want 202", rec.Code)
	}
	waitStarted(t, h, "fails")
	if err := hr.s.sched.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.callsFor("same"); got != 1 {
		t.Errorf("'same' handled %d times, want 1", got)
	}
	if got := h.callsFor("fails"); got != 2 {
		t.Errorf("'fails' handled %d times, want 2", got)
	}
	if got := counterValue(hr.m, "housekeeper_webhook_duplicates_total", nil); got != 1 {
		t.Errorf("duplicates = %v, want 1", got)
	}
}

func TestHookQueueFull(t *testing.T) {
	h := &stubHandler{events: []string{"pull_request"}, block: make(chan struct{}), started: make(chan string, 10)}
	hr := newHarness(t, func(c *Config) { c.Workers, c.QueueSize = 1, 1 }, h)

	if rec := hr.serve(delivery{event: "pull_request", id: "running"}); rec.Code != http.StatusAccepted {
		t.Fatalf("first: %d", rec.Code)
	}
	waitStarted(t, h, "running") // the only worker is now busy
	if rec := hr.serve(delivery{event: "pull_request", id: "queued"}); rec.Code != http.StatusAccepted {
		t.Fatalf("second: %d", rec.Code)
	}
	if rec := hr.serve(delivery{event: "pull_request", id: "refused"}); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("third: status = %d, want 503", rec.Code)
	}
	if got := refusedCount(hr.m, "queue_full"); got != 1 {
		t.Errorf("refused{queue_full} = %v", got)
	}
	if got := counterValue(hr.m, "housekeeper_queue_depth", nil); got != 1 {
		t.Errorf("queue depth = %v, want 1", got)
	}
	if got := counterValue(hr.m, "housekeeper_workers_busy", nil); got != 1 {
		t.Errorf("busy workers = %v, want 1", got)
	}

	close(h.block)
	waitStarted(t, h, "queued")
	eventually(t, "the queue to drain", func() bool { return h.callsFor("queued") == 1 })
	// The refused GUID was never accepted, so its redelivery is handled.
	if rec := hr.serve(delivery{event: "pull_request", id: "refused"}); rec.Code != http.StatusAccepted {
		t.Errorf("redelivery of a 503'd GUID: status = %d, want 202", rec.Code)
	}
	waitStarted(t, h, "refused")
	if err := hr.s.sched.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.callsFor("refused"); got != 1 {
		t.Errorf("'refused' handled %d times, want 1", got)
	}
}

func TestHookPanicAndTimeout(t *testing.T) {
	h := &stubHandler{
		events:  []string{"pull_request"},
		started: make(chan string, 10),
		result: func(ctx context.Context, id string) error {
			switch id {
			case "panics":
				panic("handler bug")
			case "slow":
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		},
	}
	hr := newHarness(t, func(c *Config) { c.Workers = 1; c.HandlerTimeout = 50 * time.Millisecond }, h)
	for _, id := range []string{"panics", "slow", "fine"} {
		if rec := hr.serve(delivery{event: "pull_request", id: id}); rec.Code != http.StatusAccepted {
			t.Fatalf("%s: %d", id, rec.Code)
		}
		waitStarted(t, h, id)
	}
	if err := hr.s.sched.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for outcome, want := range map[string]float64{"panic": 1, "timeout": 1, "ok": 1} {
		if got := counterValue(hr.m, "housekeeper_handler_duration_seconds", map[string]string{"outcome": outcome}); got != want {
			t.Errorf("handling{outcome=%s} = %v, want %v", outcome, got, want)
		}
	}
	logs := hr.logs.String()
	if !strings.Contains(logs, `"outcome":"panic"`) || !strings.Contains(logs, `handler panicked: handler bug`) || !strings.Contains(logs, `"stack":"goroutine`) {
		t.Errorf("panic not logged with its stack:\n%s", logs)
	}
	// Failed GUIDs are forgotten, so their redeliveries would be handled.
	for _, id := range []string{"panics", "slow"} {
		if ok, _, _ := hr.s.shared.Deliveries.Claim(context.Background(), id); !ok {
			t.Errorf("%s still remembered after failing", id)
		}
	}
	if ok, done, _ := hr.s.shared.Deliveries.Claim(context.Background(), "fine"); ok || !done {
		t.Error("fine forgotten after succeeding")
	}
}

func TestReadyAndHealth(t *testing.T) {
	hr := newHarness(t, nil)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/nope": 404} {
		rec := newRecorder()
		hr.s.Handler().ServeHTTP(rec, newGet(path))
		if rec.Code != want {
			t.Errorf("GET %s = %d, want %d", path, rec.Code, want)
		}
	}
	rec := newRecorder()
	hr.s.Handler().ServeHTTP(rec, newGet(HookPath))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET %s = %d, want 405", HookPath, rec.Code)
	}
}
