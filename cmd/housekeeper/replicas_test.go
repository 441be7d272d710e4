package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/redistest"
	"github.com/housekeeper-app/housekeeper/internal/reliability"
)

// replica is one `housekeeper serve` process of the built binary.
type replica struct {
	name   string
	cmd    *exec.Cmd
	base   string
	stderr *lockedBuffer
	exited chan struct{}
	dead   atomic.Bool
}

func startReplica(t *testing.T, bin, name string, env map[string]string) *replica {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	r := &replica{name: name, cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = io.Discard, r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-r.exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for r.base == "" {
		if time.Now().After(deadline) {
			t.Fatalf("%s never listened:\n%s", name, r.stderr.String())
		}
		for _, e := range r.logs() {
			if e.Message == "listening" {
				r.base = "http://" + e.Addr
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

type logLine struct {
	AtMS    int64  `json:"at_ms"`
	Message string `json:"message"`
	Addr    string `json:"addr"`
	Role    string `json:"role"`
	Leading bool   `json:"leading"`
}

func (r *replica) logs() []logLine {
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(r.stderr.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			out = append(out, l)
		}
	}
	return out
}

func (r *replica) kill() {
	r.dead.Store(true)
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.exited
}

// post sends a delivery as GitHub signed it (same headers, same GUID).
func post(url string, header http.Header, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestReplicas runs three replicas of the built binary against the
// emulator and one Redis: 600 deliveries round-robin (PRs opened, pushed
// to again and again, commands, and deliveries whose GUID goes to two
// replicas), one replica SIGKILLed mid-burst and Redis restarted once.
// Afterwards every PR has exactly one completed run per name on its final
// head, none is left in progress, every command has exactly one reply,
// and the reconciler led on one replica at a time.
func TestReplicas(t *testing.T) {
	rs := redistest.Start(t)
	if testing.Short() {
		t.Skip("builds the binary and runs three replicas")
	}
	bin := filepath.Join(t.TempDir(), "housekeeper")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	gh := githubtest.New(t, githubtest.WithLatency(2*time.Millisecond), githubtest.WithContentCreationLimit(1_000_000), githubtest.WithRateLimit(1_000_000))
	const prs, rounds = 50, 9
	f := reliability.NewFixture(gh, prs, 0)
	repo := f.Owner + "/" + f.Repo

	env := reliability.Env(gh, gh.URL, map[string]string{
		"HOUSEKEEPER_REDIS_URL":                  rs.URL(),
		"HOUSEKEEPER_REDIS_PREFIX":               "replicas-test:",
		"HOUSEKEEPER_WORKERS":                    "4",
		"HOUSEKEEPER_QUEUE_SIZE":                 "1000",
		"HOUSEKEEPER_QUEUE_SHARE":                "100", // one installation sends everything
		"HOUSEKEEPER_RECLAIM_IDLE":               "3s",
		"HOUSEKEEPER_RECONCILE_INTERVAL":         "2s",
		"HOUSEKEEPER_LOG_LEVEL":                  "info",
		"HOUSEKEEPER_COMMAND_LIMIT_USER":         "0",
		"HOUSEKEEPER_COMMAND_LIMIT_INSTALLATION": "0",
	})
	var reps []*replica
	for i := range 3 {
		reps = append(reps, startReplica(t, bin, fmt.Sprintf("replica-%d", i), env))
	}
	// GitHub's redeliveries (asked by the reconciler) go through a
	// Service-like front that round-robins over the live replicas.
	var rr atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		for range len(reps) {
			rep := reps[int(rr.Add(1))%len(reps)]
			if rep.dead.Load() {
				continue
			}
			code, err := post(rep.base+r.URL.Path, r.Header, body)
			if err != nil {
				continue
			}
			w.WriteHeader(code)
			return
		}
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer front.Close()
	gh.SetWebhook(front.URL+"/api/github/hook", gh.WebhookSecret())

	// next picks the next live replica, round-robin.
	var turn atomic.Int64
	next := func() *replica {
		for {
			if rep := reps[int(turn.Add(1))%len(reps)]; !rep.dead.Load() {
				return rep
			}
		}
	}
	type job struct {
		event string
		body  []byte
		twice bool // the same GUID to two replicas
	}
	// The plan: each PR opened; then rounds of a push and its
	// synchronize; one command per PR and every 10th PR event, sent twice.
	var plan []job
	for _, pr := range f.PRs {
		plan = append(plan, job{event: "pull_request", body: gh.PullRequestEvent("opened", repo, pr.Number)})
	}
	commentIDs := map[int64]int{}
	heads := map[int][]string{} // every head each PR had, the final last
	for _, pr := range f.PRs {
		heads[pr.Number] = []string{pr.HeadSHA}
	}
	for round := range rounds {
		for i, pr := range f.PRs {
			sha := gh.Push(f.Owner, f.Repo, fmt.Sprintf("pr-%d", i), map[string]string{
				fmt.Sprintf("apps/app%d/round.go", i): fmt.Sprintf("package main\n\nconst round = %d\n", round),
			})
			heads[pr.Number] = append(heads[pr.Number], sha)
			plan = append(plan, job{event: "pull_request", body: gh.PullRequestEvent("synchronize", repo, pr.Number), twice: round == 0 && i%2 == 0})
		}
	}
	for i, pr := range f.PRs {
		c := gh.AddComment(f.Owner, f.Repo, pr.Number, fmt.Sprintf("user%d", i%5), "/housekeeper help")
		commentIDs[c.ID] = pr.Number
		plan = append(plan, job{event: "issue_comment", body: gh.IssueCommentEvent("created", repo, c.ID), twice: i%2 == 0})
	}
	twice := 0
	for _, j := range plan {
		if j.twice {
			twice++
		}
	}
	t.Logf("plan: %d deliveries (%d of them also sent to a second replica with the same GUID)", len(plan)+twice, twice)

	// leading is the replica leading the reconciler now, by the logs.
	leading := func() int {
		who, at := -1, int64(0)
		for i, rep := range reps {
			for _, l := range rep.logs() {
				if l.Message == "leadership changed" && l.Role == "reconciler" && l.AtMS >= at {
					at = l.AtMS
					who = i
					if !l.Leading {
						who = -1
					}
				}
			}
		}
		return who
	}

	// The burst, from 16 clients; a third of the way in the reconciler's
	// leader is SIGKILLed, two thirds of the way in Redis is restarted.
	var sent atomic.Int64
	var mu sync.Mutex
	var status []int
	work := make(chan job)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				rep := next()
				d, err := gh.Deliver(context.Background(), rep.base+"/api/github/hook", j.event, j.body, gh.WebhookSecret())
				codes := []int{d.StatusCode}
				if err == nil && j.twice {
					other := next()
					code, _ := post(other.base+"/api/github/hook", d.RequestHeader, j.body)
					codes = append(codes, code)
				}
				sent.Add(1)
				mu.Lock()
				status = append(status, codes...)
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	var killAt time.Time
	killed := 2
	for i, j := range plan {
		switch i {
		case len(plan) / 3:
			if l := leading(); l >= 0 {
				killed = l
			}
			killAt = time.Now()
			reps[killed].kill()
			t.Logf("SIGKILLed %s (the reconciler's leader: %v) after %d deliveries", reps[killed].name, leading() == killed, sent.Load())
		case 2 * len(plan) / 3:
			rs.Restart()
			t.Logf("restarted Redis after %d deliveries", sent.Load())
		}
		work <- j
	}
	close(work)
	wg.Wait()
	t.Logf("sent in %s", time.Since(start).Round(time.Millisecond))
	counts := map[int]int{}
	for _, c := range status {
		counts[c]++
	}
	t.Logf("answers: %v", counts)

	// Settle: every PR's final head has both runs completed, once each;
	// no run anywhere is in progress.
	var problems []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		problems = problems[:0]
		for n, hs := range heads {
			sha := hs[len(hs)-1]
			byName := map[string]int{}
			for _, r := range gh.CheckRuns(f.Owner, f.Repo, sha) {
				if r.Status == "completed" {
					byName[r.Name]++
				}
			}
			for _, name := range []string{reliability.NameDirs, reliability.NameSecrets} {
				if byName[name] != 1 {
					problems = append(problems, fmt.Sprintf("#%d %.7s: %d completed %s runs", n, sha, byName[name], name))
				}
			}
		}
		for c, n := range commentIDs {
			replies := 0
			for _, cm := range gh.Comments(f.Owner, f.Repo, n) {
				if cm.ViaApp && strings.Contains(cm.Body, fmt.Sprintf("reply-to %d\"", c)) {
					replies++
				}
			}
			if replies != 1 {
				problems = append(problems, fmt.Sprintf("comment %d on #%d: %d replies", c, n, replies))
			}
		}
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("settled %s after the burst began", time.Since(start).Round(time.Millisecond))
	// Nothing stuck, on any commit of any PR (earlier heads too).
	stuck := 0
	for _, hs := range heads {
		for _, sha := range hs {
			for _, r := range gh.CheckRuns(f.Owner, f.Repo, sha) {
				if r.Status != "completed" {
					stuck++
				}
			}
		}
	}
	if stuck > 0 {
		problems = append(problems, fmt.Sprintf("%d runs left in progress", stuck))
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		if len(problems) > 20 {
			problems = append(problems[:20], fmt.Sprintf("… %d more", len(problems)-20))
		}
		t.Errorf("after the burst:\n%s", strings.Join(problems, "\n"))
		if dir := os.Getenv("HOUSEKEEPER_TEST_LOGS"); dir != "" {
			for _, rep := range reps {
				_ = os.WriteFile(filepath.Join(dir, rep.name+".log"), []byte(rep.stderr.String()), 0o644)
			}
		}
	}

	// The killed leader's role is taken over within 30 s.
	for l := leading(); l < 0 || l == killed; l = leading() {
		if time.Since(killAt) > 30*time.Second {
			t.Errorf("no replica took over the reconciler within 30 s of its leader's SIGKILL")
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The reconciler led on one replica at a time: each gain comes after
	// the previous leader said it lost the lease, or after it was killed.
	type change struct {
		at      int64
		replica int
		leading bool
	}
	var changes []change
	reclaimed := 0
	for i, rep := range reps {
		for _, l := range rep.logs() {
			if l.Message == "leadership changed" && l.Role == "reconciler" {
				changes = append(changes, change{l.AtMS, i, l.Leading})
			}
			if l.Message == "delivery taken over from a replica that stopped working on it" {
				reclaimed++
			}
		}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].at < changes[j].at })
	leader := -1
	gains := 0
	var failover time.Duration
	for _, c := range changes {
		switch {
		case c.leading && leader >= 0 && !(leader == killed && c.at >= killAt.UnixMilli()):
			t.Errorf("replica-%d became the reconciler's leader at %d ms while replica-%d led", c.replica, c.at, leader)
		case c.leading:
			if leader == killed && failover == 0 {
				failover = time.Duration(c.at-killAt.UnixMilli()) * time.Millisecond
			}
			leader = c.replica
			gains++
		case c.replica == leader:
			leader = -1
		}
	}
	if gains == 0 {
		t.Error("no replica ever led the reconciler")
	}
	if failover > 30*time.Second {
		t.Errorf("the reconciler's failover took %s, more than 30 s", failover)
	}
	t.Logf("reconciler leadership gained %d times (failover after the leader's SIGKILL: %s); %d deliveries reclaimed from the killed replica", gains, failover, reclaimed)
}

// TestDeferredRunSurvivesReplicaDeath: a check that one replica could not
// complete (the installation's hourly limit used up, resetting after the
// App's longest wait) is deferred into Redis; that replica is SIGKILLed,
// and another, started only afterwards, runs the check at the reset —
// through the built binary, the real queue and the real deferral.
func TestDeferredRunSurvivesReplicaDeath(t *testing.T) {
	url := redistest.URL(t)
	if testing.Short() {
		t.Skip("builds the binary and runs two replicas")
	}
	bin := filepath.Join(t.TempDir(), "housekeeper")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	var mu sync.Mutex
	var shift time.Duration
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(shift) }
	gh := githubtest.New(t, githubtest.WithClock(clock))
	f := reliability.NewFixture(gh, 1, 0)
	pr := f.PRs[0]
	// The installation's window opened almost an hour ago: used up,
	// resetting in 12 s, well past the App's 1 s wait for a limit.
	mu.Lock()
	shift = -time.Hour + 12*time.Second
	mu.Unlock()
	gh.ExhaustRateLimit(f.Inst)
	mu.Lock()
	shift = 0
	mu.Unlock()
	env := reliability.Env(gh, gh.URL, map[string]string{
		"HOUSEKEEPER_REDIS_URL":          url,
		"HOUSEKEEPER_REDIS_PREFIX":       fmt.Sprintf("deferred-test-%d:", time.Now().UnixNano()),
		"HOUSEKEEPER_API_MAX_WAIT":       "1s",
		"HOUSEKEEPER_RECONCILE_INTERVAL": "0",
		"HOUSEKEEPER_LOG_LEVEL":          "info",
	})

	a := startReplica(t, bin, "replica-a", env)
	d, err := gh.Deliver(context.Background(), a.base+"/api/github/hook", "pull_request",
		gh.PullRequestEvent("opened", f.Owner+"/"+f.Repo, pr.Number), gh.WebhookSecret())
	if err != nil || d.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery: %v, status %d", err, d.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(a.stderr.String(), "running the check again later") || !strings.Contains(a.stderr.String(), "delivery handled") {
		if time.Now().After(deadline) {
			t.Fatalf("replica-a never deferred the check:\n%s", a.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.kill()
	completed := func() map[string]string {
		out := map[string]string{}
		for _, r := range gh.CheckRuns(f.Owner, f.Repo, pr.HeadSHA) {
			if r.Status == "completed" {
				out[r.Name] = r.Conclusion
			}
		}
		return out
	}
	if c := completed(); len(c) != 0 {
		t.Fatalf("runs completed before the reset: %v", c)
	}

	b := startReplica(t, bin, "replica-b", env)
	deadline = time.Now().Add(45 * time.Second)
	for len(completed()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the deferred check never ran; runs %v\nreplica-b:\n%s", completed(), b.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c := completed(); c[reliability.NameDirs] != "success" || c[reliability.NameSecrets] != "success" {
		t.Errorf("runs after the reset: %v, want both successes", c)
	}
	logs := b.stderr.String()
	if !strings.Contains(logs, "running a deferred check again") {
		t.Errorf("replica-b completed the runs, but not as the deferred check:\n%s", logs)
	}
	if strings.Contains(logs, "delivery taken over") {
		t.Errorf("replica-b took the delivery over instead of running the deferred check:\n%s", logs)
	}
	for _, r := range gh.CheckRuns(f.Owner, f.Repo, pr.HeadSHA) {
		if r.Status != "completed" {
			t.Errorf("%s left %s", r.Name, r.Status)
		}
	}
}
