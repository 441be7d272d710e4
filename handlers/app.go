package handlers

import (
	"time"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/housekeeper-app/housekeeper/internal/marker"
	"github.com/housekeeper-app/housekeeper/internal/metrics"
	"github.com/housekeeper-app/housekeeper/internal/publish"
	"github.com/housekeeper-app/housekeeper/internal/runner"
	"github.com/housekeeper-app/housekeeper/internal/server"
)

// App wires the App's handlers from the server's dependencies: one runner
// (pacing, ignore markers, deferred re-runs, metrics) and one auditor. The
// serve command and the demo both call it, so the demo runs exactly the
// App.
func App(deps server.Deps) []githubapp.EventHandler {
	r := &runner.Runner{
		Clients:   deps.ClientCreator,
		AppID:     deps.Config.AppID,
		Pacer:     publish.NewPacer(deps.ContentPace),
		MarkerKey: marker.Key(deps.WebhookSecret),
		Later:     deps.Later,
	}
	if deps.Metrics != nil {
		r.Observer = observer{deps.Metrics}
	}
	return All(r, &runner.Auditor{Runner: r}, deps.ClientCreator)
}

// observer feeds the runner's measurements to the metrics.
type observer struct{ m *metrics.Metrics }

func (o observer) Conclusion(check, conclusion string) { o.m.CheckConclusion(check, conclusion) }
func (o observer) Finding(check, level, tier string)   { o.m.Findings(check, tier, level, 1) }
func (o observer) Run(d time.Duration, calls int)      { o.m.RunDone(d, calls) }
