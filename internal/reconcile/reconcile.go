// Package reconcile heals lost webhooks (docs/reliability.md). GitHub never
// redelivers on its own, so a delivery the App refused (503: queue full,
// draining) or never answered would be lost. The reconciler lists the App's
// recent deliveries (GET /app/hook/deliveries, with the App's JWT), groups
// the attempts by GUID, and asks once (POST
// /app/hook/deliveries/{id}/attempts) for the redelivery of each GUID that
// never succeeded, whose last answer was a 5xx or none, and whose event the
// App handles. A 400 or 413 is final: asking again would get the same.
//
// A redelivery the App refused again with a 503 (its queue, or the
// installation's share of it, filled up before the redelivery arrived; a
// drain; Redis away) is asked for again, backing off, for as long as
// GitHub keeps deliveries: a 503 says "later", never "no", so such a
// delivery is never given up sooner.
//
// Run one per deployment: it remembers what it asked in memory.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/google/go-github/v66/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// Window is how far back deliveries are listed: GitHub keeps three days.
const Window = 72 * time.Hour

// maxDeliveries bounds one pass's listing (time and memory).
const maxDeliveries = 50_000

// maxBackoff bounds the wait between asks for a GUID whose redeliveries
// keep being refused (503): over Window that is at most about 150 asks.
const maxBackoff = 30 * time.Minute

// Options configure a Reconciler.
type Options struct {
	// Clients gives the App's client (NewAppClient, the App JWT).
	Clients githubapp.ClientCreator
	// Interval is the time between passes; the first runs at once.
	Interval time.Duration
	// Handles reports whether the App handles an event; deliveries of
	// other events are never asked for.
	Handles func(event string) bool
	// Room, when set, is how many redeliveries the App can take now (free
	// queue slots); a pass asks for no more, and the rest wait for the
	// next pass, so redeliveries are not refused again.
	Room func() int
	// RoomFor, when set, is how many redeliveries of one installation the
	// App can take now (its share of the queue); the rest wait.
	RoomFor func(installation int64) int
	Logger  zerolog.Logger
	// OnPass, when set, hears each pass's outcome (the server's metrics).
	OnPass func(res Result, err error)
	// Budget, when set, is asked before each pass whether the App's own
	// hourly API budget (spent with its JWT, which also mints every
	// installation's token) has room for a pass: the zero time, or the
	// budget's reset, until which passes are skipped.
	Budget func(ctx context.Context, client *github.Client) (until time.Time)
	// Record, when set, hears the App budget each answer reports.
	Record func(ctx context.Context, rate github.Rate)
	// Now is the clock (tests).
	Now func() time.Time
}

// Reconciler asks GitHub to redeliver failed deliveries.
type Reconciler struct {
	o Options

	mu    sync.Mutex
	asked map[string]ask // by GUID
}

// ask is a redelivery request made for a GUID.
type ask struct {
	attempt int64 // the delivery attempt asked about
	at      time.Time
	// first is when the GUID was first asked for: refused redeliveries
	// are asked for again until Window after it.
	first time.Time
	// uncertain: the request got no clear answer (a 5xx, a timeout), so it
	// may not have reached GitHub. If no newer attempt of the GUID shows up
	// by a later pass, it is asked once more.
	uncertain bool
	// times counts the asks that maxAsks bounds: the first, and those
	// repeated because a request may not have reached GitHub.
	times int
	// refused counts the asks whose redelivery the App refused with a
	// 503; each doubles the wait before the next (backoff). They do not
	// count against maxAsks: the App said "later", and a delivery refused
	// for room must not be given up after a few unlucky passes.
	refused int
	// gaveUp: no more asks for it; said once in the log.
	gaveUp bool
}

// maxAsks bounds the asks for one GUID that are not answered by a refused
// redelivery (see ask.times).
const maxAsks = 5

// backoff is the wait after the n-th refused redelivery before asking
// again: an interval, doubling, at most maxBackoff.
func (r *Reconciler) backoff(n int) time.Duration {
	d := r.o.Interval
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// New returns a reconciler; Run starts it.
func New(o Options) *Reconciler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Handles == nil {
		o.Handles = func(string) bool { return true }
	}
	return &Reconciler{o: o, asked: map[string]ask{}}
}

// Run makes a pass at once and then every Interval until ctx ends.
func (r *Reconciler) Run(ctx context.Context) {
	r.o.Logger.Info().Dur("interval_ms", r.o.Interval).Msg("reconciler started")
	for {
		res, err := r.Pass(ctx)
		if ctx.Err() != nil {
			return
		}
		if r.o.OnPass != nil {
			r.o.OnPass(res, err)
		}
		ev := r.o.Logger.Info()
		if err != nil {
			ev = r.o.Logger.Warn().Err(err)
		}
		ev.Int("deliveries", res.Listed).Int("guids", res.GUIDs).Int("failed", res.Failed).Int("asked", res.Asked).
			Int("deferred", res.Deferred).Int("waiting", res.Waiting).Int("ask_errors", res.AskErrors).
			Int("gave_up", res.GaveUp).Msg("reconciler pass")
		if r.o.Interval <= 0 {
			return
		}
		wait := r.o.Interval
		var be *BudgetError
		if errors.As(err, &be) {
			wait = max(be.Until.Sub(r.o.Now()), wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// BudgetError: the pass was skipped, since the App's hourly API budget is
// at the reserve kept for minting installation tokens until Until.
type BudgetError struct{ Until time.Time }

func (e *BudgetError) Error() string {
	return "reconcile: pass skipped: the App's hourly API budget is at its reserve until " + e.Until.UTC().Format(time.TimeOnly)
}

// Result counts one pass.
type Result struct {
	Listed    int // delivery attempts listed
	GUIDs     int // distinct deliveries among them
	Failed    int // deliveries that need a redelivery (asked now or before)
	Asked     int // redeliveries asked for in this pass
	Deferred  int // left for the next pass (no room)
	AskErrors int // redelivery requests that failed
	// Waiting: refused again (503) and backing off; asked in a later pass.
	Waiting int
	// GaveUp: deliveries given up in this pass: refused ones Window after
	// their first ask, or asks that never showed an attempt after
	// maxAsks tries.
	GaveUp int
}

// attempts is what a pass keeps of one GUID's attempts.
type attempts struct {
	guid      string
	event     string
	first     int64 // the oldest attempt's id: the order of service
	latest    *github.HookDelivery
	succeeded bool
}

// Pass lists the window's deliveries and asks for the redeliveries due.
func (r *Reconciler) Pass(ctx context.Context) (Result, error) {
	var res Result
	client, err := r.o.Clients.NewAppClient()
	if err != nil {
		return res, fmt.Errorf("reconcile: App client: %w", err)
	}
	now := r.o.Now()
	if r.o.Budget != nil {
		if until := r.o.Budget(ctx, client); until.After(now) {
			return res, &BudgetError{Until: until}
		}
	}
	byGUID, listed, err := list(ctx, client, now.Add(-Window), r.o.Record)
	res.Listed, res.GUIDs = listed, len(byGUID)
	if err != nil {
		return res, err
	}

	r.mu.Lock()
	for guid, a := range r.asked {
		if now.Sub(a.at) > Window {
			delete(r.asked, guid)
		}
	}
	var due []*attempts
	for _, a := range byGUID {
		if !failed(a) || !r.o.Handles(a.event) {
			continue
		}
		res.Failed++
		if prev, ok := r.asked[a.guid]; ok {
			// Asked already. Ask again when that request may not have
			// reached GitHub (no clear answer, and no newer attempt since,
			// an interval later; up to maxAsks times), or when the
			// redelivery it made failed too: refused with a 503, a 5xx,
			// or no answer at all (a pod killed while handling it). Later,
			// backing off, until Window after the first ask: a lost
			// delivery is a commit without runs.
			lost := prev.uncertain && a.latest.GetID() == prev.attempt && now.Sub(prev.at) >= r.o.Interval
			refused := a.latest.GetID() != prev.attempt // and failed, as every a here
			switch {
			case prev.gaveUp:
				continue
			case refused && now.Sub(prev.first) >= Window,
				lost && prev.times >= maxAsks:
				prev.gaveUp = true
				r.asked[a.guid] = prev
				res.GaveUp++
				r.o.Logger.Error().Str(githubapp.LogKeyDeliveryID, a.guid).Str(githubapp.LogKeyEventType, a.event).
					Int("last_status", a.latest.GetStatusCode()).Int("refused", prev.refused).Int("asks", prev.times).
					Time("first_asked", prev.first).Msg("gave up asking GitHub to redeliver a failed delivery")
				continue
			case refused && now.Sub(prev.at) < r.backoff(prev.refused+1):
				res.Waiting++
				continue
			case !lost && !refused:
				continue
			}
		}
		due = append(due, a)
	}
	r.mu.Unlock()

	// Oldest delivery first: it has waited longest (a GUID refused again
	// keeps its place; its latest attempt is new, the delivery is not).
	sort.Slice(due, func(i, j int) bool { return due[i].first < due[j].first })
	room := len(due)
	if r.o.Room != nil {
		room = min(room, max(r.o.Room(), 0))
	}
	res.Deferred = len(due) - room
	var errs []error
	perInst := map[int64]int{} // room left per installation
	for _, a := range due[:room] {
		if ctx.Err() != nil {
			break
		}
		if r.o.RoomFor != nil {
			inst := a.latest.GetInstallationID()
			left, ok := perInst[inst]
			if !ok {
				left = r.o.RoomFor(inst)
			}
			if left <= 0 {
				perInst[inst] = 0
				res.Deferred++
				continue
			}
			perInst[inst] = left - 1
		}
		_, _, err := client.Apps.RedeliverHookDelivery(ctx, a.latest.GetID())
		var accepted *github.AcceptedError
		if errors.As(err, &accepted) {
			err = nil
		}
		if !refusedForNow(err) {
			r.mu.Lock()
			r.asked[a.guid] = r.asked[a.guid].next(a.latest, now, err != nil && mayHaveLanded(err))
			r.mu.Unlock()
		}
		if err != nil {
			res.AskErrors++
			errs = append(errs, fmt.Errorf("redeliver %s (%s): %w", a.guid, a.event, err))
			continue
		}
		res.Asked++
		r.o.Logger.Info().Str(githubapp.LogKeyDeliveryID, a.guid).Str(githubapp.LogKeyEventType, a.event).
			Int("last_status", a.latest.GetStatusCode()).Msg("asked GitHub to redeliver a failed delivery")
	}
	return res, errors.Join(errs...)
}

// next is the record after asking again for the GUID whose latest attempt
// is latest: an ask answered by a refused redelivery counts as refused,
// any other as one of maxAsks.
func (p ask) next(latest *github.HookDelivery, now time.Time, uncertain bool) ask {
	n := ask{attempt: latest.GetID(), at: now, first: p.first, uncertain: uncertain, times: p.times, refused: p.refused}
	if n.first.IsZero() {
		n.first = now
	}
	if p.times > 0 && latest.GetID() != p.attempt && latest.GetStatusCode() == http.StatusServiceUnavailable {
		n.refused++
	} else {
		n.times++
	}
	return n
}

// failed: never succeeded, and the last answer was a 5xx or none (a 4xx
// such as 400 or 413 is final).
func failed(a *attempts) bool {
	if a.succeeded {
		return false
	}
	code := a.latest.GetStatusCode()
	return code == 0 || code >= 500
}

// list reads the deliveries since `since`, newest first, grouped by GUID.
func list(ctx context.Context, client *github.Client, since time.Time, record func(context.Context, github.Rate)) (map[string]*attempts, int, error) {
	byGUID := map[string]*attempts{}
	opts := &github.ListCursorOptions{PerPage: 100}
	listed := 0
	for {
		page, resp, err := client.Apps.ListHookDeliveries(ctx, opts)
		if record != nil && resp != nil && resp.Rate.Limit > 0 {
			record(ctx, resp.Rate)
		}
		if err != nil {
			return byGUID, listed, fmt.Errorf("reconcile: list deliveries: %w", err)
		}
		old := false
		for _, d := range page {
			if d.DeliveredAt != nil && d.DeliveredAt.Before(since) {
				old = true
				continue
			}
			listed++
			guid := d.GetGUID()
			a := byGUID[guid]
			if a == nil {
				a = &attempts{guid: guid, event: d.GetEvent()}
				byGUID[guid] = a
			}
			if a.latest == nil || d.GetID() > a.latest.GetID() {
				a.latest = d
			}
			if a.first == 0 || d.GetID() < a.first {
				a.first = d.GetID()
			}
			if c := d.GetStatusCode(); c >= 200 && c <= 299 {
				a.succeeded = true
			}
		}
		if old || resp.Cursor == "" || len(page) == 0 || listed >= maxDeliveries {
			return byGUID, listed, nil
		}
		opts.Cursor = resp.Cursor
	}
}

// refusedForNow: GitHub did not carry the request out because of a rate
// limit, so it is not remembered as asked; the next pass asks.
func refusedForNow(err error) bool {
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	return errors.As(err, &rl) || errors.As(err, &ab)
}

// mayHaveLanded: a request without a clear answer (none, or a 5xx).
func mayHaveLanded(err error) bool {
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		return ge.Response.StatusCode >= 500
	}
	return !refusedForNow(err)
}
