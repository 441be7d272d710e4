package publish

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/coord"
)

// Pacer spaces content-creating requests (GitHub's secondary limit is 80 a
// minute) as a token bucket: short bursts go at once, the rate holds over a
// minute. One Pacer is shared by every worker; a nil Pacer does not wait.
type Pacer struct {
	mu       sync.Mutex
	interval time.Duration // one token per interval
	burst    float64
	tokens   float64
	last     time.Time
}

// NewPacer allows perMinute requests a minute; 0 means unpaced.
func NewPacer(perMinute int) *Pacer {
	if perMinute <= 0 {
		return nil
	}
	burst := float64(max(perMinute/10, 1))
	return &Pacer{interval: time.Minute / time.Duration(perMinute), burst: burst, tokens: burst, last: time.Now()}
}

// Wait blocks until the next request may go.
func (p *Pacer) Wait(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	now := time.Now()
	p.tokens = min(p.burst, p.tokens+float64(now.Sub(p.last))/float64(p.interval))
	p.last = now
	p.tokens-- // reserve, possibly going into debt that later callers wait out
	var d time.Duration
	if p.tokens < 0 {
		d = time.Duration(-p.tokens * float64(p.interval))
	}
	if dl, ok := ctx.Deadline(); ok && d > 0 && now.Add(d).After(dl) {
		// The caller would give up first: do not hold a slot it never uses.
		p.tokens++
		p.mu.Unlock()
		return fmt.Errorf("pace content-creating requests: the next slot is in %s, past the deadline", d.Round(time.Millisecond))
	}
	p.mu.Unlock()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		p.tokens++ // give the unused slot back
		p.mu.Unlock()
		return ctx.Err()
	}
}

// Waiter paces requests: Wait returns when the next may go.
type Waiter interface {
	Wait(ctx context.Context) error
}

func (p *Publisher) wait(ctx context.Context) error {
	if p.Pacer == nil {
		return nil
	}
	return p.Pacer.Wait(ctx)
}

// LimitPacer paces one key's requests (an installation's) through a shared
// limit, so every replica draws on one budget per installation and one
// installation's writes never delay another's.
type LimitPacer struct {
	Limits coord.Limits
	Key    string
	Limit  coord.Limit
	// Observe, when set, hears each wait.
	Observe func(time.Duration)
}

// Wait blocks until the limit allows a request; it fails at once when the
// next slot is past ctx's deadline.
func (p *LimitPacer) Wait(ctx context.Context) error {
	var waited time.Duration
	for {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		d, err := p.Limits.Allow(cctx, p.Key, p.Limit)
		cancel()
		if err != nil {
			return fmt.Errorf("pace content-creating requests: %w", err)
		}
		if d <= 0 {
			if p.Observe != nil {
				p.Observe(waited)
			}
			return nil
		}
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(d).After(dl) {
			return fmt.Errorf("pace content-creating requests: the next slot is in %s, past the deadline", d.Round(time.Millisecond))
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
			waited += d
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}
