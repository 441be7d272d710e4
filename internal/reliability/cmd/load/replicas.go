package main

// The replicas phase (docs/reliability.md, "Several replicas"): throughput
// with one replica in memory and three on Redis, Redis round trips per
// event, the leader's failover, and what a SIGKILLed replica and a Redis
// restart cost. It runs Debian's redis-server on a loopback port.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/reliability"
)

// redisProc is a redis-server this driver started (AOF on, as in
// production).
type redisProc struct {
	cmd  *exec.Cmd
	port int
	dir  string
}

func startRedis() (*redisProc, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, err := os.MkdirTemp("", "housekeeper-redis-")
	if err != nil {
		return nil, err
	}
	r := &redisProc{port: port, dir: dir}
	return r, r.start()
}

func (r *redisProc) start() error {
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--protected-mode", "no")
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server (apt-get install redis-server): %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", r.addr()); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("redis-server did not listen")
}

func (r *redisProc) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }
func (r *redisProc) url() string  { return "redis://" + r.addr() }

func (r *redisProc) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		_ = r.cmd.Wait()
	}
}

func (r *redisProc) close() {
	r.kill()
	_ = os.RemoveAll(r.dir)
}

// fleet is several replicas of serve behind a round-robin front.
type fleet struct {
	apps  []*app
	dead  []atomic.Bool
	turn  atomic.Int64
	front *http.Server
	url   string
}

func startFleet(o options, n int, env map[string]string) (*fleet, error) {
	fl := &fleet{dead: make([]atomic.Bool, n)}
	for range n {
		a, err := start(o, env)
		if err != nil {
			fl.stop()
			return nil, err
		}
		fl.apps = append(fl.apps, a)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fl.stop()
		return nil, err
	}
	fl.url = "http://" + ln.Addr().String()
	fl.front = &http.Server{Handler: http.HandlerFunc(fl.forward), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = fl.front.Serve(ln) }()
	return fl, nil
}

// forward sends a webhook to the next live replica, as a Service would.
func (fl *fleet) forward(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	for range len(fl.apps) {
		i := int(fl.turn.Add(1)) % len(fl.apps)
		if fl.dead[i].Load() {
			continue
		}
		req, _ := http.NewRequest(r.Method, fl.apps[i].base+r.URL.Path, strings.NewReader(string(body)))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		return
	}
	w.WriteHeader(http.StatusBadGateway)
}

func (fl *fleet) kill(i int) time.Time {
	fl.dead[i].Store(true)
	at := time.Now()
	_ = fl.apps[i].cmd.Process.Signal(syscall.SIGKILL)
	<-fl.apps[i].exited
	return at
}

func (fl *fleet) stop() {
	if fl.front != nil {
		_ = fl.front.Close()
	}
	for i, a := range fl.apps {
		if !fl.dead[i].Load() {
			_, _ = a.stop(30 * time.Second)
		}
	}
}

// logLines decodes a replica's JSON log.
func logLines(a *app) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(a.stderr.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func countLogs(fl *fleet, message string) int {
	n := 0
	for _, a := range fl.apps {
		for _, l := range logLines(a) {
			if l["message"] == message {
				n++
			}
		}
	}
	return n
}

// metricSum adds a metric's samples over the live replicas' /metrics.
func metricSum(fl *fleet, name string) float64 {
	total := 0.0
	for i, a := range fl.apps {
		if fl.dead[i].Load() {
			continue
		}
		for _, line := range strings.Split(string(get(a.base+"/metrics")), "\n") {
			if !strings.HasPrefix(line, name) || strings.HasPrefix(line, "#") {
				continue
			}
			f := strings.Fields(line)
			if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
				total += v
			}
		}
	}
	return total
}

// installations sets up n installations of one repository each, with prs
// pull requests per repository.
func installations(gh *githubtest.Server, n, prs int) []*reliability.Fixture {
	var fs []*reliability.Fixture
	for i := range n {
		owner := fmt.Sprintf("org%d", i)
		f := &reliability.Fixture{GH: gh, Owner: owner, Repo: "infra"}
		gh.AddOrg(owner)
		gh.AddRepo(githubtest.Repo{Owner: owner, Name: "infra"})
		f.Inst = gh.AddInstallation(githubtest.Installation{Account: owner, Repos: []string{owner + "/infra"}})
		base := gh.Push(owner, "infra", "main", map[string]string{"docs/dir.md": reliability.MapMD, "apps/base/main.go": "package main\n"})
		for j := range prs {
			branch := fmt.Sprintf("pr-%d", j)
			gh.SetBranch(owner, "infra", branch, base)
			gh.Push(owner, "infra", branch, map[string]string{fmt.Sprintf("apps/app%d/main.go", j): "package main\n"})
			f.PRs = append(f.PRs, gh.OpenPullRequest(githubtest.PullRequest{Owner: owner, Repo: "infra", Head: branch, Title: branch}))
		}
		fs = append(fs, f)
	}
	return fs
}

// openedEvents interleaves the installations' pull_request.opened events.
func openedEvents(gh *githubtest.Server, fs []*reliability.Fixture) ([]reliability.Event, map[*reliability.Fixture][]reliability.Event) {
	var all []reliability.Event
	per := map[*reliability.Fixture][]reliability.Event{}
	for j := 0; ; j++ {
		added := false
		for _, f := range fs {
			if j < len(f.PRs) {
				pr := f.PRs[j]
				e := reliability.Event{Name: "pull_request", Body: gh.PullRequestEvent("opened", f.Owner+"/"+f.Repo, pr.Number), SHA: pr.HeadSHA}
				all = append(all, e)
				per[f] = append(per[f], e)
				added = true
			}
		}
		if !added {
			return all, per
		}
	}
}

// settle waits until every fixture's PR heads have both runs completed;
// it returns when, and the number of completed runs.
func settle(fs []*reliability.Fixture, timeout time.Duration) (time.Time, int, error) {
	deadline := time.Now().Add(timeout)
	for {
		done, runs := true, 0
		last := time.Time{}
		for _, f := range fs {
			for _, pr := range f.PRs {
				byName := map[string]bool{}
				for _, r := range f.GH.CheckRuns(f.Owner, f.Repo, pr.HeadSHA) {
					if r.Status == "completed" {
						byName[r.Name] = true
						runs++
						if r.CompletedAt.After(last) {
							last = r.CompletedAt
						}
					}
				}
				if !byName[reliability.NameDirs] || !byName[reliability.NameSecrets] {
					done = false
				}
			}
		}
		if done {
			return last, runs, nil
		}
		if time.Now().After(deadline) {
			return last, runs, fmt.Errorf("not settled after %s", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// throughput sends every installation's PRs through n replicas and prints
// completed checks a minute; with Redis, also round trips per event.
func throughput(o options, n int, redisURL string) error {
	gh, err := emulator(o)
	if err != nil {
		return err
	}
	defer gh.Close()
	fs := installations(gh, 10, o.events/10)
	more := map[string]string{"HOUSEKEEPER_QUEUE_SIZE": "1000"}
	label := fmt.Sprintf("replicas: %d replica(s), in memory", n)
	if redisURL != "" {
		more["HOUSEKEEPER_REDIS_URL"] = redisURL
		more["HOUSEKEEPER_REDIS_PREFIX"] = fmt.Sprintf("load-%d-%d:", n, time.Now().UnixNano())
		label = fmt.Sprintf("replicas: %d replica(s), Redis", n)
	}
	fl, err := startFleet(o, n, reliability.Env(gh, gh.URL, tuning(o, more)))
	if err != nil {
		return err
	}
	defer fl.stop()
	gh.SetWebhook(fl.url+"/api/github/hook", gh.WebhookSecret())
	events, _ := openedEvents(gh, fs)
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	start := time.Now()
	reliability.Send(ctx, gh, events, o.concurrency)
	last, runs, err := settle(fs, time.Until(deadlineOf(ctx)))
	if err != nil {
		return err
	}
	took := last.Sub(start)
	fmt.Printf("%s: %d PR events over 10 installations, %d runs completed in %s: %.0f completed checks a minute\n",
		label, len(events), runs, took.Round(time.Millisecond), float64(runs)/took.Minutes())
	if redisURL != "" {
		ops := metricSum(fl, "housekeeper_redis_operations_total")
		fmt.Printf("%s: %.0f Redis round trips for %d events: %.1f per PR event (all replicas, queue polling included)\n", label, ops, len(events), ops/float64(len(events)))
	}
	return nil
}

// failover kills the reconciler's leader and times the takeover; then a
// burst with one replica SIGKILLed and, in another, Redis restarted.
func failover(o options, rd *redisProc) error {
	gh, err := emulator(o)
	if err != nil {
		return err
	}
	defer gh.Close()
	fs := installations(gh, 10, o.events/10)
	env := reliability.Env(gh, gh.URL, tuning(o, map[string]string{
		"HOUSEKEEPER_QUEUE_SIZE": "1000", "HOUSEKEEPER_REDIS_URL": rd.url(),
		"HOUSEKEEPER_REDIS_PREFIX": fmt.Sprintf("failover-%d:", time.Now().UnixNano()),
	}))
	fl, err := startFleet(o, 3, env)
	if err != nil {
		return err
	}
	defer fl.stop()
	gh.SetWebhook(fl.url+"/api/github/hook", gh.WebhookSecret())

	leader := func() (int, int64) {
		who, at := -1, int64(0)
		for i, a := range fl.apps {
			for _, l := range logLines(a) {
				if l["message"] != "leadership changed" || l["role"] != "reconciler" {
					continue
				}
				if ms, _ := l["at_ms"].(float64); int64(ms) >= at {
					at, who = int64(ms), i
					if l["leading"] != true {
						who = -1
					}
				}
			}
		}
		return who, at
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if l, _ := leader(); l >= 0 {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("no leader after 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A burst, the leader SIGKILLed a third of the way in.
	events, _ := openedEvents(gh, fs)
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	start := time.Now()
	var killedAt time.Time
	killed, _ := leader()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil && metricSum(fl, "housekeeper_check_conclusions_total") < float64(len(events))*2/3 {
			time.Sleep(20 * time.Millisecond)
		}
		killedAt = fl.kill(killed)
	}()
	reliability.Send(ctx, gh, events, o.concurrency)
	wg.Wait()
	var took time.Duration
	for {
		l, at := leader()
		if l >= 0 && l != killed {
			took = time.UnixMilli(at).Sub(killedAt)
			break
		}
		if time.Now().After(killedAt.Add(60 * time.Second)) {
			return errors.New("no new leader within 60 s of the leader's SIGKILL")
		}
		time.Sleep(100 * time.Millisecond)
	}
	last, _, err := settle(fs, time.Until(deadlineOf(ctx)))
	if err != nil {
		return err
	}
	published := countLogs(fl, "checks published")
	fmt.Printf("replicas: leader failover: the reconciler's leader SIGKILLed, another replica led %s later (lease 15 s, renewed every 5 s)\n", took.Round(time.Millisecond))
	fmt.Printf("replicas: SIGKILL mid-burst: %d PR events settled in %s; %d deliveries reclaimed from the dead replica (after reclaim_idle, 30 s); %d commits checked for %d (%d checked twice: reclaimed work the dead replica had already published)\n",
		len(events), last.Sub(start).Round(time.Millisecond), countLogs(fl, "delivery taken over from a replica that stopped working on it"),
		published, len(events), max(published-len(events), 0))

	// Redis restarted mid-burst: every PR pushed to again.
	var sync2 []reliability.Event
	for _, f := range fs {
		for j, pr := range f.PRs {
			gh.Push(f.Owner, f.Repo, fmt.Sprintf("pr-%d", j), map[string]string{"apps/again.go": "package main\n"})
			body := gh.PullRequestEvent("synchronize", f.Owner+"/"+f.Repo, pr.Number)
			p, _ := gh.GetPullRequest(f.Owner, f.Repo, pr.Number)
			f.PRs[j].HeadSHA = p.HeadSHA
			sync2 = append(sync2, reliability.Event{Name: "pull_request", Body: body, SHA: p.HeadSHA})
		}
	}
	before503 := metricSum(fl, `housekeeper_webhook_refused_total{reason="coordination"}`)
	start = time.Now()
	go func() {
		time.Sleep(300 * time.Millisecond)
		time.Sleep(time.Second) // the every-second fsync
		rd.kill()
		if err := rd.start(); err != nil {
			fmt.Println("replicas: restart Redis:", err)
		}
	}()
	reliability.Send(ctx, gh, sync2, o.concurrency)
	last, _, err = settle(fs, time.Until(deadlineOf(ctx)))
	if err != nil {
		return err
	}
	fmt.Printf("replicas: Redis restarted mid-burst: %d PR events settled in %s; %.0f deliveries refused with 503 while it was away (redelivered by the reconciler)\n",
		len(sync2), last.Sub(start).Round(time.Millisecond), metricSum(fl, `housekeeper_webhook_refused_total{reason="coordination"}`)-before503)
	return nil
}

func replicasPhase(o options) error {
	rd, err := startRedis()
	if err != nil {
		return err
	}
	defer rd.close()
	return errors.Join(
		throughput(o, 1, ""),
		throughput(o, 1, rd.url()),
		throughput(o, 3, rd.url()),
		failover(o, rd),
	)
}
