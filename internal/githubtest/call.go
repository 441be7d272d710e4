package githubtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/routers"
)

// call is one API request in flight.
type call struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	body   []byte
	start  time.Time
	route  *routers.Route
	params map[string]string
	op     string // "METHOD /path/{template}"
	opID   string // OpenAPI operationId
	cred   credential

	status  int
	aborted bool
	counted bool
}

// Violation is a request the App should not have made (or, with response
// validation on, an answer of the emulator that does not match GitHub's
// description).
type Violation struct {
	Kind      string // no-operation, invalid-request, auth, unimplemented, invalid-response
	Method    string
	Path      string
	Operation string
	Status    int
	Message   string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s %s %s: %s", v.Kind, v.Method, v.Path, v.Message)
}

func (c *call) violation(kind, msg string) {
	v := Violation{Kind: kind, Method: c.r.Method, Path: c.r.URL.RequestURI(), Operation: c.op, Message: msg}
	// Its own lock: handlers record violations while holding s.mu.
	c.s.violMu.Lock()
	c.s.violations = append(c.s.violations, v)
	c.s.violMu.Unlock()
	c.s.logf("githubtest: violation: %s", v)
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.logf != nil {
		s.cfg.logf(format, args...)
	}
}

// Violations returns the violations recorded so far.
func (s *Server) Violations() []Violation {
	s.violMu.Lock()
	defer s.violMu.Unlock()
	return append([]Violation(nil), s.violations...)
}

// TakeViolations returns and clears the recorded violations, for tests
// that send wrong requests on purpose.
func (s *Server) TakeViolations() []Violation {
	s.violMu.Lock()
	defer s.violMu.Unlock()
	v := s.violations
	s.violations = nil
	return v
}

// param is a path parameter, unescaped.
func (c *call) param(name string) string { return c.params[name] }

func (c *call) paramInt(name string) int64 {
	n, _ := strconv.ParseInt(c.params[name], 10, 64)
	return n
}

func (c *call) query(name string) string { return c.r.URL.Query().Get(name) }

// decode reads the JSON body into v; the body was validated already.
func (c *call) decode(v any) bool {
	if len(c.body) == 0 || string(bytes.TrimSpace(c.body)) == "null" {
		return true
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		c.fail(http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

// send writes an answer; with response validation on, a successful JSON
// answer is first checked against the operation's response schema (error
// bodies are GitHub's basic-error, which some operations declare in an
// ambiguous oneOf that no body can satisfy).
func (c *call) send(status int, contentType string, body []byte) {
	h := c.w.Header()
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	if c.s.cfg.validateResponses && c.route != nil && status < 300 && strings.HasPrefix(contentType, "application/json") {
		req := c.r.Clone(context.Background())
		if err := c.s.validator.validateResponse(context.Background(), req, c.route, c.params, status, h, body); err != nil {
			c.violation("invalid-response", fmt.Sprintf("%d: %s", status, shortError(err)))
		}
	}
	c.status = status
	// Counted before the answer leaves, so a client that has its answer
	// always sees it in Calls.
	c.finish()
	c.w.WriteHeader(status)
	_, _ = c.w.Write(body)
}

func (c *call) json(status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		c.fail(http.StatusInternalServerError, "githubtest: encode answer: "+err.Error())
		return
	}
	c.send(status, "application/json; charset=utf-8", buf.Bytes())
}

const docsURL = "https://docs.github.com/rest"

// fail answers with GitHub's error shape.
func (c *call) fail(status int, message string) {
	c.json(status, obj{"message": message, "documentation_url": docsURL, "status": strconv.Itoa(status)})
}

// invalid answers 422 "Validation Failed" with one error, as GitHub does
// for semantic problems the schema cannot express.
func (c *call) invalid(resource, field, code, message string) {
	e := obj{"resource": resource, "field": field, "code": code}
	if message != "" {
		e["message"] = message
	}
	c.json(http.StatusUnprocessableEntity, obj{
		"message":           "Validation Failed",
		"errors":            []obj{e},
		"documentation_url": docsURL,
		"status":            "422",
	})
}

func (c *call) notFound() { c.fail(http.StatusNotFound, "Not Found") }

// finish records the call once its answer is known.
func (c *call) finish() {
	if c.counted {
		return
	}
	c.counted = true
	status := c.status
	if c.aborted {
		status = 0
	}
	c.s.calls.add(Request{
		Method:         c.r.Method,
		Path:           c.r.URL.RequestURI(),
		Operation:      c.op,
		Status:         status,
		InstallationID: c.cred.installationID(),
		Duration:       time.Since(c.start),
	})
}

// ---- pagination ----

// pageSize reads per_page and page with an operation's default and cap.
func (c *call) pageSize(def, most int) (perPage, page int) {
	perPage = def
	if v, err := strconv.Atoi(c.query("per_page")); err == nil && v > 0 {
		perPage = min(v, most)
	}
	page = 1
	if v, err := strconv.Atoi(c.query("page")); err == nil && v > 0 {
		page = v
	}
	return perPage, page
}

// page serves one page of n items (per_page default 30, at most 100) and
// sets GitHub's Link header. It returns the half-open range to serve.
func (c *call) page(n int) (from, to int) { return c.pageWith(n, 30, 100) }

func (c *call) pageWith(n, def, most int) (from, to int) {
	perPage, page := c.pageSize(def, most)
	last := max(1, (n+perPage-1)/perPage)
	from = min(n, (page-1)*perPage)
	to = min(n, from+perPage)
	var links []string
	link := func(p int, rel string) {
		q := c.r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		links = append(links, fmt.Sprintf("<%s%s?%s>; rel=%q", c.s.URL, c.r.URL.EscapedPath(), q.Encode(), rel))
	}
	if page > 1 {
		link(page-1, "prev")
	}
	if page < last {
		link(page+1, "next")
		link(last, "last")
	}
	if page > 1 {
		link(1, "first")
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	return from, to
}

// ---- counters ----

// Request is one API request as the emulator saw it.
type Request struct {
	Method         string
	Path           string
	Operation      string // "METHOD /path/{template}" from the OpenAPI description
	Status         int    // 0 when the client gave up first (timeout fault)
	InstallationID int64  // 0 for App JWT or unauthenticated requests
	Duration       time.Duration
}

// Calls counts requests per operation and per installation.
type Calls struct {
	Total          int
	ByOperation    map[string]int // key "METHOD /path/{template}", e.g. "POST /repos/{owner}/{repo}/check-runs"
	ByInstallation map[int64]int
	ByStatus       map[int]int
	Requests       []Request // in arrival order
}

// Count returns the requests to one operation ("METHOD /path/{template}").
func (c Calls) Count(operation string) int { return c.ByOperation[operation] }

// Operations lists the operations called, sorted.
func (c Calls) Operations() []string {
	ops := make([]string, 0, len(c.ByOperation))
	for op := range c.ByOperation {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// callLog has its own lock so counting never waits for state handlers.
type callLog struct {
	mu       sync.Mutex
	requests []Request
}

func (l *callLog) add(r Request) {
	l.mu.Lock()
	l.requests = append(l.requests, r)
	l.mu.Unlock()
}

// Calls returns a snapshot of the request counters.
func (s *Server) Calls() Calls {
	s.calls.mu.Lock()
	reqs := append([]Request(nil), s.calls.requests...)
	s.calls.mu.Unlock()
	c := Calls{
		Total:          len(reqs),
		ByOperation:    map[string]int{},
		ByInstallation: map[int64]int{},
		ByStatus:       map[int]int{},
		Requests:       reqs,
	}
	for _, r := range reqs {
		c.ByOperation[r.Operation]++
		if r.InstallationID != 0 {
			c.ByInstallation[r.InstallationID]++
		}
		c.ByStatus[r.Status]++
	}
	return c
}

// ResetCalls clears the counters (e.g. after test setup).
func (s *Server) ResetCalls() {
	s.calls.mu.Lock()
	s.calls.requests = nil
	s.calls.mu.Unlock()
}

// obj is a JSON object under construction.
type obj = map[string]any

// absURL builds a URL on the emulator from path segments.
func (s *Server) absURL(format string, args ...any) string {
	parts := make([]any, len(args))
	for i, a := range args {
		if str, ok := a.(string); ok {
			parts[i] = url.PathEscape(str)
		} else {
			parts[i] = a
		}
	}
	return s.URL + fmt.Sprintf(format, parts...)
}
