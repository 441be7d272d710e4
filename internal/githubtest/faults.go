package githubtest

import (
	"net/http"
	"strconv"
	"time"
)

// FaultKind is a way GitHub can fail.
type FaultKind int

const (
	// FaultServerError answers 502 or 503 (or Fault.Status).
	FaultServerError FaultKind = iota + 1
	// FaultTimeout holds the request until the client gives up.
	FaultTimeout
	// FaultSecondaryRateLimit answers 403 (or Fault.Status, e.g. 429) with
	// Retry-After and GitHub's secondary rate limit message.
	FaultSecondaryRateLimit
	// FaultPrimaryRateLimit answers 403 with X-RateLimit-Remaining: 0 and
	// the reset time, as an exhausted hourly limit does.
	FaultPrimaryRateLimit
	// FaultBadCredentials answers 401 "Bad credentials", as for a token
	// revoked or expired early.
	FaultBadCredentials
)

func (k FaultKind) String() string {
	switch k {
	case FaultServerError:
		return "server-error"
	case FaultTimeout:
		return "timeout"
	case FaultSecondaryRateLimit:
		return "secondary-rate-limit"
	case FaultPrimaryRateLimit:
		return "primary-rate-limit"
	case FaultBadCredentials:
		return "bad-credentials"
	}
	return "fault(" + strconv.Itoa(int(k)) + ")"
}

// Fault is a rule that makes matching requests fail.
type Fault struct {
	Kind FaultKind
	// Operation restricts the rule to one operation, as
	// "METHOD /path/{template}" (see Operations); empty matches all.
	Operation string
	// InstallationID restricts the rule to one installation's requests.
	InstallationID int64
	// Rate is the chance a matching request fails, from the seeded RNG;
	// 0 fails every matching request.
	Rate float64
	// Times stops the rule after that many failures; 0 never stops.
	Times int
	// Status overrides the answer's status code.
	Status int
	// RetryAfter is the secondary limit's Retry-After (default 60 s).
	RetryAfter time.Duration
}

type faultState struct {
	Fault
	hits int
}

// AddFault installs a fault rule; rules are tried in order.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultState{Fault: f})
}

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// SetLatency changes the delay of every answer.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.latency = d
}

func (s *Server) latency() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.latency
}

// sleep waits d unless the client or the server gives up first.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.closing:
	}
	return false
}

// LimitHit is a request refused by a rate limit the App should have
// stayed under (the content-creation ceiling or the primary limit).
type LimitHit struct {
	Kind           string // content-creation or primary
	Operation      string
	InstallationID int64
	At             time.Time
}

// LimitHits returns the requests refused by rate limits (not by injected
// faults).
func (s *Server) LimitHits() []LimitHit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LimitHit(nil), s.limitHits...)
}

// rateWindow is the primary (hourly) budget of one credential.
type rateWindow struct {
	limit int
	used  int
	reset time.Time
}

// ExhaustRateLimit uses up an installation's hourly budget (0 for the App's
// JWT budget) until its reset.
func (s *Server) ExhaustRateLimit(installationID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := "app"
	if installationID != 0 {
		key = "installation:" + strconv.FormatInt(installationID, 10)
	}
	w := s.rateWindowLocked(key)
	w.used = w.limit
}

// SetRateLimitRemaining leaves n requests of an installation's hourly
// budget (0 for the App's JWT budget) until its reset, which it returns;
// every response then reports the low budget in its X-RateLimit headers.
func (s *Server) SetRateLimitRemaining(installationID int64, n int) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := "app"
	if installationID != 0 {
		key = "installation:" + strconv.FormatInt(installationID, 10)
	}
	w := s.rateWindowLocked(key)
	w.used = min(max(w.limit-n, 0), w.limit)
	return w.reset
}

func (s *Server) rateWindowLocked(key string) *rateWindow {
	now := s.now()
	w := s.rates[key]
	if w == nil || !now.Before(w.reset) {
		w = &rateWindow{limit: s.cfg.rateLimit, reset: now.Add(time.Hour).Truncate(time.Second)}
		s.rates[key] = w
	}
	return w
}

// contentCreating says whether GitHub counts a request against the
// content-creation secondary limit.
func contentCreating(c *call) bool {
	switch c.r.Method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
	default:
		return false
	}
	switch c.opID {
	case "apps/create-installation-access-token", "apps/create-from-manifest", "apps/redeliver-webhook-delivery":
		return false
	}
	return true
}

const (
	primaryDocs   = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits"
	secondaryDocs = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
)

// applyLimits runs the primary rate limit, injected faults and the
// content-creation ceiling, in that order, and sets the rate headers.
func (s *Server) applyLimits(c *call) bool {
	if c.cred.kind == credNone {
		return true
	}
	s.mu.Lock()
	w := s.rateWindowLocked(c.cred.rateKey())
	countsAgainst := c.opID != "rate-limit/get" // GitHub does not count it
	exhausted := countsAgainst && w.used >= w.limit
	if countsAgainst && !exhausted {
		w.used++
	}
	h := c.w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(w.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, w.limit-w.used)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(w.reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(w.used))
	h.Set("X-RateLimit-Resource", "core")
	if exhausted {
		s.limitHits = append(s.limitHits, LimitHit{Kind: "primary", Operation: c.op, InstallationID: c.cred.installationID(), At: s.now()})
	}
	fault := s.pickFaultLocked(c)
	var retryAfter time.Duration
	creating := contentCreating(c) && s.cfg.contentPerMinute > 0
	overCeiling := false
	if creating && fault == nil && !exhausted {
		key := c.cred.rateKey()
		now := s.now()
		recent := s.contentLog[key][:0]
		for _, t := range s.contentLog[key] {
			if now.Sub(t) < time.Minute {
				recent = append(recent, t)
			}
		}
		if len(recent) >= s.cfg.contentPerMinute {
			overCeiling = true
			retryAfter = recent[0].Add(time.Minute).Sub(now)
			s.limitHits = append(s.limitHits, LimitHit{Kind: "content-creation", Operation: c.op, InstallationID: c.cred.installationID(), At: now})
		} else {
			recent = append(recent, now)
		}
		s.contentLog[key] = recent
	}
	s.mu.Unlock()

	switch {
	case exhausted:
		s.answerPrimaryLimit(c, w.reset)
		return false
	case overCeiling:
		s.answerSecondaryLimit(c, http.StatusForbidden, retryAfter)
		return false
	case fault != nil:
		s.logf("githubtest: fault %s on %s", fault.Kind, c.op)
		return s.answerFault(c, fault)
	}
	return true
}

func (s *Server) pickFaultLocked(c *call) *Fault {
	for _, f := range s.faults {
		if f.Operation != "" && f.Operation != c.op {
			continue
		}
		if f.InstallationID != 0 && f.InstallationID != c.cred.installationID() {
			continue
		}
		if f.Times > 0 && f.hits >= f.Times {
			continue
		}
		if f.Rate > 0 && s.rng.Float64() >= f.Rate {
			continue
		}
		f.hits++
		chosen := f.Fault
		if chosen.Kind == FaultServerError && chosen.Status == 0 {
			chosen.Status = []int{http.StatusBadGateway, http.StatusServiceUnavailable}[s.rng.Intn(2)]
		}
		return &chosen
	}
	return nil
}

func (s *Server) answerFault(c *call, f *Fault) bool {
	switch f.Kind {
	case FaultServerError:
		// GitHub's 502/503 bodies are HTML or terse JSON; JSON keeps
		// clients' error decoding on their usual path.
		c.fail(f.Status, map[int]string{502: "Server Error", 503: "Service Unavailable"}[f.Status])
	case FaultTimeout:
		select {
		case <-c.r.Context().Done():
		case <-s.closing:
		}
		c.aborted = true
		panic(http.ErrAbortHandler)
	case FaultSecondaryRateLimit:
		status := f.Status
		if status == 0 {
			status = http.StatusForbidden
		}
		retry := f.RetryAfter
		if retry == 0 {
			retry = time.Minute
		}
		s.answerSecondaryLimit(c, status, retry)
	case FaultPrimaryRateLimit:
		s.mu.Lock()
		reset := s.rateWindowLocked(c.cred.rateKey()).reset
		s.mu.Unlock()
		s.answerPrimaryLimit(c, reset)
	case FaultBadCredentials:
		status := f.Status
		if status == 0 {
			status = http.StatusUnauthorized
		}
		c.fail(status, "Bad credentials")
	default:
		return true
	}
	return false
}

func (s *Server) answerPrimaryLimit(c *call, reset time.Time) {
	h := c.w.Header()
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	msg := "API rate limit exceeded for installation ID " + strconv.FormatInt(c.cred.installationID(), 10) + "."
	if c.cred.kind == credApp {
		msg = "API rate limit exceeded for app ID " + strconv.FormatInt(s.cfg.appID, 10) + "."
	}
	c.json(http.StatusForbidden, obj{"message": msg, "documentation_url": primaryDocs, "status": "403"})
}

func (s *Server) answerSecondaryLimit(c *call, status int, retryAfter time.Duration) {
	secs := int((retryAfter + time.Second - 1) / time.Second)
	c.w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
	c.json(status, obj{
		"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
			"If you reach out to GitHub Support for help, please include the request ID " + c.w.Header().Get("X-GitHub-Request-Id") + ".",
		"documentation_url": secondaryDocs,
		"status":            strconv.Itoa(status),
	})
}
