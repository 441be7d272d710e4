package reconcile

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

// app is a webhook receiver that answers each GUID from a script (the
// status of its n-th attempt; 202 past the end) and counts attempts.
type app struct {
	mu       sync.Mutex
	script   map[string][]int // by event, the answers to successive attempts
	attempts map[string]int   // by GUID
	events   map[string]string
	srv      *httptest.Server
}

func newApp(t *testing.T) *app {
	a := &app{script: map[string][]int{}, attempts: map[string]int{}, events: map[string]string{}}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		guid, event := r.Header.Get("X-GitHub-Delivery"), r.Header.Get("X-GitHub-Event")
		a.mu.Lock()
		n := a.attempts[guid]
		a.attempts[guid]++
		a.events[guid] = event
		status := http.StatusAccepted
		if s := a.script[event]; n < len(s) {
			status = s[n]
		}
		a.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) count(guid string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.attempts[guid]
}

func setup(t *testing.T, opts ...githubtest.Option) (*githubtest.Server, *app, githubapp.ClientCreator) {
	t.Helper()
	gh := githubtest.New(t, opts...)
	a := newApp(t)
	gh.SetWebhook(a.srv.URL, gh.WebhookSecret())
	var cfg githubapp.Config
	cfg.V3APIURL = gh.URL + "/"
	cfg.App.IntegrationID = gh.AppID()
	cfg.App.PrivateKey = string(gh.AppPrivateKeyPEM())
	cc, err := githubapp.NewDefaultCachingClientCreator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return gh, a, cc
}

func send(t *testing.T, gh *githubtest.Server, event string) string {
	t.Helper()
	d, _ := gh.Send(context.Background(), event, []byte(`{"action":"opened"}`))
	return d.GUID
}

func handles(e string) bool { return e != "star" }

// TestPassAsksForWhatFailed: only deliveries that never succeeded, whose
// last answer was a 5xx or none, of events the App handles, are asked for,
// once each.
func TestPassAsksForWhatFailed(t *testing.T) {
	gh, a, cc := setup(t)
	for range 4 * maxAsks { // refused again whenever redelivered
		a.script["check_suite"] = append(a.script["check_suite"], 503)
	}
	a.script["pull_request"] = []int{503}
	a.script["push"] = []int{500}
	a.script["check_run"] = []int{400}
	a.script["merge_group"] = []int{413}
	a.script["issue_comment"] = []int{503, 202} // succeeded on GitHub's own retry
	a.script["star"] = []int{503}
	guids := map[string]string{}
	for _, e := range []string{"check_suite", "pull_request", "push", "check_run", "merge_group", "star", "installation"} {
		guids[e] = send(t, gh, e)
	}
	guids["issue_comment"] = send(t, gh, "issue_comment")
	for _, d := range gh.Deliveries() {
		if d.Event == "issue_comment" {
			if _, _, err := func() (any, any, error) {
				app, _ := cc.NewAppClient()
				return app.Apps.RedeliverHookDelivery(context.Background(), d.ID)
			}(); err != nil && err.Error() != "job scheduled on GitHub side; try again later" {
				t.Fatal(err)
			}
			break
		}
	}
	// No answer at all: the App was down.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	d, _ := gh.Deliver(context.Background(), dead.URL, "pull_request", []byte(`{"action":"synchronize"}`), gh.WebhookSecret())
	guids["unanswered"] = d.GUID

	r := New(Options{Clients: cc, Handles: handles, Logger: zerolog.New(zerolog.NewTestWriter(t))})
	res, err := r.Pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{ // attempts the App saw in the end
		"check_suite": 2, "pull_request": 2, "push": 2, "unanswered": 1,
		"check_run": 1, "merge_group": 1, "issue_comment": 2, "star": 1, "installation": 1,
	}
	for name, n := range want {
		if got := a.count(guids[name]); got != n {
			t.Errorf("%s: the App saw %d attempts, want %d", name, got, n)
		}
	}
	if res.Asked != 4 || res.Failed != 4 {
		t.Errorf("result %+v, want 4 failed, 4 asked", res)
	}

	// A second pass asks again for check_suite and the unanswered one,
	// whose redeliveries were refused with a 503 (full); the others got
	// their 202.
	res, err = r.Pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Asked != 2 || a.count(guids["check_suite"]) != 3 {
		t.Errorf("second pass %+v, want check_suite and the unanswered one asked again (check_suite attempts %d, want 3)", res, a.count(guids["check_suite"]))
	}
	// A GUID refused every time is asked for again past maxAsks (the App
	// said "later"); Interval 0 leaves no wait between the asks.
	for range 2 * maxAsks {
		if _, err := r.Pass(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := a.count(guids["check_suite"]); n != 3+2*maxAsks {
		t.Errorf("check_suite seen %d times, want %d (the first delivery and an ask every pass)", n, 3+2*maxAsks)
	}
}

// clocked is an emulator and a reconciler on one fake clock, which only
// the test moves: no timing assumptions.
func clocked(t *testing.T) (*githubtest.Server, *app, githubapp.ClientCreator, func(time.Duration) time.Time, func() time.Time) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(d); return now }
	gh, a, cc := setup(t, githubtest.WithClock(clock))
	return gh, a, jwtOnTheClock{ClientCreator: cc, gh: gh}, advance, clock
}

// jwtOnTheClock signs the App's JWT on the emulator's clock (ghinstallation
// signs on the real one, which the emulator would refuse once the test
// moved its clock days ahead).
type jwtOnTheClock struct {
	githubapp.ClientCreator
	gh *githubtest.Server
}

func (c jwtOnTheClock) NewAppClient() (*github.Client, error) {
	client := github.NewClient(&http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+c.gh.AppJWT())
		return http.DefaultTransport.RoundTrip(r)
	})})
	base, err := url.Parse(c.gh.URL + "/")
	client.BaseURL = base
	return client, err
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPassRefusedForRoomIsNotGivenUp: a redelivery the App refuses again
// with a 503 although the room check said there was room (another
// delivery of the installation took the room first) is asked for again,
// backing off, past maxAsks, until it is accepted. Before, it was given
// up after five asks: a dropped webhook.
func TestPassRefusedForRoomIsNotGivenUp(t *testing.T) {
	gh, a, cc, advance, clock := clocked(t)
	refusals := 3 * maxAsks
	for range refusals + 1 { // the first delivery and every redelivery but the last
		a.script["pull_request"] = append(a.script["pull_request"], http.StatusServiceUnavailable)
	}
	d, _ := gh.Send(context.Background(), "pull_request", []byte(`{"action":"opened","installation":{"id":7}}`))
	r := New(Options{Clients: cc, Interval: time.Minute, Now: clock, Logger: zerolog.New(zerolog.NewTestWriter(t)),
		RoomFor: func(int64) int { return 1 }})
	var gaps []int // passes between successive asks
	last, waiting := 0, 0
	for pass := 1; a.count(d.GUID) < refusals+2 && pass < 2000; pass++ {
		before := a.count(d.GUID)
		res, err := r.Pass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		waiting += res.Waiting
		if res.GaveUp != 0 {
			t.Fatalf("pass %d gave up: %+v", pass, res)
		}
		if a.count(d.GUID) > before {
			if last > 0 {
				gaps = append(gaps, pass-last)
			}
			last = pass
		}
		advance(time.Minute)
	}
	if n := a.count(d.GUID); n != refusals+2 {
		t.Fatalf("the App saw %d attempts, want %d: %d refused redeliveries, then the accepted one", n, refusals+2, refusals)
	}
	// One pass a minute: after the k-th refusal the wait is 2^(k-1)
	// minutes, at most maxBackoff.
	var want []int
	for k := 1; k <= refusals; k++ {
		want = append(want, int(min(time.Minute<<(k-1), maxBackoff)/time.Minute))
	}
	if !slices.Equal(gaps, want) {
		t.Errorf("passes between asks %v, want %v", gaps, want)
	}
	if waiting == 0 {
		t.Error("no pass reported a delivery waiting (backing off)")
	}
	// Accepted now: never asked again.
	calls := gh.Calls().Count("POST /app/hook/deliveries/{delivery_id}/attempts")
	for range 3 {
		advance(maxBackoff)
		if _, err := r.Pass(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := gh.Calls().Count("POST /app/hook/deliveries/{delivery_id}/attempts"); n != calls || calls != refusals+1 {
		t.Errorf("%d redelivery requests, then %d; want %d, and none after the 202", calls, n, refusals+1)
	}
}

// TestPassRefusedGivesUpAfterTheWindow: a delivery refused every time is
// asked for until Window after its first ask (GitHub keeps deliveries
// three days), then given up once, in the log and the result.
func TestPassRefusedGivesUpAfterTheWindow(t *testing.T) {
	gh, a, cc, advance, clock := clocked(t)
	always := make([]int, 1000)
	for i := range always {
		always[i] = http.StatusServiceUnavailable
	}
	a.script["pull_request"] = always
	d, _ := gh.Send(context.Background(), "pull_request", []byte(`{"action":"opened"}`))
	logs := &strings.Builder{}
	r := New(Options{Clients: cc, Interval: time.Minute, Now: clock, Logger: zerolog.New(logs)})
	start := clock()
	gaveUp := 0
	var gaveUpAt time.Time
	for clock().Sub(start) <= Window+2*maxBackoff {
		res, err := r.Pass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.GaveUp > 0 && gaveUp == 0 {
			gaveUpAt = clock()
		}
		gaveUp += res.GaveUp
		advance(maxBackoff) // every pass is past the longest wait
	}
	if gaveUp != 1 {
		t.Fatalf("gave up %d times, want once", gaveUp)
	}
	if got := gaveUpAt.Sub(start); got < Window || got >= Window+maxBackoff {
		t.Errorf("gave up %s after the first ask, want at the first pass from %s on", got, Window)
	}
	asks := gh.Calls().Count("POST /app/hook/deliveries/{delivery_id}/attempts")
	if want := int(Window / maxBackoff); asks != want || a.count(d.GUID) != want+1 {
		t.Errorf("%d asks, %d attempts; want an ask every pass before then (%d)", asks, a.count(d.GUID), want)
	}
	if n := strings.Count(logs.String(), "gave up asking GitHub to redeliver"); n != 1 {
		t.Errorf("%d give-up log lines, want 1:\n%s", n, logs)
	}
}

// TestPassPagesAndRoom: deliveries are read through every page, and a pass
// asks for no more than the App has room for; the rest come next pass.
func TestPassPagesAndRoom(t *testing.T) {
	gh, a, cc := setup(t)
	a.script["pull_request"] = []int{503}
	var guids []string
	for range 130 {
		guids = append(guids, send(t, gh, "pull_request"))
	}
	room := 100
	r := New(Options{Clients: cc, Room: func() int { return room }, Logger: zerolog.Nop()})
	res, err := r.Pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Listed != 130 || res.Asked != 100 || res.Deferred != 30 {
		t.Fatalf("first pass %+v, want 130 listed, 100 asked, 30 deferred", res)
	}
	res, err = r.Pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Asked != 30 || res.Deferred != 0 {
		t.Fatalf("second pass %+v, want the other 30 asked", res)
	}
	for i, g := range guids {
		if n := a.count(g); n != 2 {
			t.Errorf("delivery %d: %d attempts, want 2", i, n)
		}
	}
}

// TestPassWindow: deliveries older than three days are not asked for.
func TestPassWindow(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	gh, a, cc := setup(t, githubtest.WithClock(clock))
	a.script["pull_request"] = []int{503}
	mu.Lock()
	now = time.Now().Add(-Window - time.Hour)
	mu.Unlock()
	old := send(t, gh, "pull_request")
	mu.Lock()
	now = time.Now()
	mu.Unlock()
	recent := send(t, gh, "pull_request")
	res, err := New(Options{Clients: cc, Logger: zerolog.Nop()}).Pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.count(old) != 1 || a.count(recent) != 2 || res.Asked != 1 {
		t.Errorf("old %d attempts, recent %d, result %+v; want only the recent one redelivered", a.count(old), a.count(recent), res)
	}
}

// TestPassUncertainAsk: a redelivery request that got a 5xx may not have
// reached GitHub; when no new attempt shows up, the next pass asks again,
// and then never more.
func TestPassUncertainAsk(t *testing.T) {
	gh, a, cc := setup(t)
	a.script["pull_request"] = []int{503}
	guid := send(t, gh, "pull_request")
	gh.AddFault(githubtest.Fault{Kind: githubtest.FaultServerError, Operation: "POST /app/hook/deliveries/{delivery_id}/attempts", Times: 1})
	r := New(Options{Clients: cc, Logger: zerolog.Nop()})
	if res, err := r.Pass(context.Background()); err == nil || res.AskErrors != 1 {
		t.Fatalf("first pass %+v, %v; want the ask to fail", res, err)
	}
	for range 2 {
		if _, err := r.Pass(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := a.count(guid); n != 2 {
		t.Errorf("%d attempts, want 2 (the first and one redelivery)", n)
	}
	if n := gh.Calls().Count("POST /app/hook/deliveries/{delivery_id}/attempts"); n != 2 {
		t.Errorf("%d redelivery requests, want 2 (the failed one and one more)", n)
	}
}

// TestRunStops: Run makes a pass at once and returns when ctx ends.
func TestRunStops(t *testing.T) {
	gh, a, cc := setup(t)
	a.script["pull_request"] = []int{503}
	guid := send(t, gh, "pull_request")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		New(Options{Clients: cc, Interval: time.Hour, Logger: zerolog.Nop()}).Run(ctx)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for a.count(guid) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if a.count(guid) != 2 {
		t.Errorf("%d attempts, want 2", a.count(guid))
	}
}

// TestPassRoomPerInstallation: no more redeliveries of one installation
// are asked than its share of the queue has room for; another
// installation's are asked meanwhile, and the rest come next pass.
func TestPassRoomPerInstallation(t *testing.T) {
	gh, a, cc := setup(t)
	a.script["pull_request"] = []int{503, 503, 503, 503, 503, 503}
	var guids []string
	for range 4 {
		d, _ := gh.Send(context.Background(), "pull_request", []byte(`{"action":"opened","installation":{"id":1}}`))
		guids = append(guids, d.GUID)
	}
	d, _ := gh.Send(context.Background(), "pull_request", []byte(`{"action":"opened","installation":{"id":2}}`))
	other := d.GUID
	room := map[int64]int{1: 1, 2: 5}
	r := New(Options{Clients: cc, Handles: handles, Logger: zerolog.New(zerolog.NewTestWriter(t)),
		RoomFor: func(inst int64) int { return room[inst] }})
	res, err := r.Pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Asked != 2 || res.Deferred != 3 {
		t.Errorf("result %+v, want 2 asked (one of installation 1, installation 2's), 3 deferred", res)
	}
	if a.count(other) != 2 {
		t.Errorf("installation 2's delivery seen %d times, want 2 (redelivered)", a.count(other))
	}
	asked := 0
	for _, g := range guids {
		asked += a.count(g) - 1
	}
	if asked != 1 {
		t.Errorf("installation 1: %d redeliveries asked, want 1 (its room)", asked)
	}
}

// TestPassRedeliveryFailingAgainIsAskedAgain: a redelivery that fails
// again with an error of the App's (a 5xx other than 503, as a pod that
// dies mid-delivery leaves behind a proxy) is asked for again, backing
// off, until one is handled: a delivery lost is a commit without runs.
func TestPassRedeliveryFailingAgainIsAskedAgain(t *testing.T) {
	gh, a, cc, advance, clock := clocked(t)
	a.script["pull_request"] = []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusInternalServerError, http.StatusGatewayTimeout}
	d, _ := gh.Send(context.Background(), "pull_request", []byte(`{"action":"opened","installation":{"id":7}}`))
	r := New(Options{Clients: cc, Interval: time.Minute, Now: clock, Logger: zerolog.New(zerolog.NewTestWriter(t))})
	for pass := 0; pass < 60 && a.count(d.GUID) < 5; pass++ {
		res, err := r.Pass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.GaveUp != 0 {
			t.Fatalf("gave up: %+v", res)
		}
		advance(time.Minute)
	}
	if n := a.count(d.GUID); n != 5 {
		t.Fatalf("the App saw %d attempts, want 5: the delivery, three failed redeliveries, the handled one", n)
	}
	calls := gh.Calls().Count("POST /app/hook/deliveries/{delivery_id}/attempts")
	advance(maxBackoff)
	if _, err := r.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := gh.Calls().Count("POST /app/hook/deliveries/{delivery_id}/attempts"); n != calls || calls != 4 {
		t.Errorf("%d redelivery requests, then %d; want 4, and none after the 202", calls, n)
	}
}
