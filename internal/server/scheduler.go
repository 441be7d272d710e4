package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/coord"
	"github.com/housekeeper-app/housekeeper/internal/metrics"
)

// Errors a Scheduler reports.
var (
	// ErrDraining is returned by Schedule once Shutdown has begun.
	ErrDraining = errors.New("scheduler: shutting down, not accepting work")
	// ErrDropped is passed to OnDone for accepted work whose handler only
	// ran cancelled because the shutdown deadline passed first.
	ErrDropped = errors.New("scheduler: shut down before the handler ran")
	// ErrShare is returned by Schedule when the delivery's installation
	// already holds its share of the queue.
	ErrShare = errors.New("scheduler: this installation holds its share of the queue")
	// ErrCoordination is returned by Schedule when the shared queue (Redis)
	// cannot be reached: nothing is accepted without coordination.
	ErrCoordination = errors.New("scheduler: the shared queue cannot be reached")
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
	// Share is the fraction of the queue one installation may hold
	// (0: half).
	Share float64

	// Queue, when set, is the queue the replicas share (Redis): entries are
	// encoded, outlive this process, are reclaimed from a replica that
	// died, and at shutdown those still queued stay for the others. nil:
	// an in-memory queue of QueueSize.
	Queue coord.Queue
	// Consumer names this process to the shared queue.
	Consumer string
	// Handlers decode entries of the shared queue into dispatches.
	Handlers []githubapp.EventHandler
	// ReclaimIdle is the shared queue's; a running entry is touched every
	// third of it (0: 30s).
	ReclaimIdle time.Duration
}

// Scheduler is a githubapp.Scheduler with a bounded queue and a fixed pool
// of workers that, unlike go-githubapp's QueueAsyncScheduler, can be
// drained: Shutdown stops accepting work, lets accepted work finish until its
// deadline, then cancels what is left so handlers can fail closed.
type Scheduler struct {
	o        SchedulerOptions
	queue    coord.Queue
	durable  bool
	handlers map[string]githubapp.EventHandler
	base     context.Context // parent of every handler context; cancelled last
	cancel   context.CancelFunc
	popCtx   context.Context // ends when Shutdown begins
	stopPop  context.CancelFunc
	wg       sync.WaitGroup

	mu     sync.Mutex // guards closed
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

// wireJob is a dispatch as the shared queue holds it.
type wireJob struct {
	Event    string          `json:"e"`
	Delivery string          `json:"d"`
	Action   string          `json:"a,omitempty"`
	Payload  json.RawMessage `json:"p"`
}

// Context values the webhook route hands the scheduler.
type ctxKey int

const (
	ownerKey  ctxKey = iota // the delivery's installation, for its share of the queue
	actionKey               // the payload's action, for the logs of another replica
)

// ownerOf names an installation in the queue's shares; the webhook route
// and the redelivery room both go through it.
func ownerOf(installation int64) string { return strconv.FormatInt(installation, 10) }

// classOf ranks an event in the queue: checks of pull requests and pushes
// first, then commands, then audits and everything else.
func classOf(event string) coord.Class {
	switch event {
	case "pull_request", "check_suite", "check_run", "merge_group", "push":
		return coord.ClassCheck
	case "issue_comment":
		return coord.ClassCommand
	}
	return coord.ClassAudit
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
	s := &Scheduler{o: o, queue: o.Queue, durable: o.Queue != nil, handlers: map[string]githubapp.EventHandler{}}
	if s.queue == nil {
		s.queue = coord.NewMemory(coord.MemoryOptions{Queue: coord.QueueOptions{Capacity: o.QueueSize, Share: o.Share}}).Queue
	}
	for _, h := range o.Handlers {
		for _, e := range h.Handles() {
			s.handlers[e] = h
		}
	}
	// Handlers must outlive the webhook request that scheduled them, so
	// their contexts descend from this one, never from the request's.
	s.base, s.cancel = context.WithCancel(context.Background())
	s.popCtx, s.stopPop = context.WithCancel(context.Background())
	if s.durable {
		go s.watchDepth()
	}
	s.wg.Add(o.Workers)
	for range o.Workers {
		go s.work()
	}
	return s
}

// Schedule queues d, or returns githubapp.ErrCapacityExceeded when the queue
// is full, ErrShare when d's installation holds its share of it,
// ErrCoordination when the shared queue cannot be reached, and ErrDraining
// after Shutdown began. The logger in ctx goes with the work; nothing else
// of the request's context does.
func (s *Scheduler) Schedule(ctx context.Context, d githubapp.Dispatch) error {
	logger := zerolog.Ctx(ctx)
	if logger.GetLevel() == zerolog.Disabled {
		logger = &s.o.Logger
	}
	j := &job{d: d, logger: *logger, queued: time.Now()}
	owner, _ := ctx.Value(ownerKey).(string)
	e := coord.Entry{Class: classOf(d.EventType), Owner: owner, Local: j}
	if s.durable {
		action, _ := ctx.Value(actionKey).(string)
		data, err := json.Marshal(wireJob{Event: d.EventType, Delivery: d.DeliveryID, Action: action, Payload: d.Payload})
		if err != nil {
			return fmt.Errorf("encode delivery: %w", err)
		}
		e.Data = data
	}
	if !s.Running() {
		return ErrDraining
	}
	// Push must not hang on the webhook request: GitHub waits 10 s.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	err := s.queue.Push(pctx, e)
	switch {
	case err == nil:
		if !s.durable {
			s.metric(func(m *metrics.Metrics) { m.Enqueued() })
		}
		return nil
	case errors.Is(err, coord.ErrFull):
		return githubapp.ErrCapacityExceeded
	case errors.Is(err, coord.ErrShare):
		return ErrShare
	}
	return fmt.Errorf("%w: %w", ErrCoordination, err)
}

// Free is how many more deliveries the queue takes now (0 once draining).
func (s *Scheduler) Free() int {
	if !s.Running() {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := s.queue.Depth(ctx)
	if err != nil {
		return 0
	}
	return max(s.o.QueueSize-n, 0)
}

// RoomFor is how many more deliveries of owner the queue admits now under
// its share rule, the very one Push applies (coord.QueueOptions.OwnerLimit
// less what owner holds); 0 once draining or when the queue cannot be
// read. It reads the queue Schedule pushes to: in one replica that is the
// scheduler's own, not the memory backend's unused one.
func (s *Scheduler) RoomFor(owner string) int {
	if !s.Running() {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	held, err := s.queue.Held(ctx, owner)
	if err != nil {
		return 0
	}
	limit := coord.QueueOptions{Capacity: s.o.QueueSize, Share: s.o.Share}.OwnerLimit()
	return max(limit-held, 0)
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
	s.closed = true
	s.mu.Unlock()
	s.stopPop()

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
	for {
		// After Shutdown began, the in-memory queue still hands out what
		// it holds (its Pop returns waiting entries before looking at the
		// context); the shared one stops, leaving them to other replicas.
		e, err := s.queue.Pop(s.popCtx, s.o.Consumer)
		if err != nil {
			if s.popCtx.Err() != nil {
				return
			}
			s.o.Logger.Error().Err(err).Msg("cannot read the shared queue; trying again in 1s")
			select {
			case <-s.popCtx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		j, ok := s.decode(e)
		if !ok {
			s.ack(e)
			continue
		}
		if !s.durable {
			s.metric(func(m *metrics.Metrics) { m.Dequeued() })
		}
		if e.Reclaimed {
			s.metric(func(m *metrics.Metrics) { m.QueueReclaimed() })
			j.logger.Warn().Str("outcome", "reclaimed").Msg("delivery taken over from a replica that stopped working on it")
		}
		if s.base.Err() != nil {
			// The shutdown deadline passed before a worker took it. Its
			// handler still runs, with a cancelled context, so it can
			// complete its check runs as failures saying why (a few quick
			// requests within CancelGrace) rather than leave none.
			s.dropped.Add(1)
			s.metric(func(m *metrics.Metrics) { m.JobDropped("shutdown") })
			j.logger.Warn().Str("outcome", "dropped").Msg("delivery dropped: shutdown deadline passed before a worker took it; its handler runs cancelled, to fail closed")
			s.execute(j, ErrDropped)
			s.ack(e)
			continue
		}
		stop := s.keepAlive(e)
		s.execute(j, nil)
		stop()
		s.ack(e)
	}
}

// decode turns a queue entry back into a job: the in-memory queue keeps
// the job itself; the shared one its encoding.
func (s *Scheduler) decode(e coord.Entry) (*job, bool) {
	if j, ok := e.Local.(*job); ok {
		return j, true
	}
	var w wireJob
	if err := json.Unmarshal(e.Data, &w); err != nil {
		s.o.Logger.Error().Err(err).Msg("undecodable entry in the shared queue; dropped")
		return nil, false
	}
	h := s.handlers[w.Event]
	logger := s.o.Logger.With().Str(githubapp.LogKeyDeliveryID, clip(w.Delivery, maxGUIDLen)).
		Str(githubapp.LogKeyEventType, clip(w.Event, 64)).Str("action", clip(w.Action, 64)).Logger()
	if h == nil {
		logger.Error().Msg("no handler for an event in the shared queue; dropped")
		return nil, false
	}
	return &job{d: githubapp.Dispatch{Handler: h, EventType: w.Event, DeliveryID: w.Delivery, Payload: w.Payload},
		logger: logger, queued: e.Queued}, true
}

// keepAlive touches a shared entry while its handler runs, so no other
// replica reclaims it; stop ends that.
func (s *Scheduler) keepAlive(e coord.Entry) (stop func()) {
	if !s.durable {
		return func() {}
	}
	every := s.o.ReclaimIdle / 3
	if every <= 0 {
		every = 10 * time.Second
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), every)
				if err := s.queue.Touch(ctx, e); err != nil {
					s.o.Logger.Warn().Err(err).Msg("cannot renew a running delivery's claim in the shared queue")
				}
				cancel()
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// ack removes a handled entry from the shared queue. When that fails (Redis
// away) the entry is reclaimed and handled again later, which the handlers'
// idempotence makes harmless.
func (s *Scheduler) ack(e coord.Entry) {
	if !s.durable {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.queue.Ack(ctx, e); err != nil {
		s.o.Logger.Warn().Err(err).Msg("cannot acknowledge a handled delivery in the shared queue; another replica may handle it again")
	}
}

// watchDepth publishes the shared queue's depth (every replica sees all of
// it) until shutdown.
func (s *Scheduler) watchDepth() {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.popCtx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.popCtx, time.Second)
			if n, err := s.queue.Depth(ctx); err == nil {
				s.metric(func(m *metrics.Metrics) { m.SetQueueDepth(n) })
			}
			cancel()
		}
	}
}

// execute runs j's handler; dropped, when set, is what OnDone hears
// whatever the handler returns (it ran only to fail closed).
func (s *Scheduler) execute(j *job, dropped error) {
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
