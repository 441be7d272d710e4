package server

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackground(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	b := NewBackground(ctx, time.Second)
	var ran atomic.Int32
	gotDeadline := make(chan bool, 1)
	if !b.Later(10*time.Millisecond, func(ctx context.Context) {
		_, ok := ctx.Deadline()
		gotDeadline <- ok
		ran.Add(1)
	}) {
		t.Fatal("Later refused work")
	}
	if !b.Later(time.Hour, func(context.Context) { ran.Add(10) }) {
		t.Fatal("Later refused work")
	}
	select {
	case ok := <-gotDeadline:
		if !ok {
			t.Error("deferred work ran without its timeout")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("deferred work did not run")
	}
	cancel()
	if b.Later(time.Millisecond, func(context.Context) { ran.Add(100) }) {
		t.Error("Later accepted work after shutdown began")
	}
	if n := b.Close(time.Second); n != 1 {
		t.Errorf("Close dropped %d, want 1 (the hour-long wait)", n)
	}
	time.Sleep(20 * time.Millisecond)
	if got := ran.Load(); got != 1 {
		t.Errorf("ran = %d, want only the first piece", got)
	}
}
