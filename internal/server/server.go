// Package server is `housekeeper serve`: settings, the webhook HTTP server in
// front of go-githubapp's dispatcher, a drainable scheduler, and the GitHub
// client creator.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/coord"
	"github.com/housekeeper-app/housekeeper/internal/metrics"
)

// httpShutdownTimeout bounds waiting for in-flight HTTP requests once the
// scheduler has drained; webhook requests only queue work, so they are short.
const httpShutdownTimeout = 5 * time.Second

// Server answers webhooks and the health, readiness and metrics routes.
type Server struct {
	cfg        *Config
	logger     zerolog.Logger
	metrics    *metrics.Metrics
	secret     []byte
	handles    map[string]bool
	shared     *coord.Backend
	sched      *Scheduler
	dispatcher http.Handler
	mux        *http.ServeMux

	draining  atomic.Bool
	mu        sync.Mutex
	ln        net.Listener
	metricsLn net.Listener // with metrics_addr only
}

// New validates cfg, starts the scheduler's workers and builds the routes,
// with the state of one replica in memory. It does not listen; Run (or
// Listen) does. m may be nil for a private, unexported set of metrics.
func New(cfg *Config, logger zerolog.Logger, m *metrics.Metrics, handlers ...githubapp.EventHandler) (*Server, error) {
	return NewShared(cfg, logger, m, nil, handlers...)
}

// NewShared is New with the state the replicas share (NewBackend); nil is
// one replica's, in memory.
func NewShared(cfg *Config, logger zerolog.Logger, m *metrics.Metrics, shared *coord.Backend, handlers ...githubapp.EventHandler) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if m == nil {
		m = metrics.New("")
	}
	if shared == nil {
		shared = memoryBackend(cfg)
	}
	s := &Server{
		cfg:     cfg,
		logger:  logger,
		metrics: m,
		secret:  cfg.WebhookSecret.Bytes(),
		handles: map[string]bool{},
		shared:  shared,
	}
	for _, h := range handlers {
		for _, e := range h.Handles() {
			s.handles[e] = true
		}
	}
	so := SchedulerOptions{
		Workers:        cfg.Workers,
		QueueSize:      cfg.QueueSize,
		HandlerTimeout: cfg.HandlerTimeout,
		Metrics:        m,
		Logger:         logger,
		OnDone:         s.jobDone,
		Share:          cfg.queueShare(),
		ReclaimIdle:    cfg.ReclaimIdle,
		Handlers:       handlers,
	}
	if shared.Ping != nil { // a queue the replicas share
		so.Queue, so.Consumer = shared.Queue, consumerName()
	}
	s.sched = NewScheduler(so)
	s.dispatcher = githubapp.NewEventDispatcher(handlers, string(s.secret),
		githubapp.WithScheduler(s.sched),
		githubapp.WithErrorCallback(s.onDispatchError),
		githubapp.WithResponseCallback(s.onDispatchResponse),
	)

	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST "+HookPath, s.handleHook)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { plain(w, http.StatusOK, "ok") })
	s.mux.HandleFunc("GET /readyz", s.handleReady)
	if cfg.MetricsAddr == "" {
		s.mux.Handle("GET /metrics", m.Handler())
	}
	return s, nil
}

// jobDone keeps the delivery log honest: a GUID whose handler failed or never
// ran is forgotten, so GitHub's redelivery of it is handled.
func (s *Server) jobDone(d githubapp.Dispatch, err error) {
	if err != nil {
		s.forget(d.DeliveryID)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.shared.Deliveries.Complete(ctx, d.DeliveryID); err != nil {
		s.logger.Warn().Err(err).Msg("cannot mark a delivery handled in the shared state")
	}
}

// claim records a delivery GUID as accepted (see coord.Deliveries).
func (s *Server) claim(ctx context.Context, id string) (ok, completed bool, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	return s.shared.Deliveries.Claim(ctx, id)
}

// forget drops a GUID so its redelivery is handled.
func (s *Server) forget(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := s.shared.Deliveries.Forget(ctx, id); err != nil {
		s.logger.Warn().Err(err).Msg("cannot forget a delivery in the shared state; its redelivery is answered as a duplicate until dedup_window passes")
	}
}

// Shared is the state the replicas share.
func (s *Server) Shared() *coord.Backend { return s.shared }

// Handler is the server's routes, for tests that bring their own listener.
func (s *Server) Handler() http.Handler { return s.mux }

// Handles reports whether a handler subscribes to event.
func (s *Server) Handles(event string) bool { return s.handles[event] }

// RedeliveryRoom is how many redeliveries the server can take now: the
// queue's free slots less a quarter of the queue, kept for live deliveries.
func (s *Server) RedeliveryRoom() int {
	switch {
	case s.draining.Load():
		return 0
	case s.cfg.QueueSize == 0: // hand-off only: one at a time
		return 1
	}
	return max(s.sched.Free()-s.cfg.QueueSize/4, 0)
}

// RedeliveryRoomFor is how many redeliveries of one installation the
// server can take now: what its share of the queue has left, by the rule
// the queue admits with.
func (s *Server) RedeliveryRoomFor(installation int64) int {
	if s.draining.Load() {
		return 0
	}
	return s.sched.RoomFor(ownerOf(installation))
}

// Scheduler is the queue the dispatcher feeds.
func (s *Server) Scheduler() *Scheduler { return s.sched }

// Ready reports what /readyz answers: workers running, not draining, and
// the shared state (Redis) answering. The settings were valid and the key
// parsed, or New would have failed.
func (s *Server) Ready() bool {
	if s.draining.Load() || !s.sched.Running() {
		return false
	}
	if s.shared.Ping == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	up := s.shared.Healthy(ctx) == nil
	s.metrics.RedisUp(up)
	return up
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if !s.Ready() {
		plain(w, http.StatusServiceUnavailable, "not ready")
		return
	}
	plain(w, http.StatusOK, "ready")
}

// Listen binds the configured address; Addr then reports the bound one
// (useful with port 0). Run calls it when it has not been called.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	if err := s.listenMetrics(); err != nil {
		ln.Close()
		return err
	}
	s.ln = ln
	return nil
}

// Addr is the bound address, or nil before Listen.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Run serves until ctx is cancelled, then drains: new deliveries and /readyz
// get 503, accepted work gets until shutdown_timeout to finish, then what
// remains is cancelled; finally the listener closes. It returns nil after a
// clean drain.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		_ = s.sched.Shutdown(context.Background())
		return err
	}
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute, // a 25 MiB body on a slow link
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          newStdLogger(s.logger),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(s.ln) }()
	stopMetrics := s.serveMetrics()
	defer stopMetrics() // after the drain: metrics stay scrapeable meanwhile
	ev := s.logger.Info().Str("addr", s.Addr().String())
	if a := s.MetricsAddr(); a != nil {
		ev = ev.Str("metrics_addr", a.String())
	}
	ev.Int("workers", s.cfg.Workers).Int("queue_size", s.cfg.QueueSize).Msg("listening")

	var runErr error
	select {
	case err := <-serveErr:
		runErr = fmt.Errorf("serve: %w", err)
		serveErr <- nil
	case <-ctx.Done():
	}
	return errors.Join(runErr, s.drain(srv, serveErr))
}

func (s *Server) drain(srv *http.Server, serveErr <-chan error) error {
	s.draining.Store(true)
	s.logger.Info().Dur("timeout_ms", s.cfg.ShutdownTimeout).Msg("draining: finishing accepted deliveries")
	dctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	schedErr := s.sched.Shutdown(dctx)

	hctx, hcancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
	defer hcancel()
	var httpErr error
	if err := srv.Shutdown(hctx); err != nil {
		httpErr = fmt.Errorf("close http server: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		httpErr = errors.Join(httpErr, fmt.Errorf("serve: %w", err))
	}
	if err := errors.Join(schedErr, httpErr); err != nil {
		return err
	}
	s.logger.Info().Msg("stopped")
	return nil
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
