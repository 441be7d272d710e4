// Command load runs the built `housekeeper serve` binary over loopback
// against the GitHub emulator and prints the reliability figures
// (docs/reliability.md): a burst of webhooks, injected faults, planted
// secrets, hostile input and a SIGTERM mid-burst. Everything is bounded in
// count and time; it talks to 127.0.0.1 only.
//
//	go run ./internal/reliability/cmd/load -binary ./housekeeper
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

type options struct {
	binary       string
	phases       string
	events       int
	prs          int
	burstEvery   int
	concurrency  int
	latency      time.Duration
	workers      int
	queue        int
	contentLimit int
	pace         int
	faultEvents  int
	timeout      time.Duration
	hostileFiles int
	treeLimit    int
	only         string
}

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "", "the housekeeper binary to run (required)")
	flag.StringVar(&o.phases, "phases", "load,faults,secrets,hostile,hostile-map,bigfile,shutdown", "phases to run, comma-separated")
	flag.IntVar(&o.events, "events", 1000, "webhooks in the load burst")
	flag.IntVar(&o.prs, "prs", 400, "pull requests the burst is spread over")
	flag.IntVar(&o.burstEvery, "burst-every", 4, "every n-th PR also gets synchronize + check_suite requested + rerequested for its head SHA")
	flag.IntVar(&o.concurrency, "concurrency", 32, "clients sending at once")
	flag.DurationVar(&o.latency, "latency", 20*time.Millisecond, "emulated GitHub latency per request")
	flag.IntVar(&o.workers, "workers", 8, "the App's workers")
	flag.IntVar(&o.queue, "queue", 100, "the App's queue size")
	flag.IntVar(&o.contentLimit, "content-limit", 3000, "the emulator's content-creating requests a minute per installation")
	flag.IntVar(&o.pace, "pace", 2700, "the App's HOUSEKEEPER_CONTENT_PACE")
	flag.IntVar(&o.faultEvents, "fault-events", 200, "webhooks in the fault phase")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Minute, "bound of each phase")
	flag.IntVar(&o.hostileFiles, "hostile-files", 100_001, "files in the hostile phase's huge tree")
	flag.IntVar(&o.treeLimit, "tree-limit", 100_000, "entries the emulator lists in one tree (GitHub: 100,000); a larger tree is truncated")
	flag.StringVar(&o.only, "only", "", "in the hostile phase, only the cases whose name contains this")
	flag.Parse()
	if o.binary == "" {
		fmt.Fprintln(os.Stderr, "load: -binary is required")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	var failed []string
	for _, phase := range strings.Split(o.phases, ",") {
		start := time.Now()
		fmt.Printf("== %s\n", phase)
		var err error
		switch strings.TrimSpace(phase) {
		case "load":
			err = loadPhase(o)
		case "faults":
			err = faultPhase(o)
		case "secrets":
			err = secretsPhase(o)
		case "hostile":
			err = hostilePhase(o)
		case "hostile-map":
			err = hostileMapPhase(o)
		case "bigfile":
			err = bigfilePhase(o)
		case "shutdown":
			err = shutdownPhase(o)
		case "replicas":
			err = replicasPhase(o)
		case "fairness":
			err = fairnessPhase(o)
		case "":
			continue
		default:
			err = fmt.Errorf("unknown phase %q", phase)
		}
		fmt.Printf("%s: took %s\n", phase, time.Since(start).Round(time.Millisecond))
		if err != nil {
			fmt.Printf("%s: FAILED: %v\n", phase, err)
			failed = append(failed, phase)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("failed phases: %s", strings.Join(failed, ", "))
	}
	fmt.Println("load: all phases passed")
	return nil
}

// app is one running `housekeeper serve` process.
type app struct {
	cmd            *exec.Cmd
	base           string
	stdout, stderr *syncBuffer
	exited         chan error
	peakRSS        atomic.Int64 // KiB, VmHWM sampled
	stopSample     chan struct{}
	sampled        sync.WaitGroup
}

func start(o options, env map[string]string) (*app, error) {
	cmd := exec.Command(o.binary, "serve")
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	a := &app{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan error, 1), stopSample: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = a.stdout, a.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { a.exited <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for a.base == "" {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			return nil, fmt.Errorf("serve never listened:\n%s", a.stderr.String())
		}
		sc := bufio.NewScanner(strings.NewReader(a.stderr.String()))
		for sc.Scan() {
			var e struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &e) == nil && e.Message == "listening" {
				a.base = "http://" + e.Addr
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.sampled.Add(1)
	go a.sample()
	return a, nil
}

// sample keeps the highest resident set size seen (VmHWM is read too, at
// the end).
func (a *app) sample() {
	defer a.sampled.Done()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if kb := procStatus(a.cmd.Process.Pid, "VmHWM:"); kb > a.peakRSS.Load() {
			a.peakRSS.Store(kb)
		}
		select {
		case <-a.stopSample:
			return
		case <-t.C:
		}
	}
}

func procStatus(pid int, key string) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, key); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// stop sends SIGTERM and waits up to within for the exit.
func (a *app) stop(within time.Duration) (time.Duration, error) {
	if kb := procStatus(a.cmd.Process.Pid, "VmHWM:"); kb > a.peakRSS.Load() {
		a.peakRSS.Store(kb)
	}
	close(a.stopSample)
	a.sampled.Wait()
	start := time.Now()
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-a.exited:
		return time.Since(start), err
	case <-time.After(within):
		_ = a.cmd.Process.Kill()
		return time.Since(start), fmt.Errorf("serve did not exit within %s of SIGTERM", within)
	}
}

func (a *app) rss() string { return fmt.Sprintf("%.1f MiB", float64(a.peakRSS.Load())/1024) }

func emulator(o options, extra ...githubtest.Option) (*githubtest.Server, error) {
	opts := append([]githubtest.Option{
		githubtest.WithLatency(o.latency),
		githubtest.WithRateLimit(1_000_000), // one installation takes the whole burst
		githubtest.WithContentCreationLimit(o.contentLimit),
	}, extra...)
	return githubtest.NewServer(opts...)
}

func tuning(o options, more map[string]string) map[string]string {
	t := map[string]string{
		"HOUSEKEEPER_WORKERS":            strconv.Itoa(o.workers),
		"HOUSEKEEPER_QUEUE_SIZE":         strconv.Itoa(o.queue),
		"HOUSEKEEPER_CONTENT_PACE":       strconv.Itoa(o.pace),
		"HOUSEKEEPER_LOG_LEVEL":          "info",
		"HOUSEKEEPER_RECONCILE_INTERVAL": "2s",
		"HOUSEKEEPER_API_TIMEOUT":        "5s",
		"HOUSEKEEPER_API_MAX_WAIT":       "10s",
	}
	for k, v := range more {
		t[k] = v
	}
	return t
}

// burst sends the planned events and waits until they settle.
func burst(o options, gh *githubtest.Server, f *reliability.Fixture, a *app, events []reliability.Event, label string) (reliability.Outcome, error) {
	gh.SetWebhook(a.base+"/api/github/hook", gh.WebhookSecret())
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	sendStart := time.Now()
	sent := reliability.Send(ctx, gh, events, o.concurrency)
	sendTook := time.Since(sendStart)
	out := reliability.WaitSettled(ctx, f, sent, time.Until(deadlineOf(ctx)))
	out.Print(os.Stdout, label)
	fmt.Printf("%s: sent in %s (%.0f/s); limit hits (content creation, primary): %d\n", label, sendTook.Round(time.Millisecond),
		float64(len(sent))/sendTook.Seconds(), len(gh.LimitHits()))
	if !out.OK() {
		return out, errors.New("not every delivery completed cleanly")
	}
	return out, nil
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

func loadPhase(o options) error {
	gh, err := emulator(o)
	if err != nil {
		return err
	}
	defer gh.Close()
	f := reliability.NewFixture(gh, o.prs, 10)
	a, err := start(o, reliability.Env(gh, gh.URL, tuning(o, nil)))
	if err != nil {
		return err
	}
	out, berr := burst(o, gh, f, a, f.Plan(o.events, o.burstEvery), "load")
	took, serr := a.stop(60 * time.Second)
	fmt.Printf("load: peak RSS %s; p50 %s, p99 %s; stopped in %s\n", a.rss(), out.P50.Round(time.Millisecond), out.P99.Round(time.Millisecond), took.Round(time.Millisecond))
	if out.RefusedCompleted != out.Refused {
		berr = errors.Join(berr, fmt.Errorf("%d refused deliveries never completed", out.Refused-out.RefusedCompleted))
	}
	return errors.Join(berr, serr)
}

func faultPhase(o options) error {
	gh, err := emulator(o, githubtest.WithSeed(42), githubtest.WithFaults(
		githubtest.Fault{Kind: githubtest.FaultServerError, Rate: 0.2},
		githubtest.Fault{Kind: githubtest.FaultTimeout, Rate: 0.01},
		githubtest.Fault{Kind: githubtest.FaultSecondaryRateLimit, Rate: 0.02, RetryAfter: 2 * time.Second},
	))
	if err != nil {
		return err
	}
	defer gh.Close()
	prs := max(o.faultEvents/2, 1)
	f := reliability.NewFixture(gh, prs, 5)
	a, err := start(o, reliability.Env(gh, gh.URL, tuning(o, map[string]string{"HOUSEKEEPER_API_TIMEOUT": "1s"})))
	if err != nil {
		return err
	}
	// Half-way, the installation's tokens stop working.
	go func() {
		time.Sleep(time.Second)
		gh.ExpireTokens()
	}()
	out, berr := burst(o, gh, f, a, f.Plan(o.faultEvents, 3), "faults")
	calls := gh.Calls()
	fmt.Printf("faults: API calls %d (%d answered 5xx, %d 403/429, %d token requests); failure runs %d, each saying why\n",
		calls.Total, calls.ByStatus[502]+calls.ByStatus[503], calls.ByStatus[403]+calls.ByStatus[429],
		calls.Count("POST /app/installations/{installation_id}/access_tokens"), out.Failures)
	_, serr := a.stop(60 * time.Second)
	return errors.Join(berr, serr)
}

func secretsPhase(o options) error {
	gh, err := emulator(o)
	if err != nil {
		return err
	}
	defer gh.Close()
	f := reliability.NewFixture(gh, 0, 0)
	planted, err := reliability.Plant(30, uint64(time.Now().UnixNano()))
	if err != nil {
		return err
	}
	gh.SetBranch("acme", "infra", "leaks", gh.Branch("acme", "infra", "main"))
	gh.Push("acme", "infra", "leaks", planted.Files)
	pr := gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: "leaks"})
	f.PRs = append(f.PRs, pr)
	rec := &reliability.Recorder{Next: gh.Handler()}
	proxy := httptest.NewServer(rec)
	defer proxy.Close()
	a, err := start(o, reliability.Env(gh, proxy.URL, tuning(o, map[string]string{"HOUSEKEEPER_LOG_LEVEL": "debug"})))
	if err != nil {
		return err
	}
	gh.SetWebhook(a.base+"/api/github/hook", gh.WebhookSecret())
	ctx := context.Background()
	sent := reliability.Send(ctx, gh, []reliability.Event{{Name: "pull_request", Body: gh.PullRequestEvent("opened", "acme/infra", pr.Number), SHA: pr.HeadSHA}}, 1)
	out := reliability.WaitSettled(ctx, f, sent, time.Minute)
	for _, body := range []string{"/housekeeper help", "/housekeeper recheck", "/housekeeper ignore nosuch:0123456789abcdef because"} {
		c := gh.AddComment("acme", "infra", pr.Number, "octocat", body)
		_, _ = gh.Send(ctx, "issue_comment", gh.IssueCommentEvent("created", "acme/infra", c.ID))
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(gh.Comments("acme", "infra", pr.Number)) < 6 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	metrics := get(a.base + "/metrics")
	_, serr := a.stop(60 * time.Second)
	sources := map[string][]byte{
		"logs": []byte(a.stderr.String()), "stdout": []byte(a.stdout.String()),
		"requests to GitHub": rec.Bytes(), "metrics": metrics,
	}
	var outputs, comments, answers []byte
	annotations := 0
	for _, r := range gh.CheckRuns("acme", "infra", pr.HeadSHA) {
		outputs = append(outputs, r.Output.Title+r.Output.Summary+r.Output.Text...)
		for _, an := range r.Output.Annotations {
			outputs = append(outputs, an.Title+an.Message+an.RawDetails...)
		}
		if r.Name == reliability.NameSecrets {
			annotations = len(r.Output.Annotations)
		}
	}
	for _, c := range gh.Comments("acme", "infra", pr.Number) {
		comments = append(comments, c.Body...)
	}
	for _, d := range gh.Deliveries() {
		answers = append(answers, d.ResponseBody...)
	}
	sources["check outputs"], sources["comments"], sources["webhook answers"] = outputs, comments, answers
	total := 0
	for _, b := range sources {
		total += len(b)
	}
	hits := planted.Hits(sources)
	fmt.Printf("secrets: planted %d secrets (%d values) from %d rules; the secrets run has %d annotations; %d bytes emitted searched (logs at debug, requests to GitHub, check outputs, %d comments, webhook answers, metrics)\n",
		len(planted.Rules), len(planted.Values), len(planted.Rules), annotations, total, len(gh.Comments("acme", "infra", pr.Number)))
	fmt.Printf("secrets: secret values found: %d\n", len(hits))
	for _, h := range hits {
		fmt.Println("secrets: found", h)
	}
	var errs []error
	if len(hits) > 0 {
		errs = append(errs, fmt.Errorf("%d planted values emitted", len(hits)))
	}
	if annotations < len(planted.Rules) || !out.OK() {
		errs = append(errs, fmt.Errorf("the secrets run reported %d of %d planted secrets", annotations, len(planted.Rules)))
	}
	return errors.Join(append(errs, serr)...)
}

func get(url string) []byte {
	resp, err := http.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// shutdownPhase: SIGTERM mid-burst; serve must exit in time with nothing
// in progress; a restart redelivers what was refused and completes it.
func shutdownPhase(o options) error {
	gh, err := emulator(o)
	if err != nil {
		return err
	}
	defer gh.Close()
	f := reliability.NewFixture(gh, 60, 10)
	env := reliability.Env(gh, gh.URL, tuning(o, map[string]string{"HOUSEKEEPER_SHUTDOWN_TIMEOUT": "2s", "HOUSEKEEPER_WORKERS": "4", "HOUSEKEEPER_QUEUE_SIZE": "20"}))
	a, err := start(o, env)
	if err != nil {
		return err
	}
	gh.SetWebhook(a.base+"/api/github/hook", gh.WebhookSecret())
	done := make(chan []reliability.Sent)
	go func() { done <- reliability.Send(context.Background(), gh, f.Plan(120, 4), 1) }()
	time.Sleep(400 * time.Millisecond)
	took, serr := a.stop(30 * time.Second)
	sent := <-done
	var accepted []reliability.Sent
	for _, s := range sent {
		if s.Status == http.StatusAccepted {
			accepted = append(accepted, s)
		}
	}
	after := reliability.Assess(f, accepted)
	fmt.Printf("shutdown: SIGTERM mid-burst; exited in %s (shutdown_timeout 2s); accepted before: %d, their commits completed: %d; stuck %d, duplicates %d, failures without a reason %d\n",
		took.Round(time.Millisecond), len(accepted), after.Completed, after.Stuck, after.Duplicates, after.Unexplained)
	var errs []error
	if serr != nil {
		errs = append(errs, serr)
	}
	if after.Stuck != 0 || after.Duplicates != 0 || after.Unexplained != 0 || after.Completed != len(accepted) {
		errs = append(errs, errors.New("accepted work was left unfinished at shutdown"))
	}
	a2, err := start(o, env)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	gh.SetWebhook(a2.base+"/api/github/hook", gh.WebhookSecret())
	for i := range sent {
		if sent[i].Status == 0 {
			sent[i].Status = http.StatusServiceUnavailable // unanswered: the reconciler asks for these too
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	out := reliability.WaitSettled(ctx, f, sent, o.timeout)
	out.Print(os.Stdout, "shutdown, after restart")
	if !out.OK() {
		errs = append(errs, errors.New("not everything completed after the restart"))
	}
	_, serr = a2.stop(60 * time.Second)
	return errors.Join(append(errs, serr)...)
}

// hostilePhase: absurd but valid repositories and hostile webhooks, each
// with a clear outcome, time and memory measured.
func hostilePhase(o options) error {
	gh, err := emulator(o, githubtest.WithMaxPatchSize(4<<20), githubtest.WithTreeLimit(o.treeLimit))
	if err != nil {
		return err
	}
	defer gh.Close()
	f := reliability.NewFixture(gh, 0, 0)
	a, err := start(o, reliability.Env(gh, gh.URL, tuning(o, map[string]string{"HOUSEKEEPER_API_TIMEOUT": "60s"})))
	if err != nil {
		return err
	}
	gh.SetWebhook(a.base+"/api/github/hook", gh.WebhookSecret())
	base := gh.Branch("acme", "infra", "main")
	var errs []error

	type repoCase struct {
		name  string
		files func() map[string]string
		base  func() map[string]string // committed on the PR's base first
	}
	var bigMap strings.Builder
	bigMap.WriteString(reliability.MapMD)
	for i := range 10_000 {
		fmt.Fprintf(&bigMap, "| `area%05d/` | Area %d | L2 | ns%d |\n", i, i, i)
	}
	cases := []repoCase{
		{name: "10,000-entry map", files: func() map[string]string {
			return map[string]string{"docs/dir.md": bigMap.String(), "area00001/main.tf": "# a\n", "unlisted/main.tf": "# b\n"}
		}},
		{name: "1 MB line", files: func() map[string]string {
			// High-entropy text, a token at the very end of the line.
			var b strings.Builder
			b.WriteString("password = \"")
			for b.Len() < 1<<20 {
				b.WriteString(reliability.FakeToken(int64(b.Len()))[4:])
			}
			b.WriteString("\" token=" + reliability.FakeToken(-1) + "\n")
			return map[string]string{"apps/big/line.txt": b.String()}
		}},
		{name: "1 MB line of assignments", files: func() map[string]string {
			return map[string]string{"apps/big/env.sh": strings.Repeat("api_key=abc ", 1<<20/12) + "\n"}
		}},
		{name: "deeply nested YAML", files: func() map[string]string {
			var y strings.Builder
			for i := range 5000 {
				y.WriteString(strings.Repeat(" ", i) + "k:\n")
			}
			flow := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
			return map[string]string{"apps/deep/values.yaml": y.String(), "apps/deep/flow.yaml": "a: " + flow + "\n"}
		}},
		{name: "deeply nested config", base: func() map[string]string {
			return map[string]string{".github/housekeeper.yml": "version: 1\ndirs: " + strings.Repeat("[", 50_000) + strings.Repeat("]", 50_000) + "\n"}
		}, files: func() map[string]string { return map[string]string{"apps/cfg/main.go": "package main\n"} }},
		{name: "NUL bytes and invalid UTF-8", files: func() map[string]string {
			return map[string]string{
				"apps/bin/blob.bin":      "\x00\x01\x02token=" + reliability.FakeToken(1) + "\x00",
				"apps/bin/latin1.txt":    "caf\xe9 password = \"S3cr\xe9tV4lu3xyzQ\"\n\xff\xfe\n",
				"apps/bin/nul-in-text.c": "int x; /* \x00 */ char *k = \"" + reliability.FakeToken(2) + "\";\n",
			}
		}},
		{name: "10,000 changed files", files: func() map[string]string {
			m := map[string]string{}
			for i := range 10_000 {
				m[fmt.Sprintf("apps/many/f%05d.txt", i)] = strconv.Itoa(i) + "\n"
			}
			return m
		}},
		{name: fmt.Sprintf("%d-file tree", o.hostileFiles), base: func() map[string]string {
			m := map[string]string{}
			for i := range o.hostileFiles {
				m[fmt.Sprintf("apps/huge/d%03d/f%06d.txt", i%1000, i)] = "x\n"
			}
			return m
		}, files: func() map[string]string { return map[string]string{"apps/huge/new/main.go": "package main\n"} }},
	}
	for i, c := range cases {
		if o.only != "" && !strings.Contains(c.name, o.only) {
			continue
		}
		branch := fmt.Sprintf("hostile-%d", i)
		baseBranch := "main"
		if c.base != nil {
			baseBranch = branch + "-base"
			gh.SetBranch("acme", "infra", baseBranch, base)
			gh.Push("acme", "infra", baseBranch, c.base())
		}
		gh.SetBranch("acme", "infra", branch, gh.Branch("acme", "infra", baseBranch))
		gh.Push("acme", "infra", branch, c.files())
		pr := gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: branch, Base: baseBranch})
		f.PRs = append(f.PRs, pr)
		before := a.peakRSS.Load()
		startT := time.Now()
		sent := reliability.Send(context.Background(), gh, []reliability.Event{{Name: "pull_request", Body: gh.PullRequestEvent("opened", "acme/infra", pr.Number), SHA: pr.HeadSHA}}, 1)
		out := reliability.WaitSettled(context.Background(), f, sent, 2*time.Minute)
		took := time.Since(startT)
		var concl []string
		for _, r := range gh.CheckRuns("acme", "infra", pr.HeadSHA) {
			concl = append(concl, fmt.Sprintf("%s %s %q", strings.TrimPrefix(r.Name, "housekeeper/"), r.Conclusion, r.Output.Title))
			if _, why, ok := strings.Cut(r.Output.Summary, "**Why:** "); ok {
				why, _, _ = strings.Cut(why, "\n")
				concl = append(concl, "why: "+why)
			}
		}
		fmt.Printf("hostile: %-30s %7s  peak RSS %s (before %.1f MiB)  %s\n", c.name, took.Round(time.Millisecond), a.rss(), float64(before)/1024, strings.Join(concl, "; "))
		if !out.OK() {
			errs = append(errs, fmt.Errorf("%s: no clear outcome", c.name))
		}
	}

	// Hostile webhooks.
	valid := gh.PullRequestEvent("opened", "acme/infra", f.PRs[0].Number)
	manyKeys := &bytes.Buffer{}
	manyKeys.WriteString(`{"action":"opened","x":{`)
	for i := range 10_000 {
		if i > 0 {
			manyKeys.WriteByte(',')
		}
		fmt.Fprintf(manyKeys, `"k%d":%d`, i, i)
	}
	manyKeys.WriteString(`}}`)
	hooks := []struct {
		name, event, contentType string
		body                     []byte
		sign                     bool
		want                     int
	}{
		{"no signature", "pull_request", "application/json", valid, false, 400},
		{"malformed JSON", "pull_request", "application/json", []byte(`{"action":`), true, 400},
		{"form encoded", "pull_request", "application/x-www-form-urlencoded", append([]byte("payload="), valid...), true, 400},
		{"over 25 MiB", "pull_request", "application/json", append([]byte(`{"a":"`), append(bytes.Repeat([]byte("x"), 25<<20), '"', '}')...), true, 413},
		{"unknown event", "star", "application/json", []byte(`{"action":"created"}`), true, 202},
		{"10,000-key object", "pull_request", "application/json", manyKeys.Bytes(), true, 202},
		{"deep JSON", "pull_request", "application/json", []byte(strings.Repeat("[", 1_000_000) + strings.Repeat("]", 1_000_000)), true, 400},
		{"NUL and invalid UTF-8", "pull_request", "application/json", []byte("{\"action\":\"opened\\u0000\xff\"}"), true, 202},
	}
	for _, h := range hooks {
		req, _ := http.NewRequest(http.MethodPost, a.base+"/api/github/hook", bytes.NewReader(h.body))
		req.Header.Set("Content-Type", h.contentType)
		req.Header.Set("X-GitHub-Event", h.event)
		req.Header.Set("X-GitHub-Delivery", "hostile-"+strconv.Itoa(len(h.name)))
		if h.sign {
			req.Header.Set("X-Hub-Signature-256", githubtest.SignatureSHA256(gh.WebhookSecret(), h.body))
		}
		startT := time.Now()
		resp, err := http.DefaultClient.Do(req)
		status := 0
		if err == nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
		fmt.Printf("hostile: webhook %-24s %3d in %s (want %d)\n", h.name, status, time.Since(startT).Round(time.Microsecond), h.want)
		if status != h.want {
			errs = append(errs, fmt.Errorf("webhook %s: %d, want %d", h.name, status, h.want))
		}
	}
	took, serr := a.stop(60 * time.Second)
	fmt.Printf("hostile: peak RSS %s over the phase; stopped in %s\n", a.rss(), took.Round(time.Millisecond))
	return errors.Join(append(errs, serr)...)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
