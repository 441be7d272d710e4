// Package retry is an http.RoundTripper that retries GitHub API requests
// that failed in a way worth another try, with exponential backoff and
// jitter, honouring GitHub's Retry-After and X-RateLimit-Reset within a
// bound.
//
// What is retried:
//   - a request GitHub refused because of a rate limit (403 or 429 with
//     Retry-After, X-RateLimit-Remaining: 0 or the secondary-limit
//     message), whatever its method: GitHub did not perform it;
//   - an idempotent request (GET, HEAD, OPTIONS, the PATCH of a check run,
//     an installation-token request) that got 500, 502, 503 or 504, timed
//     out or lost its connection.
//
// A request that creates something (a POST) and may have landed is never
// repeated here: its caller looks up what exists instead.
package retry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Options configure New. Zero values take the defaults.
type Options struct {
	// Attempts is the most tries of one request, the first included
	// (default 4).
	Attempts int
	// MaxWait is the longest one wait may be: a Retry-After or rate-limit
	// reset further away is not waited for, and the answer is returned as
	// is (default 1 minute).
	MaxWait time.Duration
	// Timeout bounds each attempt, reading the answer included; 0 leaves it
	// to the request's context.
	Timeout time.Duration
	// BaseDelay and MaxDelay shape the backoff between attempts:
	// BaseDelay·2ⁿ, at most MaxDelay, with jitter (defaults 250 ms, 8 s).
	BaseDelay, MaxDelay time.Duration
	// Idempotent says whether a request may be repeated after an error or
	// a 5xx (default Idempotent).
	Idempotent func(*http.Request) bool
	// OnRetry, when set, is told about each retry before its wait.
	OnRetry func(r *http.Request, attempt int, reason string, wait time.Duration)
	// Jitter returns a number in [0, 1) (tests make it fixed).
	Jitter func() float64
}

func (o Options) withDefaults() Options {
	if o.Attempts <= 0 {
		o.Attempts = 4
	}
	if o.MaxWait <= 0 {
		o.MaxWait = time.Minute
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = 250 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 8 * time.Second
	}
	if o.Idempotent == nil {
		o.Idempotent = Idempotent
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	return o
}

// New wraps next (http.DefaultTransport when nil).
func New(next http.RoundTripper, o Options) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{next: next, o: o.withDefaults()}
}

type transport struct {
	next http.RoundTripper
	o    Options
}

var (
	checkRunPath = regexp.MustCompile(`/repos/[^/]+/[^/]+/check-runs/[0-9]+$`)
	tokenPath    = regexp.MustCompile(`/app/installations/[0-9]+/access_tokens$`)
)

// Idempotent reports whether repeating r cannot do anything twice: reads,
// the PATCH of a check run (it sets fields to the same values) and an
// installation-token request (a second token is harmless).
func Idempotent(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	case http.MethodPatch:
		return checkRunPath.MatchString(r.URL.Path)
	case http.MethodPost:
		return tokenPath.MatchString(r.URL.Path)
	}
	return false
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	rewindable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			var err error
			if r, err = rewind(req); err != nil {
				return nil, err
			}
		}
		resp, err := t.try(r)
		if attempt >= t.o.Attempts || !rewindable || ctx.Err() != nil {
			return resp, err
		}
		wait, reason, ok := t.decide(req, resp, err, attempt)
		if !ok {
			return resp, err
		}
		if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
			return resp, err // the caller would give up before the next try
		}
		if t.o.OnRetry != nil {
			t.o.OnRetry(req, attempt, reason, wait)
		}
		if resp != nil {
			drain(resp)
		}
		if err := Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s %s: %s, and the request was cancelled before a retry: %w", req.Method, req.URL.Path, reason, err)
		}
	}
}

// try makes one attempt under its own timeout; the timeout's context lives
// until the answer's body is closed.
func (t *transport) try(r *http.Request) (*http.Response, error) {
	if t.o.Timeout <= 0 {
		return t.next.RoundTrip(r)
	}
	ctx, cancel := context.WithTimeout(r.Context(), t.o.Timeout)
	resp, err := t.next.RoundTrip(r.WithContext(ctx))
	if err != nil {
		cancel()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil {
			err = &TimeoutError{After: t.o.Timeout, Err: err}
		}
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// TimeoutError is an attempt that took longer than Options.Timeout.
type TimeoutError struct {
	After time.Duration
	Err   error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("GitHub did not answer within %s: %v", e.After, e.Err)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// Timeout marks the error as a timeout for net.Error-style checks.
func (e *TimeoutError) Timeout() bool { return true }

// decide says whether and how long to wait before the next attempt.
func (t *transport) decide(req *http.Request, resp *http.Response, err error, attempt int) (time.Duration, string, bool) {
	if err != nil {
		if !t.o.Idempotent(req) {
			return 0, "", false
		}
		reason := "transport error"
		var te *TimeoutError
		if errors.As(err, &te) {
			reason = "timeout"
		}
		return t.backoff(attempt), reason, true
	}
	switch resp.StatusCode {
	case http.StatusForbidden, http.StatusTooManyRequests:
		wait, reason, ok := rateLimitWait(resp, time.Now())
		if !ok {
			return 0, "", false
		}
		if wait > t.o.MaxWait {
			return 0, "", false // the caller reports the limit and when it resets
		}
		// A little jitter so waiting workers do not all return at once.
		return wait + time.Duration(t.o.Jitter()*float64(min(wait/10+time.Second/10, 2*time.Second))), reason, true
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if !t.o.Idempotent(req) {
			return 0, "", false
		}
		wait := t.backoff(attempt)
		if ra, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			if ra > t.o.MaxWait {
				return 0, "", false
			}
			wait = max(wait, ra)
		}
		return wait, "status " + strconv.Itoa(resp.StatusCode), true
	}
	return 0, "", false
}

// backoff is BaseDelay·2^(attempt-1), capped, with "equal jitter": half
// fixed, half random, so retries spread out but never come at once.
func (t *transport) backoff(attempt int) time.Duration {
	d := t.o.BaseDelay << min(attempt-1, 20)
	if d <= 0 || d > t.o.MaxDelay {
		d = t.o.MaxDelay
	}
	return d/2 + time.Duration(t.o.Jitter()*float64(d/2))
}

// secondaryLimitBody is GitHub's message for a secondary rate limit that
// came without Retry-After.
const secondaryLimitBody = "secondary rate limit"

// rateLimitWait reads a 403 or 429: a rate limit says how long to wait (ok
// true); anything else (a permission error) is final.
func rateLimitWait(resp *http.Response, now time.Time) (time.Duration, string, bool) {
	h := resp.Header
	if ra, ok := retryAfter(h.Get("Retry-After"), now); ok {
		return ra, "secondary rate limit", true
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return max(time.Unix(reset, 0).Sub(now), 0) + time.Second, "rate limit", true
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests || peek(resp, secondaryLimitBody) {
		// GitHub: without Retry-After, wait at least a minute.
		return time.Minute, "secondary rate limit", true
	}
	return 0, "", false
}

// retryAfter parses Retry-After: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// peek reports whether the first 64 KiB of the answer's body contain s,
// leaving the body readable.
func peek(resp *http.Response, s string) bool {
	if resp.Body == nil {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	return err == nil && bytes.Contains(bytes.ToLower(head), []byte(s))
}

// rewind copies req with a fresh body for another attempt.
func rewind(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("%s %s: rewind the body for a retry: %w", req.Method, req.URL.Path, err)
		}
		r.Body = body
	}
	return r, nil
}

// drain reads a little of an answer that is thrown away, so its connection
// can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// Sleep waits d, or until ctx ends (its error then).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cancelBody releases an attempt's timeout once its answer is read.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
