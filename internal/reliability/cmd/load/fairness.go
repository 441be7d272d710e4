package main

// The fairness phase (docs/reliability.md, "Fair sharing"): installation A
// floods the App with fork pull requests and junk commands; installation
// B's pull request arrives 2 s later. The figure is how long B waits for
// its two runs.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/reliability"
)

func fairnessPhase(o options) error {
	gh, err := emulator(o)
	if err != nil {
		return err
	}
	defer gh.Close()
	fs := installations(gh, 2, 0)
	a, b := fs[0], fs[1]
	// A: 100 pull requests from a fork.
	fork := a.Owner + "-fork"
	gh.AddOrg(fork)
	gh.AddRepo(githubtest.Repo{Owner: fork, Name: "infra", ForkOf: a.Owner + "/infra"})
	for j := range 100 {
		branch := fmt.Sprintf("fork-%d", j)
		gh.Push(fork, "infra", branch, map[string]string{fmt.Sprintf("apps/f%d/main.go", j): "package main\n"})
		a.PRs = append(a.PRs, gh.OpenPullRequest(githubtest.PullRequest{Owner: a.Owner, Repo: "infra", Head: branch, HeadRepo: fork + "/infra", Title: branch}))
	}
	branch := "pr-b"
	gh.SetBranch(b.Owner, "infra", branch, gh.Branch(b.Owner, "infra", "main"))
	gh.Push(b.Owner, "infra", branch, map[string]string{"apps/b/main.go": "package main\n"})
	b.PRs = append(b.PRs, gh.OpenPullRequest(githubtest.PullRequest{Owner: b.Owner, Repo: "infra", Head: branch, Title: branch}))

	var flood []reliability.Event
	for _, pr := range a.PRs {
		flood = append(flood, reliability.Event{Name: "pull_request", Body: gh.PullRequestEvent("opened", a.Owner+"/infra", pr.Number), SHA: pr.HeadSHA})
	}
	for i := range 500 {
		pr := a.PRs[i%len(a.PRs)]
		c := gh.AddComment(a.Owner, "infra", pr.Number, fmt.Sprintf("spammer%d", i%50), "/housekeeper frobnicate")
		flood = append(flood, reliability.Event{Name: "issue_comment", Body: gh.IssueCommentEvent("created", a.Owner+"/infra", c.ID), SHA: pr.HeadSHA})
	}

	app, err := start(o, reliability.Env(gh, gh.URL, tuning(o, map[string]string{"HOUSEKEEPER_WORKERS": "8", "HOUSEKEEPER_QUEUE_SIZE": "100"})))
	if err != nil {
		return err
	}
	defer app.stop(30 * time.Second)
	gh.SetWebhook(app.base+"/api/github/hook", gh.WebhookSecret())
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()

	start := time.Now()
	var wg sync.WaitGroup
	var sentA []reliability.Sent
	wg.Add(1)
	go func() {
		defer wg.Done()
		sentA = reliability.Send(ctx, gh, flood, o.concurrency)
	}()
	time.Sleep(2 * time.Second)
	bAt := time.Now()
	pr := b.PRs[0]
	if _, err := gh.Send(ctx, "pull_request", gh.PullRequestEvent("opened", b.Owner+"/infra", pr.Number)); err != nil {
		return err
	}
	last, _, err := settle([]*reliability.Fixture{b}, time.Until(deadlineOf(ctx)))
	if err != nil {
		return fmt.Errorf("installation B: %w", err)
	}
	wg.Wait()
	refused := 0
	for _, s := range sentA {
		if s.Status == 503 {
			refused++
		}
	}
	waited := last.Sub(bAt)
	fmt.Printf("fairness: installation A sent 100 fork PR events and 500 junk commands (%d answered 503: queue full or its share of it; the reconciler brings them back); B's PR event 2 s later\n", refused)
	fmt.Printf("fairness: B's two runs completed %s after its event (goal ≤ 10 s; 8 workers, queue 100, %s per emulated request)\n", waited.Round(time.Millisecond), o.latency)
	replies := 0
	for _, p := range a.PRs {
		for _, c := range gh.Comments(a.Owner, "infra", p.Number) {
			if c.ViaApp {
				replies++
			}
		}
	}
	fmt.Printf("fairness: the App answered %d of A's 500 junk commands within %s (limits: 10 a minute per user and repository, 60 per installation)\n", replies, time.Since(start).Round(time.Second))
	if waited > 10*time.Second {
		return fmt.Errorf("installation B waited %s, more than 10 s", waited.Round(time.Millisecond))
	}
	return nil
}
