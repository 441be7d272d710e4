package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
)

// stubborn ignores its context until released.
type stubborn struct{ release, started chan struct{} }

func (s stubborn) Handles() []string { return []string{"push"} }

func (s stubborn) Handle(context.Context, string, string, []byte) error {
	close(s.started)
	<-s.release
	return nil
}

func TestSchedulerShutdown(t *testing.T) {
	h := stubborn{release: make(chan struct{}), started: make(chan struct{})}
	var done []error
	s := NewScheduler(SchedulerOptions{Workers: 1, QueueSize: 1, CancelGrace: 50 * time.Millisecond,
		OnDone: func(_ githubapp.Dispatch, err error) { done = append(done, err) }})
	if err := s.Schedule(context.Background(), githubapp.Dispatch{Handler: h, EventType: "push", DeliveryID: "x"}); err != nil {
		t.Fatal(err)
	}
	<-h.started

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := s.Shutdown(ctx)
	if err == nil || !strings.Contains(err.Error(), "1 handlers still running") {
		t.Errorf("Shutdown with a handler ignoring cancellation = %v", err)
	}
	if s.Running() {
		t.Error("Running after Shutdown")
	}
	if err := s.Schedule(context.Background(), githubapp.Dispatch{Handler: h}); !errors.Is(err, ErrDraining) {
		t.Errorf("Schedule after Shutdown = %v, want ErrDraining", err)
	}

	close(h.release)
	if err := s.Shutdown(context.Background()); err != nil { // a second call waits for the rest
		t.Errorf("second Shutdown = %v", err)
	}
	if len(done) != 1 || done[0] != nil {
		t.Errorf("OnDone calls = %v, want one success", done)
	}
}
