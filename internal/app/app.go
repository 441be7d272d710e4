// Package app wires the GitHub App: the runner, the auditor and the event
// handlers, from the server's dependencies. The serve command and the demo
// both use it, so the demo runs exactly the App.
package app

import (
	"time"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/housekeeper-app/housekeeper/handlers"
	"github.com/housekeeper-app/housekeeper/internal/marker"
	"github.com/housekeeper-app/housekeeper/internal/metrics"
	"github.com/housekeeper-app/housekeeper/internal/publish"
	"github.com/housekeeper-app/housekeeper/internal/runner"
	"github.com/housekeeper-app/housekeeper/internal/server"
)

// Handlers builds the App's handlers: one runner (pacing, ignore markers,
// deferred re-runs, metrics) and one auditor.
func Handlers(deps server.Deps) []githubapp.EventHandler { return Build(deps).Handlers }

// App is the App's parts: its handlers, and the runner and auditor whose
// background loops the serve command starts.
type App struct {
	Handlers []githubapp.EventHandler
	Runner   *runner.Runner
	Auditor  *runner.Auditor
}

// Build wires the App. With several replicas (deps.Shared in Redis) the
// runner's commit leases, pending and deferred re-runs, pace and command
// limits, and the auditor's queue live in the shared state.
func Build(deps server.Deps) *App {
	r := &runner.Runner{
		Clients:     deps.ClientCreator,
		AppID:       deps.Config.AppID,
		ContentPace: deps.ContentPace,
		Shared:      deps.Shared,
		MarkerKey:   marker.Key(deps.WebhookSecret),
		Later:       deps.Later,

		CommandLimitUser:         deps.Config.CommandLimitUser,
		CommandLimitInstallation: deps.Config.CommandLimitInstallation,
	}
	a := &runner.Auditor{Runner: r, Pace: publish.NewPacer(BackgroundPerMinute)}
	if deps.Shared != nil && deps.Shared.Ping != nil {
		r.Deferred = deps.Shared.Deferred
		a.Shared = deps.Shared
	}
	if deps.Metrics != nil {
		r.Observer = observer{deps.Metrics}
		r.Waits = deps.Metrics
	}
	return &App{Handlers: handlers.All(r, a, deps.ClientCreator), Runner: r, Auditor: a}
}

// BackgroundPerMinute is what baselines and onboarding may create a
// minute: GitHub allows 500 content-creating requests an hour (and 80 a
// minute), so background work stays under the hourly ceiling on its own
// and leaves the minute's budget to pull requests.
const BackgroundPerMinute = 8

// observer feeds the runner's measurements to the metrics.
var _ runner.FailClosedObserver = observer{}

type observer struct{ m *metrics.Metrics }

func (o observer) Conclusion(check, conclusion string) { o.m.CheckConclusion(check, conclusion) }
func (o observer) Finding(check, level, tier string)   { o.m.Findings(check, tier, level, 1) }
func (o observer) Run(d time.Duration, calls int)      { o.m.RunDone(d, calls) }
func (o observer) Onboarding(outcome string)           { o.m.Onboarding(outcome) }

func (o observer) FailedClosed(check, reason string) { o.m.FailedClosed(check, reason) }
