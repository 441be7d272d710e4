// Package handlers turns GitHub webhook events into check jobs. Each
// handler does the same few steps: decode, allow-list the action, skip what
// does not apply, enrich the logger, and hand the job to the runner.
package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-github/v66/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/runner"
)

// Runner runs the checks for a job.
type Runner interface {
	Run(ctx context.Context, job runner.Job) error
}

// All returns every event handler of the App.
func All(r *runner.Runner, a *runner.Auditor, clients githubapp.ClientCreator) []githubapp.EventHandler {
	// A default-branch push refreshes the dashboard through a baseline.
	r.AfterPush = func(ctx context.Context, inst int64, repo runner.RepoRef) {
		a.Enqueue(ctx, inst, []runner.RepoRef{repo})
	}
	return []githubapp.EventHandler{
		&PullRequest{Runner: r},
		&CheckSuite{Runner: r},
		&CheckRun{Runner: r, Commenter: r, Clients: clients},
		&IssueComment{Commenter: r},
		&Push{Runner: r, Clients: clients},
		&MergeGroup{Runner: r},
		&Installation{Auditor: a, Clients: clients},
		&Issues{Ticker: r, Auditor: a},
	}
}

func decode(payload []byte, v any, event string) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("decode %s event: %w", event, err)
	}
	return nil
}

// logger adds the delivery's fixed keys to the context's logger. The
// server's logger already carries "action" (a key zerolog would repeat).
func logger(ctx context.Context, repo *github.Repository, installationID int64, event, delivery string) (context.Context, zerolog.Logger) {
	l := zerolog.Ctx(ctx).With().
		Str("event", event).Str("delivery", delivery).
		Int64("installation", installationID).Str("repository", repo.GetFullName()).Logger()
	return l.WithContext(ctx), l
}
