package runner

import (
	"context"
	"testing"
	"time"
)

// One installation's writes never wait on another's: each has its own
// pace (before, one pacer served every installation).
func TestContentPacePerInstallation(t *testing.T) {
	r := &Runner{ContentPace: 60} // a burst of 6, then one a second
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 6 {
		if err := r.pacer(1).Wait(ctx); err != nil {
			t.Fatalf("installation 1, write %d: %v", i+1, err)
		}
	}
	short, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	if err := r.pacer(1).Wait(short); err == nil {
		t.Fatal("installation 1's 7th write went at once; its burst is 6")
	}
	start := time.Now()
	short3, cancel3 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel3()
	if err := r.pacer(2).Wait(short3); err != nil {
		t.Fatalf("installation 2 waited for installation 1's pace: %v", err)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Fatalf("installation 2's first write waited %s", d)
	}
}
