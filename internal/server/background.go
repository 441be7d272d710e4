package server

import (
	"context"
	"sync"
	"time"
)

// maxDeferred bounds the work waiting in a Background.
const maxDeferred = 1000

// Background runs the App's deferred work (a check to run again once a
// rate limit resets): each piece after its delay, with its own timeout,
// never after shutdown began. Close stops what has not started and waits,
// boundedly, for what has.
type Background struct {
	ctx     context.Context
	timeout time.Duration

	mu      sync.Mutex
	pending map[*time.Timer]struct{}
	running sync.WaitGroup
}

// NewBackground returns a Background whose work stops when ctx ends;
// timeout bounds each piece (0: none).
func NewBackground(ctx context.Context, timeout time.Duration) *Background {
	return &Background{ctx: ctx, timeout: timeout, pending: map[*time.Timer]struct{}{}}
}

// Later runs f after d; it reports false, and does nothing, once shutdown
// began or when too much is already waiting.
func (b *Background) Later(d time.Duration, f func(ctx context.Context)) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx.Err() != nil || len(b.pending) >= maxDeferred {
		return false
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		b.mu.Lock()
		if _, ok := b.pending[t]; !ok || b.ctx.Err() != nil {
			b.mu.Unlock()
			return
		}
		delete(b.pending, t)
		b.running.Add(1)
		b.mu.Unlock()
		defer b.running.Done()
		ctx := b.ctx
		if b.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, b.timeout)
			defer cancel()
		}
		f(ctx)
	})
	b.pending[t] = struct{}{}
	return true
}

// Pending is how many pieces wait for their time.
func (b *Background) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}

// Close drops what has not started and waits up to grace for what has
// (its context ends with the Background's), reporting the dropped count.
func (b *Background) Close(grace time.Duration) (dropped int) {
	b.mu.Lock()
	for t := range b.pending {
		t.Stop()
		delete(b.pending, t)
		dropped++
	}
	b.mu.Unlock()
	done := make(chan struct{})
	go func() {
		b.running.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
	}
	return dropped
}
