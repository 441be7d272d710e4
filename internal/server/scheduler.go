package server

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/metrics"
)

// Errors a Scheduler reports.
var (
	// ErrDraining is returned by Schedule once Shutdown has begun.
	ErrDraining = errors.New("scheduler: shutting down, not accepting work")
	// ErrDropped is passed to OnDone for accepted work whose handler only
	// ran cancelled because the shutdown deadline passed first.
	ErrDropped = errors.New("scheduler: shut down before the handler ran")
)

// SchedulerOptions configure NewScheduler.
type SchedulerOptions struct {
	Workers        int           // goroutines running handlers; at least 1
	QueueSize      int           // accepted work waiting for a worker; 0 = hand-off only
	HandlerTimeout time.Duration // deadline of each handler's context; 0 = none
	Metrics        *metrics.Metrics
	Logger         zerolog.Logger // for work scheduled without a logger in its context
	// OnDone, when set, is called once per accepted Dispatch after its
	// handler returned (err nil on success) or was dropped (ErrDropped).
	OnDone func(d githubapp.Dispatch, err error)
	// CancelGrace is how long Shutdown waits for handlers to return after
	// cancelling their contexts; default 5s.
	CancelGrace time.Duration
}

// Scheduler is a githubapp.Scheduler with a bounded queue and a fixed pool
// of workers that, unlike go-githubapp's QueueAsyncScheduler, can be
// drained: Shutdown stops accepting work, lets accepted work finish until its
// deadline, then cancels what is left so handlers can fail closed.
type Scheduler struct {
	o      SchedulerOptions
	queue  chan job
	base   context.Context // parent of every handler context; cancelled last
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex // guards closed and sends on queue
	closed bool

	busy    atomic.Int64
	dropped atomic.Int64
}

var _ githubapp.Scheduler = (*Scheduler)(nil)

type job struct {
	d      githubapp.Dispatch
	logger zerolog.Logger
	queued time.Time
}

// NewScheduler starts the workers.
func NewScheduler(o SchedulerOptions) *Scheduler {
	if o.Workers < 1 {
		o.Workers = 1
	}
	if o.QueueSize < 0 {
		o.QueueSize = 0
	}
	if o.CancelGrace <= 0 {
		o.CancelGrace = 5 * time.Second
	}
	s := &Scheduler{o: o, queue: make(chan job, o.QueueSize)}
	// Handlers must outlive the webhook request that scheduled them, so
	// their contexts descend from this one, never from the request's.
	s.base, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(o.Workers)
	for range o.Workers {
		go s.work()
	}
	return s
}

// Schedule queues d, or returns githubapp.ErrCapacityExceeded when the queue
// is full and ErrDraining after Shutdown began. The logger in ctx goes with
// the work; nothing else of the request's context does.
func (s *Scheduler) Schedule(ctx context.Context, d githubapp.Dispatch) error {
	logger := zerolog.Ctx(ctx)
	if logger.GetLevel() == zerolog.Disabled {
		logger = &s.o.Logger
	}
	j := job{d: d, logger: *logger, queued: time.Now()}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrDraining
	}
	select {
	case s.queue <- j:
		s.metric(func(m *metrics.Metrics) { m.Enqueued() })
		return nil
	default:
		return githubapp.ErrCapacityExceeded
	}
}

// Free is how many more deliveries the queue takes now (0 once draining).
func (s *Scheduler) Free() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0
	}
	return cap(s.queue) - len(s.queue)
}

// Running reports whether the workers are up and accepting work.
func (s *Scheduler) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed
}

// Shutdown stops accepting work and waits for the queue to drain and the
// handlers to return. When ctx ends first, it cancels the handlers' contexts,
// drops work still queued, and waits up to CancelGrace for handlers to
// return; only handlers that ignore cancellation make it return an error.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
	}
	busy := s.busy.Load()
	s.cancel()
	select {
	case <-done:
		s.o.Logger.Warn().Int64("cancelled", busy).Int64("dropped", s.dropped.Load()).
			Msg("shutdown deadline passed: cancelled running handlers and dropped queued deliveries")
		return nil
	case <-time.After(s.o.CancelGrace):
		return fmt.Errorf("drain scheduler: %d handlers still running %s after cancellation", s.busy.Load(), s.o.CancelGrace)
	}
}

func (s *Scheduler) work() {
	defer s.wg.Done()
	for j := range s.queue {
		s.metric(func(m *metrics.Metrics) { m.Dequeued() })
		if s.base.Err() != nil {
			// The shutdown deadline passed before a worker took it. Its
			// handler still runs, with a cancelled context, so it can
			// complete its check runs as failures saying why (a few quick
			// requests within CancelGrace) rather than leave none.
			s.dropped.Add(1)
			s.metric(func(m *metrics.Metrics) { m.JobDropped("shutdown") })
			j.logger.Warn().Str("outcome", "dropped").Msg("delivery dropped: shutdown deadline passed before a worker took it; its handler runs cancelled, to fail closed")
			s.execute(j, ErrDropped)
			continue
		}
		s.execute(j, nil)
	}
}

// execute runs j's handler; dropped, when set, is what OnDone hears
// whatever the handler returns (it ran only to fail closed).
func (s *Scheduler) execute(j job, dropped error) {
	ctx := githubapp.InitializeResponder(s.base) // for handlers that call SetResponder
	ctx = j.logger.WithContext(ctx)
	if s.o.HandlerTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.o.HandlerTimeout)
		defer cancel()
	}

	s.busy.Add(1)
	s.metric(func(m *metrics.Metrics) { m.WorkerBusy() })
	start := time.Now()
	s.metric(func(m *metrics.Metrics) { m.QueueWait(start.Sub(j.queued)) })
	err := safeExecute(ctx, j.d)
	var pe panicError
	panicked := errors.As(err, &pe)
	elapsed := time.Since(start)
	s.metric(func(m *metrics.Metrics) { m.WorkerIdle() })
	s.busy.Add(-1)

	outcome := metrics.OutcomeOK
	switch {
	case panicked:
		outcome = metrics.OutcomePanic
	case err == nil:
	case s.base.Err() != nil:
		outcome = metrics.OutcomeCanceled
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		outcome = metrics.OutcomeTimeout
	default:
		outcome = metrics.OutcomeError
	}
	s.metric(func(m *metrics.Metrics) { m.HandlingDone(j.d.EventType, outcome, elapsed) })

	ev := j.logger.Info()
	if err != nil {
		ev = j.logger.Error().Err(err)
		if panicked {
			ev = ev.Str("stack", pe.stack)
		}
	}
	ev.Str("outcome", outcome).Dur("queued_ms", start.Sub(j.queued)).Dur("took_ms", elapsed).Msg("delivery handled")
	if dropped != nil {
		err = errors.Join(dropped, err)
	}
	s.done(j.d, err)
}

func (s *Scheduler) done(d githubapp.Dispatch, err error) {
	if s.o.OnDone != nil {
		s.o.OnDone(d, err)
	}
}

func (s *Scheduler) metric(f func(*metrics.Metrics)) {
	if s.o.Metrics != nil {
		f(s.o.Metrics)
	}
}

// panicError is a recovered handler panic.
type panicError struct {
	value any
	stack string
}

func (p panicError) Error() string { return fmt.Sprintf("handler panicked: %v", p.value) }

// safeExecute runs the handler, turning a panic into a panicError so one bad
// delivery cannot take the process (and every queued delivery) down.
func safeExecute(ctx context.Context, d githubapp.Dispatch) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicError{value: v, stack: string(debug.Stack())}
		}
	}()
	return d.Execute(ctx)
}
