package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/metrics"
)

// maxGUIDLen bounds a delivery GUID in logs; GitHub's are 36 characters
// (the shared state remembers none longer than 128).
const maxGUIDLen = 128

// HookPath is where GitHub delivers webhooks.
const HookPath = githubapp.DefaultWebhookRoute

// payloadSummary is what the hook reads of a payload, for logs and metrics.
type payloadSummary struct {
	Action       string `json:"action"`
	Installation struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
}

// handleHook guards go-githubapp's dispatcher: it enforces the body limit,
// verifies the signature, refuses bodies that are not JSON objects,
// acknowledges events nothing handles and redeliveries of accepted GUIDs, and
// only then replays the body into the dispatcher, which queues the work.
func (s *Server) handleHook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	event := r.Header.Get("X-GitHub-Event")
	id := r.Header.Get("X-GitHub-Delivery")
	// Headers are unauthenticated until the signature checks out: clip them.
	log := s.logger.With().Str(githubapp.LogKeyDeliveryID, clip(id, maxGUIDLen)).
		Str(githubapp.LogKeyEventType, clip(event, 64)).Logger()
	refuse := func(status int, reason, msg string) {
		s.metrics.DeliveryRefused(reason)
		s.answer(w, log, start, status, reason, msg)
	}

	if s.draining.Load() {
		refuse(http.StatusServiceUnavailable, metrics.RefusedDraining, "shutting down; redeliver later")
		return
	}
	// Refuse an announced oversize body before reading a byte of it.
	if r.ContentLength > s.cfg.MaxBodyBytes {
		refuse(http.StatusRequestEntityTooLarge, metrics.RefusedBodyTooLarge, "body too large")
		return
	}
	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			refuse(http.StatusRequestEntityTooLarge, metrics.RefusedBodyTooLarge, "body too large")
			return
		}
		refuse(http.StatusBadRequest, metrics.RefusedBadBody, "cannot read body")
		return
	}
	if !validSignature(r.Header.Get("X-Hub-Signature-256"), body, s.secret) {
		refuse(http.StatusBadRequest, metrics.RefusedSignature, "missing or invalid X-Hub-Signature-256")
		return
	}
	if event == "" {
		refuse(http.StatusBadRequest, metrics.RefusedMissingEvent, "missing X-GitHub-Event")
		return
	}
	var p payloadSummary
	if err := json.Unmarshal(body, &p); err != nil {
		refuse(http.StatusBadRequest, metrics.RefusedNotJSON, "body is not a JSON object")
		return
	}
	action := clip(p.Action, 64)
	log = log.With().Str("action", action).Int64(githubapp.LogKeyInstallationID, p.Installation.ID).
		Str("repository", clip(p.Repository.FullName, 200)).Logger()
	s.metrics.EventReceived(event, p.Action)

	if !s.handles[event] {
		if event == "ping" {
			s.answer(w, log, start, http.StatusOK, "pong", "pong")
			return
		}
		s.metrics.EventIgnored(event)
		s.answer(w, log, start, http.StatusAccepted, "ignored", "event not handled")
		return
	}
	ok, completed, err := s.claim(r.Context(), id)
	if err != nil {
		// Nothing is handled without coordination: GitHub records the 503
		// and the reconciler asks for the delivery again.
		log = log.With().Err(err).Logger()
		refuse(http.StatusServiceUnavailable, metrics.RefusedCoordination, "shared state unavailable; redeliver later")
		return
	}
	if !ok {
		s.metrics.DeliveryDuplicate()
		outcome := "duplicate_in_progress"
		if completed {
			outcome = "duplicate_completed"
		}
		s.answer(w, log, start, http.StatusOK, outcome, "delivery already accepted")
		return
	}

	// The dispatcher adds the event and delivery id to the logger it hands
	// the handlers; ours adds what only the payload knows.
	ctxLog := s.logger.With().Str("action", action).Logger()
	rctx := context.WithValue(ctxLog.WithContext(r.Context()), actionKey, action)
	if p.Installation.ID != 0 {
		rctx = context.WithValue(rctx, ownerKey, ownerOf(p.Installation.ID))
	}
	replay := r.Clone(rctx)
	replay.Body = io.NopCloser(bytes.NewReader(body))
	replay.ContentLength = int64(len(body))
	replay.Header.Set("Content-Type", "application/json") // what go-github's ValidatePayload reads
	s.dispatcher.ServeHTTP(&outcomeWriter{ResponseWriter: w, log: log, start: start}, replay)
}

// readBody reads the body once, up to limit bytes, into a buffer sized from
// Content-Length when there is one.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	size := int64(bytes.MinRead)
	if r.ContentLength > 0 {
		size = r.ContentLength + 1 // +1 so ReadFrom sees EOF without growing
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(size, limit+1)))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	return buf.Bytes(), err
}

// clip bounds a payload string before it reaches a log line; payload values
// are signed by GitHub but still user text of any length.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// outcomeWriter carries the delivery's logger to the dispatcher callbacks.
type outcomeWriter struct {
	http.ResponseWriter
	log   zerolog.Logger
	start time.Time
}

// onDispatchError answers what the dispatcher could not queue: 503 when the
// queue is full or the server is draining, so GitHub (or the reconciler)
// redelivers; the GUID is forgotten so that redelivery is handled.
func (s *Server) onDispatchError(w http.ResponseWriter, r *http.Request, err error) {
	s.forget(r.Header.Get("X-GitHub-Delivery"))
	ow, ok := w.(*outcomeWriter)
	if !ok { // not through handleHook; cannot happen, answer plainly
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	reason, status, msg := metrics.RefusedError, http.StatusInternalServerError, "internal error"
	var ve githubapp.ValidationError
	switch {
	case errors.Is(err, githubapp.ErrCapacityExceeded):
		reason, status, msg = metrics.RefusedQueueFull, http.StatusServiceUnavailable, "queue full; redeliver later"
	case errors.Is(err, ErrDraining):
		reason, status, msg = metrics.RefusedDraining, http.StatusServiceUnavailable, "shutting down; redeliver later"
	case errors.Is(err, ErrShare):
		reason, status, msg = metrics.RefusedShare, http.StatusServiceUnavailable, "this installation holds its share of the queue; redeliver later"
	case errors.Is(err, ErrCoordination):
		reason, status, msg = metrics.RefusedCoordination, http.StatusServiceUnavailable, "shared state unavailable; redeliver later"
		ow.log = ow.log.With().Err(err).Logger()
	case errors.As(err, &ve):
		reason, status, msg = metrics.RefusedBadBody, http.StatusBadRequest, "invalid webhook"
	default:
		ow.log = ow.log.With().Err(err).Logger()
	}
	s.metrics.DeliveryRefused(reason)
	s.answer(ow.ResponseWriter, ow.log, ow.start, status, reason, msg)
}

// onDispatchResponse answers a queued delivery: 202, since handling has
// only begun.
func (s *Server) onDispatchResponse(w http.ResponseWriter, r *http.Request, event string, handled bool) {
	ow, ok := w.(*outcomeWriter)
	if !ok {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	outcome := "queued"
	if !handled { // handleHook already answered these; kept for safety
		outcome = "ignored"
	}
	s.answer(ow.ResponseWriter, ow.log, ow.start, http.StatusAccepted, outcome, outcome)
}

// answer writes a short plain-text reply and logs the delivery's outcome,
// once per delivery. Bodies and secrets are never logged.
func (s *Server) answer(w http.ResponseWriter, log zerolog.Logger, start time.Time, status int, outcome, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
	ev := log.Info()
	if status >= 400 {
		ev = log.Warn()
	}
	ev.Int("status", status).Str("outcome", outcome).Dur("took_ms", time.Since(start)).Msg("webhook delivery")
}

// validSignature checks X-Hub-Signature-256 ("sha256=" + hex HMAC-SHA256 of
// the body) in constant time.
func validSignature(header string, body, secret []byte) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(secret) == 0 {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the X-Hub-Signature-256 value GitHub would send for body;
// for tests and tools that post webhooks.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
