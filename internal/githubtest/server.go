// Package githubtest is a local GitHub REST API emulator for tests, the
// demo command and load tests. It serves the operations of GitHub's own
// OpenAPI description that a checks-posting App uses, validates every
// request against that description, keeps repository state a test can set
// up and assert on, signs and delivers webhooks, counts calls, and injects
// latency and faults.
//
// It imports nothing of the App: it sits below every other package.
package githubtest

import (
	"crypto/rsa"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running emulator. The zero value is not usable: use New (in
// tests) or NewServer.
type Server struct {
	// URL is the API base URL (no trailing slash); URL+"/api/v3" serves the
	// same API GitHub Enterprise style.
	URL string

	tb        testing.TB
	cfg       config
	http      *httptest.Server
	validator *validator
	closing   chan struct{}
	closeOnce sync.Once

	appKey *rsa.PrivateKey

	mu            sync.Mutex
	accounts      map[string]*account
	repos         map[string]*repoState
	installations map[int64]*installationState
	pulls         map[string]*prState
	issues        map[string]bool
	issueData     map[string]*Issue
	issueSeq      map[int64]int
	comments      []*Comment
	checkRuns     []*CheckRun
	checkSuites   []*CheckSuite
	objects       *objectStore
	tokens        map[string]*tokenState
	codeload      map[string]codeloadGrant
	manifestCodes map[string]bool
	deliveries    []*Delivery
	violMu        sync.Mutex
	violations    []Violation
	limitHits     []LimitHit
	calls         callLog
	rates         map[string]*rateWindow
	contentLog    map[string][]time.Time
	faults        []*faultState
	rng           *rand.Rand
	commitClock   time.Time
	idSeq         int64
	webhookURL    string
	webhookSecret string
}

// New starts an emulator for a test. It is closed by t.Cleanup, which also
// fails the test for every request that did not match GitHub's description
// (see Violations; TakeViolations clears the ones a test expects).
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := newServer(t, opts)
	if err != nil {
		t.Fatalf("githubtest: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		if s.cfg.failOnViolation {
			for _, v := range s.Violations() {
				t.Errorf("githubtest: %s", v)
			}
		}
	})
	return s
}

// NewServer starts an emulator outside `go test` (the demo command, load
// tests). The caller closes it; violations are only recorded.
func NewServer(opts ...Option) (*Server, error) {
	return newServer(nil, opts)
}

func newServer(tb testing.TB, opts []Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	key := cfg.appKey
	if key == nil {
		var err error
		if key, err = sharedAppKey(); err != nil {
			return nil, err
		}
	}
	s := &Server{
		tb:            tb,
		cfg:           cfg,
		closing:       make(chan struct{}),
		appKey:        key,
		accounts:      map[string]*account{},
		repos:         map[string]*repoState{},
		installations: map[int64]*installationState{},
		pulls:         map[string]*prState{},
		issues:        map[string]bool{},
		issueData:     map[string]*Issue{},
		issueSeq:      map[int64]int{},
		objects:       newObjectStore(),
		tokens:        map[string]*tokenState{},
		codeload:      map[string]codeloadGrant{},
		manifestCodes: map[string]bool{},
		rates:         map[string]*rateWindow{},
		contentLog:    map[string][]time.Time{},
		rng:           rand.New(rand.NewSource(cfg.seed)),
		commitClock:   time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		idSeq:         1000,
		webhookURL:    cfg.webhookURL,
		webhookSecret: cfg.webhookSecret,
	}
	for _, f := range cfg.faults {
		s.faults = append(s.faults, &faultState{Fault: f})
	}
	s.http = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	if cfg.addr != "" {
		if err := s.listen(cfg.addr); err != nil {
			return nil, err
		}
	}
	s.http.Start()
	s.URL = s.http.URL
	v, err := newValidator(s.URL)
	if err != nil {
		s.http.Close()
		return nil, err
	}
	s.validator = v
	return s, nil
}

// Close stops the server, releasing requests held by timeout faults.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.http.CloseClientConnections()
		s.http.Close()
	})
}

// Client returns an HTTP client for the server (plain transport, no auth).
func (s *Server) Client() *http.Client { return s.http.Client() }

// Handler exposes the emulator as an http.Handler (to mount it elsewhere).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) now() time.Time {
	if s.cfg.clock != nil {
		return s.cfg.clock()
	}
	return time.Now()
}

// fatalf reports a misuse of the setup API: a test failure under New, a
// panic otherwise.
func (s *Server) fatalf(format string, args ...any) {
	if s.tb != nil {
		s.tb.Helper()
		s.tb.Fatalf("githubtest: "+format, args...)
		return
	}
	panic(fmt.Sprintf("githubtest: "+format, args...))
}

// knownAPIVersions are the REST API versions GitHub accepts (go-github v66
// sends 2022-11-28).
var knownAPIVersions = map[string]bool{"2022-11-28": true, "2026-03-10": true}

// serveHTTP runs every request through the same steps GitHub does: find
// the operation, authenticate, validate, rate-limit, then answer.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, codeloadPrefix):
		s.serveCodeload(w, r)
		return
	case strings.HasPrefix(r.URL.Path, rawPrefix):
		s.serveRaw(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 100<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c := &call{s: s, w: w, r: r, body: body, start: time.Now(), op: r.Method + " " + apiPath(r.URL.Path)}
	w.Header().Set("X-GitHub-Request-Id", fmt.Sprintf("EMU:%X", c.start.UnixNano()&0xffffffff))
	defer c.finish()
	defer func() {
		// A panic in a handler is an emulator bug: answer 500 and record
		// it so the test shows it. Aborts (timeout faults) pass through.
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			c.violation("emulator-panic", fmt.Sprint(p))
			c.fail(http.StatusInternalServerError, "githubtest: emulator panic")
		}
	}()

	route, params, err := s.validator.match(r)
	if err != nil {
		c.violation("no-operation", err.Error())
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	c.route, c.params = route, params
	c.op = r.Method + " " + route.Path
	c.opID = route.Operation.OperationID

	// GitHub refuses API versions it does not know with 400.
	if v := r.Header.Get("X-GitHub-Api-Version"); v != "" && !knownAPIVersions[v] {
		c.violation("invalid-request", "unsupported X-GitHub-Api-Version "+v)
		c.fail(http.StatusBadRequest, "API version "+v+" is not supported.")
		return
	}
	if !s.sleep(r, s.latency()) {
		c.aborted = true
		return
	}
	if !s.authenticate(c) {
		return
	}
	if err := s.validator.validateRequest(r.Context(), r, route, params, body); err != nil {
		c.violation("invalid-request", shortError(err))
		c.fail(http.StatusUnprocessableEntity, "Invalid request.\n\n"+shortError(err))
		return
	}
	if !s.applyLimits(c) {
		return
	}
	h := handlers[c.opID]
	if h == nil {
		c.violation("unimplemented", "the emulator does not implement "+c.op)
		c.fail(http.StatusNotImplemented, "githubtest does not implement "+c.op)
		return
	}
	h(c)
}
