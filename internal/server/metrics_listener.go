package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// With metrics_addr set, /metrics leaves the webhook port for a listener of
// its own, so that the port exposed to GitHub (through an ingress) serves
// no metrics, and a NetworkPolicy can admit the monitoring namespace to
// that port alone.

// listenMetrics binds metrics_addr, if set; the caller holds s.mu.
func (s *Server) listenMetrics() error {
	if s.cfg.MetricsAddr == "" || s.metricsLn != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (metrics): %w", s.cfg.MetricsAddr, err)
	}
	s.metricsLn = ln
	return nil
}

// MetricsAddr is the metrics listener's bound address; nil when /metrics is
// served on the main address, or before Listen.
func (s *Server) MetricsAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.metricsLn == nil {
		return nil
	}
	return s.metricsLn.Addr()
}

// serveMetrics serves GET /metrics on the metrics listener, if any, and
// returns what stops it.
func (s *Server) serveMetrics() (stop func()) {
	s.mu.Lock()
	ln := s.metricsLn
	s.mu.Unlock()
	if ln == nil {
		return func() {}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      time.Minute,
		ErrorLog:          newStdLogger(s.logger),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			s.logger.Error().Err(err).Msg("metrics listener stopped")
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}
}
