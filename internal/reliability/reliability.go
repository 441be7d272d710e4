// Package reliability drives the real `housekeeper serve` over loopback
// against the GitHub emulator and checks what a user would see in the end:
// every accepted or redelivered delivery's commit has both check runs
// completed, none stuck in progress, none duplicated, every failure says
// why, and no planted secret value appears in anything the App emitted.
//
// The Go tests (cmd/housekeeper/reliability_test.go) start serve
// in-process; the load driver (cmd/load, scripts/load.sh) runs the built
// binary and also measures its peak RSS.
package reliability

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

// Check-run names, as branch protection requires them.
const (
	NameDirs    = "housekeeper/dirs"
	NameSecrets = "housekeeper/secrets"
)

// Env is the environment that points `housekeeper serve` at the emulator
// (apiURL: the emulator's, or a recording proxy in front of it), merged
// with tuning (HOUSEKEEPER_* values).
func Env(gh *githubtest.Server, apiURL string, tuning map[string]string) map[string]string {
	env := map[string]string{
		"GITHUB_APP_INTEGRATION_ID":      strconv.FormatInt(gh.AppID(), 10),
		"GITHUB_APP_PRIVATE_KEY":         string(gh.AppPrivateKeyPEM()),
		"GITHUB_APP_PRIVATE_KEY_PATH":    "",
		"GITHUB_APP_WEBHOOK_SECRET":      gh.WebhookSecret(),
		"GITHUB_APP_WEBHOOK_SECRET_PATH": "",
		"GITHUB_V3_API_URL":              strings.TrimSuffix(apiURL, "/") + "/",
		"HOUSEKEEPER_CONFIG":             "",
		"HOUSEKEEPER_ADDR":               "127.0.0.1:0",
		"HOUSEKEEPER_CONTENT_PACE":       "0",
		"HOUSEKEEPER_LOG_LEVEL":          "debug",
		"HOUSEKEEPER_LOG_FORMAT":         "json",
		"HOUSEKEEPER_API_TIMEOUT":        "2s",
		"HOUSEKEEPER_API_MAX_WAIT":       "5s",
		"HOUSEKEEPER_RECONCILE_INTERVAL": "1s",
		"HOUSEKEEPER_SHUTDOWN_TIMEOUT":   "20s",
	}
	for k, v := range tuning {
		env[k] = v
	}
	return env
}

// MapMD registers every directory the fixtures' pull requests add.
const MapMD = "# Map\n\n| Path | Function | Layer | Namespace |\n|---|---|---|---|\n" +
	"| `apps/` | Applications | L99 | - |\n| `apps/*/` | One app | L99 | apps |\n| `docs/` | Docs | - | - |\n| `leaks/` | Test leaks | - | - |\n| `leaks/**/` | Test leaks | - | - |\n"

// Fixture is one repository with pull requests, installed for the App.
type Fixture struct {
	GH          *githubtest.Server
	Owner, Repo string
	Inst        int64
	PRs         []githubtest.PullRequest
}

// NewFixture sets up acme/infra with n pull requests, each adding one app;
// every leakEvery-th (0: none) also commits a token, so its secrets run
// fails.
func NewFixture(gh *githubtest.Server, n, leakEvery int) *Fixture {
	f := &Fixture{GH: gh, Owner: "acme", Repo: "infra"}
	gh.AddOrg(f.Owner)
	gh.AddRepo(githubtest.Repo{Owner: f.Owner, Name: f.Repo})
	f.Inst = gh.AddInstallation(githubtest.Installation{Account: f.Owner, Repos: []string{f.Owner + "/" + f.Repo}})
	base := gh.Push(f.Owner, f.Repo, "main", map[string]string{"docs/dir.md": MapMD, "apps/base/main.go": "package main\n"})
	for i := range n {
		branch := fmt.Sprintf("pr-%d", i)
		gh.SetBranch(f.Owner, f.Repo, branch, base)
		files := map[string]string{fmt.Sprintf("apps/app%d/main.go", i): fmt.Sprintf("package main\n\nconst n = %d\n", i)}
		if leakEvery > 0 && i%leakEvery == 0 {
			files[fmt.Sprintf("apps/app%d/deploy.sh", i)] = "#!/bin/sh\nexport GITHUB_TOKEN=" + FakeToken(int64(i)) + "\n"
		}
		gh.Push(f.Owner, f.Repo, branch, files)
		f.PRs = append(f.PRs, gh.OpenPullRequest(githubtest.PullRequest{Owner: f.Owner, Repo: f.Repo, Head: branch, Title: branch}))
	}
	return f
}

// FakeToken builds a GitHub-token-shaped value at run time, so nothing in
// the repository looks like a credential.
func FakeToken(seed int64) string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	x := uint64(seed)*6364136223846793005 + 1442695040888963407
	b := []byte("gh" + "p_")
	for range 36 {
		x = x*6364136223846793005 + 1442695040888963407
		b = append(b, alnum[(x>>33)%uint64(len(alnum))])
	}
	return string(b)
}

// Event is one webhook to send, and the commit whose runs it asks for.
type Event struct {
	Name string
	Body []byte
	SHA  string
}

// Plan lays out n events over the fixture's pull requests: each PR opened
// once, and every burstEvery-th PR (0: none) also gets, back to back for
// the same head SHA, what one push sends (pull_request.synchronize and
// check_suite.requested) and a re-request (check_suite.rerequested).
func (f *Fixture) Plan(n, burstEvery int) []Event {
	repo := f.Owner + "/" + f.Repo
	var out []Event
	for i := 0; len(out) < n; i++ {
		pr := f.PRs[i%len(f.PRs)]
		if i < len(f.PRs) {
			out = append(out, Event{"pull_request", f.GH.PullRequestEvent("opened", repo, pr.Number), pr.HeadSHA})
		}
		if burstEvery > 0 && i%burstEvery == 0 {
			out = append(out,
				Event{"pull_request", f.GH.PullRequestEvent("synchronize", repo, pr.Number), pr.HeadSHA},
				Event{"check_suite", f.GH.CheckSuiteEvent("requested", repo, pr.HeadSHA), pr.HeadSHA},
				Event{"check_suite", f.GH.CheckSuiteEvent("rerequested", repo, pr.HeadSHA), pr.HeadSHA},
			)
		}
		if i > 10*n+len(f.PRs) {
			break // burstEvery 0 and fewer PRs than n: no more to send
		}
	}
	return out[:min(n, len(out))]
}

// Sent is one delivery as the sender saw it.
type Sent struct {
	Event
	GUID   string
	Status int // 0: no answer
	At     time.Time
}

// Send delivers events through the emulator's webhook (so the deliveries
// API records them) from `concurrency` clients at once, as fast as they
// can; it stops early when ctx ends.
func Send(ctx context.Context, gh *githubtest.Server, events []Event, concurrency int) []Sent {
	out := make([]Sent, len(events))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				at := time.Now()
				d, _ := gh.Send(context.WithoutCancel(ctx), events[i].Name, events[i].Body)
				out[i] = Sent{Event: events[i], GUID: d.GUID, Status: d.StatusCode, At: at}
			}
		}()
	}
	n := 0
	for i := range events {
		if ctx.Err() != nil {
			break
		}
		next <- i
		n++
	}
	close(next)
	wg.Wait()
	return out[:n]
}

// Outcome is what a run of the suite found.
type Outcome struct {
	Sent        int // deliveries sent
	Accepted    int // answered 2xx at once
	Refused     int // answered 503 (queue full, draining)
	OtherStatus int // any other answer, or none
	Redelivered int // GUIDs the reconciler had redelivered
	Completed   int // sent deliveries whose commit ended with both runs completed, after an accepted attempt
	// RefusedCompleted counts refused deliveries that a later attempt
	// delivered and whose commit ended with both runs completed.
	RefusedCompleted int
	Stuck            int // runs not completed
	Duplicates       int // runs beyond one per commit and name
	Unexplained      int // failure runs whose summary does not say why
	Failures         int // runs concluded failure (fault injection makes some)
	P50, P99         time.Duration
	Problems         []string
}

// OK reports whether nothing was lost, stuck, duplicated or unexplained.
func (o Outcome) OK() bool {
	return o.Stuck == 0 && o.Duplicates == 0 && o.Unexplained == 0 && o.Completed == o.Sent-o.OtherStatus &&
		o.RefusedCompleted == o.Refused && len(o.Problems) == 0
}

// Print writes the figures, one per line.
func (o Outcome) Print(w io.Writer, label string) {
	fmt.Fprintf(w, "%s: deliveries sent %d / accepted %d / refused %d / redelivered %d / completed %d (refused ones completed: %d of %d)\n",
		label, o.Sent, o.Accepted, o.Refused, o.Redelivered, o.Completed, o.RefusedCompleted, o.Refused)
	fmt.Fprintf(w, "%s: runs stuck %d, duplicates %d, failures without a reason %d, failure runs %d, other answers %d\n",
		label, o.Stuck, o.Duplicates, o.Unexplained, o.Failures, o.OtherStatus)
	fmt.Fprintf(w, "%s: end-to-end latency (delivery sent → both runs completed) p50 %s, p99 %s\n", label, o.P50.Round(time.Millisecond), o.P99.Round(time.Millisecond))
	for _, p := range o.Problems {
		fmt.Fprintf(w, "%s: problem: %s\n", label, p)
	}
}

// WaitSettled polls until every delivery that was accepted, or refused
// and since redelivered, has both runs completed on its commit and no run
// is in progress, or until timeout; then it returns the outcome.
func WaitSettled(ctx context.Context, f *Fixture, sent []Sent, timeout time.Duration) Outcome {
	deadline := time.Now().Add(timeout)
	for {
		o := Assess(f, sent)
		if o.OK() || time.Now().After(deadline) || ctx.Err() != nil {
			return o
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Assess compares what was sent with the emulator's state now.
func Assess(f *Fixture, sent []Sent) Outcome {
	gh := f.GH
	o := Outcome{Sent: len(sent)}
	// Which GUIDs ever got a 2xx, and which were redelivered.
	okGUID := map[string]bool{}
	redelivered := map[string]bool{}
	for _, d := range gh.Deliveries() {
		if d.StatusCode >= 200 && d.StatusCode <= 299 {
			okGUID[d.GUID] = true
		}
		if d.Redelivery {
			redelivered[d.GUID] = true
		}
	}
	// The runs of every commit involved.
	type state struct {
		done bool
		at   time.Time
	}
	shas := map[string]*state{}
	for _, s := range sent {
		shas[s.SHA] = nil
	}
	for sha := range shas {
		st := &state{}
		byName := map[string]int{}
		completed := 0
		for _, r := range gh.CheckRuns(f.Owner, f.Repo, sha) {
			byName[r.Name]++
			if r.Status != "completed" {
				o.Stuck++
				continue
			}
			completed++
			if r.CompletedAt.After(st.at) {
				st.at = r.CompletedAt
			}
			if r.Conclusion == "failure" {
				o.Failures++
				if !explains(r) {
					o.Unexplained++
					o.Problems = append(o.Problems, fmt.Sprintf("%s on %.7s failed without saying why: %q", r.Name, sha, r.Output.Title))
				}
			}
		}
		for name, n := range byName {
			if n > 1 {
				o.Duplicates += n - 1
				o.Problems = append(o.Problems, fmt.Sprintf("%d %s runs on %.7s", n, name, sha))
			}
		}
		st.done = byName[NameDirs] > 0 && byName[NameSecrets] > 0 && completed == len(gh.CheckRuns(f.Owner, f.Repo, sha))
		shas[sha] = st
	}
	var lat []time.Duration
	for _, s := range sent {
		switch {
		case s.Status >= 200 && s.Status <= 299:
			o.Accepted++
		case s.Status == 503:
			o.Refused++
		default:
			o.OtherStatus++
			continue
		}
		if redelivered[s.GUID] {
			o.Redelivered++
		}
		st := shas[s.SHA]
		if !okGUID[s.GUID] || !st.done {
			continue
		}
		o.Completed++
		if s.Status == 503 {
			o.RefusedCompleted++
		}
		lat = append(lat, max(st.at.Sub(s.At), 0))
	}
	o.P50, o.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	return o
}

// explains: a failure run says what is wrong — findings (annotations or a
// summary listing them) or, for a run that failed closed, why.
func explains(r githubtest.CheckRun) bool {
	if len(r.Output.Annotations) > 0 {
		return true
	}
	s := r.Output.Summary
	return r.Output.Title != "" && (strings.Contains(s, "**Why:**") || strings.Contains(s, "config") || len(s) > 80)
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(int(p*float64(len(s))), len(s)-1)]
}
