package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/coord"
	"github.com/housekeeper-app/housekeeper/internal/metrics"
	"github.com/housekeeper-app/housekeeper/internal/redistest"
)

// eachShared runs test with the server's state in memory and, when a test
// Redis is named, in Redis.
func eachShared(t *testing.T, test func(t *testing.T, shared func(*Config) *coord.Backend)) {
	t.Run("memory", func(t *testing.T) { test(t, func(*Config) *coord.Backend { return nil }) })
	t.Run("redis", func(t *testing.T) {
		url := redistest.URL(t)
		test(t, func(c *Config) *coord.Backend {
			c.RedisURL = NewSecret([]byte(url))
			c.RedisPrefix = fmt.Sprintf("hk-server-%d:", time.Now().UnixNano())
			b, err := NewBackend(c, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		})
	})
}

func newSharedHarness(t *testing.T, mut func(*Config), shared func(*Config) *coord.Backend, hs ...*stubHandler) *harness {
	t.Helper()
	logs := &syncBuffer{}
	m := metrics.New("test")
	c := testConfig(t, mut)
	handlers := make([]githubapp.EventHandler, len(hs))
	for i, h := range hs {
		handlers[i] = h
	}
	s, err := NewShared(c, zerolog.New(logs), m, shared(c), handlers...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.sched.Shutdown(context.Background()) })
	return &harness{s: s, m: m, logs: logs}
}

func body(inst int) string {
	return fmt.Sprintf(`{"action":"created","installation":{"id":%d},"repository":{"full_name":"acme/infra"}}`, inst)
}

func waitID(t *testing.T, started chan string, want string) {
	t.Helper()
	select {
	case id := <-started:
		if id != want {
			t.Fatalf("handling started for %s, want %s", id, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never started", want)
	}
}

// One installation holds at most half the queue: past it, its deliveries
// get 503 (the reconciler brings them back) while another installation's
// are still accepted.
func TestQueueSharePerInstallation(t *testing.T) {
	eachShared(t, func(t *testing.T, shared func(*Config) *coord.Backend) {
		h := &stubHandler{events: []string{"pull_request"}, block: make(chan struct{}), started: make(chan string, 10)}
		hr := newSharedHarness(t, func(c *Config) { c.Workers, c.QueueSize = 1, 4 }, shared, h)
		send := func(id string, inst int) int {
			return hr.serve(delivery{event: "pull_request", id: id, body: body(inst)}).Code
		}
		if code := send("a0", 1); code != http.StatusAccepted {
			t.Fatalf("a0: %d", code)
		}
		waitID(t, h.started, "a0") // the worker holds it; the queue is empty
		for _, id := range []string{"a1", "a2"} {
			if code := send(id, 1); code != http.StatusAccepted {
				t.Fatalf("%s: %d, want 202", id, code)
			}
		}
		if code := send("a3", 1); code != http.StatusServiceUnavailable {
			t.Fatalf("installation 1's third queued delivery of 4: %d, want 503", code)
		}
		if code := send("b1", 2); code != http.StatusAccepted {
			t.Fatalf("installation 2's delivery: %d, want 202", code)
		}
		if got := counterValue(hr.m, "housekeeper_webhook_refused_total", map[string]string{"reason": "installation_share"}); got != 1 {
			t.Errorf("refused{installation_share} = %v, want 1", got)
		}
		// The refused GUID is forgotten, so its redelivery is handled.
		close(h.block)
		for range 3 {
			<-h.started
		}
		if code := send("a3", 1); code != http.StatusAccepted {
			t.Fatalf("redelivery of a3: %d, want 202", code)
		}
	})
}

// Pull-request checks go before commands, commands before audits.
func TestQueueServesChecksFirst(t *testing.T) {
	eachShared(t, func(t *testing.T, shared func(*Config) *coord.Backend) {
		h := &stubHandler{events: []string{"pull_request", "issue_comment", "installation"}, block: make(chan struct{}), started: make(chan string, 10)}
		hr := newSharedHarness(t, func(c *Config) { c.Workers, c.QueueSize = 1, 10 }, shared, h)
		send := func(event, id string, inst int) {
			if code := hr.serve(delivery{event: event, id: id, body: body(inst)}).Code; code != http.StatusAccepted {
				t.Fatalf("%s: %d", id, code)
			}
		}
		send("pull_request", "first", 1)
		waitID(t, h.started, "first")
		send("installation", "audit", 1)
		send("issue_comment", "command", 2)
		send("pull_request", "check", 3)
		close(h.block)
		var order []string
		for range 3 {
			select {
			case id := <-h.started:
				order = append(order, id)
			case <-time.After(10 * time.Second):
				t.Fatalf("handled only %v", order)
			}
		}
		if want := []string{"check", "command", "audit"}; !slices.Equal(order, want) {
			t.Fatalf("handled %v, want %v", order, want)
		}
	})
}

// Redis unreachable: /readyz fails and a delivery gets 503; nothing is
// handled without coordination.
func TestRedisDownRefusesDeliveries(t *testing.T) {
	srv := redistest.Start(t)
	h := &stubHandler{events: []string{"pull_request"}}
	hr := newSharedHarness(t, nil, func(c *Config) *coord.Backend {
		c.RedisURL = NewSecret([]byte(srv.URL()))
		b, err := NewBackend(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}, h)
	if !hr.s.Ready() {
		t.Fatal("not ready with Redis up")
	}
	srv.Kill()
	if hr.s.Ready() {
		t.Error("ready with Redis down")
	}
	if code := hr.serve(delivery{event: "pull_request", id: "x"}).Code; code != http.StatusServiceUnavailable {
		t.Errorf("delivery with Redis down: %d, want 503", code)
	}
	if got := counterValue(hr.m, "housekeeper_webhook_refused_total", map[string]string{"reason": "coordination"}); got != 1 {
		t.Errorf("refused{coordination} = %v, want 1", got)
	}
	if n := len(h.allCalls()); n != 0 {
		t.Errorf("%d deliveries handled without Redis", n)
	}
}

// The reconciler's room for an installation's redeliveries is exactly what
// the queue admits: while RedeliveryRoomFor says n, the next delivery of
// that installation is accepted, and at 0 it is refused for its share.
// In one replica the room was once read from a queue nothing pushed to,
// so it always said there was room and the redeliveries it asked for were
// refused again.
func TestRedeliveryRoomIsTheQueuesAdmission(t *testing.T) {
	eachShared(t, func(t *testing.T, shared func(*Config) *coord.Backend) {
		h := &stubHandler{events: []string{"pull_request"}, block: make(chan struct{}), started: make(chan string, 10)}
		hr := newSharedHarness(t, func(c *Config) { c.Workers, c.QueueSize = 1, 4 }, shared, h)
		t.Cleanup(func() { close(h.block) }) // before the harness's shutdown
		send := func(id string, inst int) int {
			return hr.serve(delivery{event: "pull_request", id: id, body: body(inst)}).Code
		}
		if code := send("a0", 1); code != http.StatusAccepted {
			t.Fatalf("a0: %d", code)
		}
		waitID(t, h.started, "a0") // the worker holds it; the queue is empty
		var rooms []int
		for i := 1; ; i++ {
			room := hr.s.RedeliveryRoomFor(1)
			rooms = append(rooms, room)
			id := fmt.Sprintf("a%d", i)
			code := send(id, 1)
			if room > 0 && code != http.StatusAccepted {
				t.Fatalf("%s: room said %d, the queue answered %d (rooms so far %v)", id, room, code, rooms)
			}
			if room == 0 {
				if code != http.StatusServiceUnavailable {
					t.Fatalf("%s: room said 0, the queue answered %d, want 503", id, code)
				}
				break
			}
			if i > 10 {
				t.Fatalf("room never reached 0: %v", rooms)
			}
		}
		if want := []int{2, 1, 0}; !slices.Equal(rooms, want) {
			t.Errorf("installation 1's room as its share filled: %v, want %v (half of 4)", rooms, want)
		}
		if room := hr.s.RedeliveryRoomFor(2); room != 2 {
			t.Errorf("installation 2's room: %d, want 2 (its share is untouched)", room)
		}
	})
}
