package coord_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/housekeeper-app/housekeeper/internal/coord"
	"github.com/housekeeper-app/housekeeper/internal/redistest"
)

func TestParseRedisURL(t *testing.T) {
	for _, tc := range []struct {
		url, want, err string
	}{
		{url: "redis://localhost", want: "addrs=[localhost:6379] master= db=0 tls=false"},
		{url: "redis://:pw@10.0.0.1:6380/2", want: "addrs=[10.0.0.1:6380] master= db=2 tls=false pw"},
		{url: "rediss://user:pw@redis.example:6380", want: "addrs=[redis.example:6380] master= db=0 tls=true pw"},
		{url: "redis+sentinel://s1:26379,s2,s3:26380/mymaster/1?sentinel_password=x", want: "addrs=[s1:26379 s2:26379 s3:26380] master=mymaster db=1 tls=false"},
		{url: "redis+sentinel://s1/", err: "no master name"},
		{url: "redis://localhost/x", err: `database "x"`},
		{url: "http://localhost", err: `scheme "http"`},
		{url: "redis://:sekrit@host:%zz", err: "not a URL"},
	} {
		o, err := coord.ParseRedisURL(tc.url)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.url, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "sekrit") {
				t.Errorf("%s: the error repeats the password: %v", tc.url, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		got := strings.TrimSpace(strings.Join([]string{
			"addrs=[" + strings.Join(o.Addrs, " ") + "]",
			"master=" + o.MasterName,
			"db=" + strconv.Itoa(o.DB),
			"tls=" + map[bool]string{true: "true", false: "false"}[o.TLSConfig != nil],
			map[bool]string{true: "pw", false: ""}[o.Password == "pw"],
		}, " "))
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.url, got, tc.want)
		}
	}
}

func open(t *testing.T, url, prefix string, q coord.QueueOptions) *coord.Backend {
	t.Helper()
	b, err := coord.NewRedis(coord.RedisOptions{URL: url, Prefix: prefix, DedupWindow: time.Hour, Queue: q})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// An entry taken by a consumer that dies (never acknowledged, never
// touched) goes to another after ReclaimIdle; one that is touched does not.
func TestRedisQueueReclaimsDeadConsumersWork(t *testing.T) {
	testReclaim(t, redistest.URL(t))
}

func testReclaim(t *testing.T, url string) {
	ctx := ctxT(t)
	q := coord.QueueOptions{Capacity: 10, ReclaimIdle: 400 * time.Millisecond}
	prefix := "hk-reclaim-" + time.Now().Format("150405.000000") + ":"
	dead, alive, other := open(t, url, prefix, q), open(t, url, prefix, q), open(t, url, prefix, q)
	must(t, push(t, ctx, dead.Queue, coord.ClassCheck, "i", "orphan"))
	must(t, push(t, ctx, dead.Queue, coord.ClassCheck, "i", "kept alive"))
	e1, err := dead.Queue.Pop(ctx, "pod-dead")
	must(t, err)
	e2, err := alive.Queue.Pop(ctx, "pod-alive")
	must(t, err)
	if string(e1.Data) != "orphan" || string(e2.Data) != "kept alive" {
		t.Fatalf("popped %q and %q", e1.Data, e2.Data)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				_ = alive.Queue.Touch(ctx, e2)
			}
		}
	}()
	time.Sleep(600 * time.Millisecond)
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	got, err := other.Queue.Pop(pctx, "pod-other")
	must(t, err)
	if string(got.Data) != "orphan" || !got.Reclaimed {
		t.Fatalf("reclaimed %q (reclaimed=%v), want the dead consumer's orphan", got.Data, got.Reclaimed)
	}
	must(t, other.Queue.Ack(ctx, got))
	pctx2, cancel2 := context.WithTimeout(ctx, time.Second)
	defer cancel2()
	if e, err := other.Queue.Pop(pctx2, "pod-other"); err == nil {
		t.Fatalf("took %q, which a live consumer still works on", e.Data)
	}
}

// Redis with AOF keeps the queue, the delivery GUIDs and deferred work
// across a crash and restart.
func TestRedisRestartKeepsState(t *testing.T) {
	srv := redistest.Start(t)
	ctx := ctxT(t)
	q := coord.QueueOptions{Capacity: 10}
	b := open(t, srv.URL(), "hk:", q)
	must(t, push(t, ctx, b.Queue, coord.ClassCheck, "i", "survives"))
	ok, _, err := b.Deliveries.Claim(ctx, "guid")
	must(t, err)
	if !ok {
		t.Fatal("claim refused")
	}
	must(t, b.Deliveries.Complete(ctx, "guid"))
	must(t, b.Deferred.Add(ctx, time.Now(), []byte("deferred")))

	srv.Restart()
	if err := b.Healthy(ctx); err != nil {
		// The pool's old connections died with the server: the next
		// command redials.
		must(t, b.Healthy(ctx))
	}
	if ok, done, err := b.Deliveries.Claim(ctx, "guid"); err != nil || ok || !done {
		t.Fatalf("after restart: claim ok=%v completed=%v err=%v, want a completed duplicate", ok, done, err)
	}
	if e := pop(t, ctx, b.Queue, "c"); string(e.Data) != "survives" {
		t.Fatalf("after restart popped %q", e.Data)
	}
	if vs, _ := b.Deferred.Due(ctx, time.Now(), 10); len(vs) != 1 {
		t.Fatalf("after restart %d deferred values, want 1", len(vs))
	}
}

// Redis down: every call fails (so the server refuses work and is not
// ready) and recovers when it is back.
func TestRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	ctx := ctxT(t)
	b := open(t, srv.URL(), "hk:", coord.QueueOptions{Capacity: 10})
	must(t, b.Healthy(ctx))
	srv.Kill()
	if err := b.Healthy(ctx); err == nil {
		t.Fatal("Ping succeeded with Redis down")
	}
	if _, _, err := b.Deliveries.Claim(ctx, "g"); err == nil {
		t.Fatal("Claim succeeded with Redis down")
	}
	if err := push(t, ctx, b.Queue, coord.ClassCheck, "", "x"); err == nil {
		t.Fatal("Push succeeded with Redis down")
	}
}

// A Sentinel failover: the master dies, Sentinel promotes its replica, and
// the client (through redis+sentinel://) carries on with the data.
func TestRedisSentinelFailover(t *testing.T) {
	master := redistest.Start(t)
	replica := redistest.Start(t, "replicaof 127.0.0.1 "+strconv.Itoa(master.Port))
	sentinel := redistest.StartSentinel(t, "hkmaster", master.Addr())
	ctx := ctxT(t)
	b := open(t, "redis+sentinel://"+sentinel.Addr()+"/hkmaster", "hk:", coord.QueueOptions{Capacity: 10})
	must(t, push(t, ctx, b.Queue, coord.ClassCheck, "i", "before failover"))
	// Wait for the replica to hold it, then kill the master.
	waitFor(t, 10*time.Second, func() bool {
		r := open(t, replica.URL(), "hk:", coord.QueueOptions{Capacity: 10})
		n, err := r.Queue.Depth(ctx)
		return err == nil && n == 1
	})
	master.Kill()
	start := time.Now()
	waitFor(t, 20*time.Second, func() bool {
		return push(t, ctx, b.Queue, coord.ClassCheck, "i", "after failover") == nil
	})
	t.Logf("writes resumed %s after the master died", time.Since(start).Round(10*time.Millisecond))
	if e := pop(t, ctx, b.Queue, "c"); string(e.Data) != "before failover" {
		t.Fatalf("popped %q, want the entry written before the failover", e.Data)
	}
	if e := pop(t, ctx, b.Queue, "c"); string(e.Data) != "after failover" {
		t.Fatalf("popped %q", e.Data)
	}
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not done after %s", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Prune forgets consumers of dead pods once they hold nothing: one whose
// entry was acknowledged at once, and one whose entry another consumer
// reclaimed; it keeps a consumer that still holds an entry and one that
// is alive.
func TestRedisQueuePrunesDeadConsumers(t *testing.T) {
	testPrune(t, redistest.URL(t))
}

func testPrune(t *testing.T, url string) {
	ctx := ctxT(t)
	q := coord.QueueOptions{Capacity: 10, ReclaimIdle: 300 * time.Millisecond}
	prefix := "hk-prune-" + time.Now().Format("150405.000000") + ":"
	b := open(t, url, prefix, q)
	for _, d := range []string{"done", "orphan"} {
		must(t, push(t, ctx, b.Queue, coord.ClassCheck, "i", d))
	}
	pop(t, ctx, b.Queue, "pod-finished") // and acknowledged
	if e, err := b.Queue.Pop(ctx, "pod-killed"); err != nil || string(e.Data) != "orphan" {
		t.Fatalf("popped %q: %v", e.Data, err)
	}
	time.Sleep(400 * time.Millisecond)

	uo, err := coord.ParseRedisURL(url)
	must(t, err)
	c := redis.NewUniversalClient(uo)
	defer c.Close()
	consumers := func() []string {
		cs, err := c.XInfoConsumers(ctx, prefix+"{queue}:stream:0", "workers").Result()
		must(t, err)
		var names []string
		for _, x := range cs {
			names = append(names, x.Name)
		}
		slices.Sort(names)
		return names
	}
	n, err := b.Queue.Prune(ctx, 300*time.Millisecond)
	must(t, err)
	if got := consumers(); n != 1 || !slices.Equal(got, []string{"pod-killed"}) {
		t.Fatalf("pruned %d; left %v, want only pod-killed, which holds an entry", n, got)
	}
	// A live pod takes the orphan over; the dead pod's name then goes,
	// the live one's stays (it was not idle long).
	if e := pop(t, ctx, b.Queue, "pod-alive"); string(e.Data) != "orphan" || !e.Reclaimed {
		t.Fatalf("reclaimed %q (%v)", e.Data, e.Reclaimed)
	}
	n, err = b.Queue.Prune(ctx, 300*time.Millisecond)
	must(t, err)
	if got := consumers(); n != 1 || !slices.Equal(got, []string{"pod-alive"}) {
		t.Fatalf("pruned %d; left %v, want only pod-alive", n, got)
	}
	// A pruned consumer that comes back is a consumer again.
	time.Sleep(400 * time.Millisecond)
	if n, _ := b.Queue.Prune(ctx, 300*time.Millisecond); n != 1 {
		t.Fatalf("pruned %d idle consumers, want 1", n)
	}
	must(t, push(t, ctx, b.Queue, coord.ClassCheck, "i", "after"))
	if e := pop(t, ctx, b.Queue, "pod-alive"); string(e.Data) != "after" {
		t.Fatalf("after pruning popped %q", e.Data)
	}
	if got := consumers(); !slices.Equal(got, []string{"pod-alive"}) {
		t.Fatalf("consumers %v, want pod-alive back", got)
	}
}
