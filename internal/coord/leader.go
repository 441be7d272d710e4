package coord

import (
	"context"
	"time"
)

// Leader runs work on one replica at a time: whoever holds the lease Key
// runs it, renewing the lease every TTL/3; when the holder dies the lease
// expires and another replica takes over within TTL plus one attempt
// interval (TTL/3).
type Leader struct {
	Locks Locks
	Key   string
	TTL   time.Duration // 0: 15 s
	// OnChange, when set, hears each gain (true) and loss (false).
	OnChange func(leading bool)
}

func (l *Leader) ttl() time.Duration {
	if l.TTL <= 0 {
		return 15 * time.Second
	}
	return l.TTL
}

// Run campaigns until ctx ends; while this replica leads, work runs with a
// context that ends when the lease is lost (or ctx ends). work is started
// again after each new gain.
func (l *Leader) Run(ctx context.Context, work func(ctx context.Context)) {
	ttl := l.ttl()
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	for {
		lease, err := l.Locks.Obtain(ctx, l.Key, ttl)
		if err == nil {
			l.lead(ctx, lease, tick, work)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (l *Leader) lead(ctx context.Context, lease Lease, tick *time.Ticker, work func(ctx context.Context)) {
	if l.OnChange != nil {
		l.OnChange(true)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		work(wctx)
	}()
	ttl := l.ttl()
	for alive := true; alive; {
		select {
		case <-ctx.Done():
			alive = false
		case <-done:
			alive = false
		case <-tick.C:
			rctx, rcancel := context.WithTimeout(ctx, ttl/3)
			if lease.Refresh(rctx, ttl) != nil {
				alive = false
			}
			rcancel()
		}
	}
	cancel()
	<-done
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	_ = lease.Release(rctx) // so a successor need not wait for the expiry
	rcancel()
	if l.OnChange != nil {
		l.OnChange(false)
	}
}
