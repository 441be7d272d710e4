package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/reliability"
)

// The "bigfile" phase (issue 10, item 1): a fork pull request adds a text
// file of -bigfile-mb MiB — far past GitHub's patch limit, so the App
// streams its blob — with a GitHub token on its very last line. The App
// must find the token, and its peak RSS must stay under -bigfile-rss-goal.
var (
	bigfileMB      = flag.Int("bigfile-mb", 100, "size of the text file the bigfile phase's fork PR adds, MiB")
	bigfileRSSGoal = flag.Int("bigfile-rss-goal", 200, "the bigfile phase fails when serve's peak RSS exceeds this, MiB")
)

func bigfilePhase(o options) error {
	gh, err := emulator(o)
	if err != nil {
		return err
	}
	defer gh.Close()
	f := reliability.NewFixture(gh, 0, 0)
	gh.AddRepo(githubtest.Repo{Owner: "mallory", Name: "infra", ForkOf: "acme/infra"})
	gh.SetBranch("mallory", "infra", "dump", gh.Branch("acme", "infra", "main"))
	token := reliability.FakeToken(100)
	content := bigText(*bigfileMB<<20, "-- "+token+"\n")
	lines := strings.Count(content, "\n")
	gh.Push("mallory", "infra", "dump", map[string]string{"apps/dump/data.sql": content})
	content = "" // the emulator keeps its own copy
	pr := gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: "dump", HeadRepo: "mallory/infra", User: "mallory"})
	f.PRs = append(f.PRs, pr)

	a, err := start(o, reliability.Env(gh, gh.URL, tuning(o, map[string]string{"HOUSEKEEPER_API_TIMEOUT": "120s"})))
	if err != nil {
		return err
	}
	gh.SetWebhook(a.base+"/api/github/hook", gh.WebhookSecret())
	before := procStatus(a.cmd.Process.Pid, "VmHWM:")
	startT := time.Now()
	sent := reliability.Send(context.Background(), gh, []reliability.Event{{Name: "pull_request", Body: gh.PullRequestEvent("opened", "acme/infra", pr.Number), SHA: pr.HeadSHA}}, 1)
	out := reliability.WaitSettled(context.Background(), f, sent, o.timeout)
	took := time.Since(startT)
	stopTook, serr := a.stop(60 * time.Second)

	found := false
	var concl string
	for _, r := range gh.CheckRuns("acme", "infra", pr.HeadSHA) {
		if r.Name != reliability.NameSecrets {
			continue
		}
		concl = fmt.Sprintf("%s %q", r.Conclusion, r.Output.Title)
		for _, an := range r.Output.Annotations {
			if an.Title == "not-scanned" {
				concl += "; not scanned: " + an.Message
			}
			if an.Path == "apps/dump/data.sql" && an.StartLine == lines && strings.HasPrefix(an.Title, "github-pat") {
				found = r.Conclusion == "failure"
			}
		}
	}
	peak := float64(a.peakRSS.Load()) / 1024
	fmt.Printf("bigfile: a fork PR adds a %d MiB text file (%d lines, no patch), a token on its last line\n", *bigfileMB, lines)
	fmt.Printf("bigfile: handled in %s; secrets %s; key found at line %d: %v\n", took.Round(time.Millisecond), concl, lines, found)
	fmt.Printf("bigfile: serve's peak RSS %.1f MiB (%.1f MiB before the event; goal < %d MiB); stopped in %s\n", peak, float64(before)/1024, *bigfileRSSGoal, stopTook.Round(time.Millisecond))
	switch {
	case !out.OK():
		return fmt.Errorf("the PR's runs did not complete cleanly")
	case !found:
		return fmt.Errorf("the token on the last line was not found")
	case peak > float64(*bigfileRSSGoal):
		return fmt.Errorf("peak RSS %.1f MiB, over the %d MiB goal", peak, *bigfileRSSGoal)
	}
	return serr
}

// bigText is at most n bytes (GitHub's limit on a file is 100 MiB): ordinary
// SQL dump lines, then tail.
func bigText(n int, tail string) string {
	var b strings.Builder
	b.Grow(n)
	for i := 0; b.Len()+200+len(tail) < n; i++ {
		fmt.Fprintf(&b, "INSERT INTO events VALUES (%d, 'user%d', 'an ordinary row of an ordinary dump', now());\n", i, i%977)
	}
	b.WriteString(tail)
	return b.String()
}
