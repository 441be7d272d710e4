package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/metrics"
)

// stubHandler records calls; block, when set, holds each call until it is
// closed or the handler's context ends.
type stubHandler struct {
	events  []string
	block   chan struct{}
	started chan string // delivery ids, as handling starts
	result  func(ctx context.Context, id string) error

	mu    sync.Mutex
	calls []call
}

type call struct {
	event, id   string
	payload     []byte
	hasDeadline bool
	ctxErr      error // the context's error when Handle returned
}

func (h *stubHandler) Handles() []string { return h.events }

func (h *stubHandler) Handle(ctx context.Context, event, id string, payload []byte) error {
	if h.started != nil {
		h.started <- id
	}
	var err error
	if h.block != nil {
		select {
		case <-h.block:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err == nil && h.result != nil {
		err = h.result(ctx, id)
	}
	_, hasDeadline := ctx.Deadline()
	h.mu.Lock()
	h.calls = append(h.calls, call{event: event, id: id, payload: payload, hasDeadline: hasDeadline, ctxErr: ctx.Err()})
	h.mu.Unlock()
	return err
}

func (h *stubHandler) callsFor(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.calls {
		if c.id == id {
			n++
		}
	}
	return n
}

func (h *stubHandler) allCalls() []call {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]call(nil), h.calls...)
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testConfig(t testing.TB, mut func(*Config)) *Config {
	t.Helper()
	pk, _ := testKeys(t)
	c := Default()
	c.AppID = 1
	c.PrivateKey = NewSecret(pk)
	c.WebhookSecret = NewSecret([]byte(testSecret))
	c.Addr = "127.0.0.1:0"
	c.Workers = 2
	c.QueueSize = 4
	c.HandlerTimeout = 10 * time.Second
	c.ShutdownTimeout = 5 * time.Second
	if mut != nil {
		mut(c)
	}
	return c
}

type harness struct {
	s    *Server
	m    *metrics.Metrics
	logs *syncBuffer
}

func newHarness(t *testing.T, mut func(*Config), handlers ...*stubHandler) *harness {
	t.Helper()
	logs := &syncBuffer{}
	m := metrics.New("test")
	hs := make([]githubapp.EventHandler, len(handlers))
	for i, h := range handlers {
		hs[i] = h
	}
	s, err := New(testConfig(t, mut), zerolog.New(logs), m, hs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.sched.Shutdown(context.Background()) })
	return &harness{s: s, m: m, logs: logs}
}

// running starts Run and returns the base URL and a stop function that
// cancels it and returns Run's error.
func (h *harness) running(t *testing.T) (string, func() error) {
	t.Helper()
	if err := h.s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.s.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(20 * time.Second):
				runErr = errors.New("Run did not return")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return "http://" + h.s.Addr().String(), stop
}

type delivery struct {
	event, id string
	body      string
	signature string // "" = sign correctly; "-" = no header
}

func (d delivery) request(target string) *http.Request {
	body := d.body
	if body == "" {
		body = `{"action":"opened","installation":{"id":42},"repository":{"full_name":"acme/infra"}}`
	}
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if d.event != "" {
		r.Header.Set("X-GitHub-Event", d.event)
	}
	if d.id != "" {
		r.Header.Set("X-GitHub-Delivery", d.id)
	}
	switch d.signature {
	case "":
		r.Header.Set("X-Hub-Signature-256", Sign([]byte(testSecret), []byte(body)))
	case "-":
	default:
		r.Header.Set("X-Hub-Signature-256", d.signature)
	}
	return r
}

// serve sends d through the handler in-process.
func (h *harness) serve(d delivery) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.s.Handler().ServeHTTP(rec, d.request(HookPath))
	return rec
}

// post sends d over the network to a running server.
func post(t *testing.T, base string, d delivery) int {
	t.Helper()
	r := d.request(base + HookPath)
	r.RequestURI = ""
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitStarted(t *testing.T, h *stubHandler, want string) {
	t.Helper()
	select {
	case id := <-h.started:
		if id != want {
			t.Fatalf("handler started %q, want %q", id, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("handler never started %q", want)
	}
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func newGet(path string) *http.Request { return httptest.NewRequest(http.MethodGet, path, nil) }

func hrLogger() zerolog.Logger { return zerolog.Nop() }
