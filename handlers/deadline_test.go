package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

// expiring is a context whose deadline passes when the test says so, so a
// run is cut at a chosen point rather than after some amount of time.
type expiring struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func newExpiring(parent context.Context) *expiring {
	return &expiring{Context: parent, done: make(chan struct{})}
}

func (c *expiring) Deadline() (time.Time, bool) { return time.Now().Add(time.Hour), true }
func (c *expiring) Done() <-chan struct{}       { return c.done }
func (c *expiring) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
func (c *expiring) expire() { c.once.Do(func() { close(c.done) }) }

// A pull request whose scan is cut by the job's deadline: the App holds
// the blob of a file too large for a patch until the deadline, which passes
// while it waits. The secrets run still completes, failing, with the secret
// found before the deadline and a not-scanned finding naming the file
// where the scan stopped.
func TestDeadlineCutsTheRunFailClosed(t *testing.T) {
	blobs := "GET /repos/{owner}/{repo}/git/blobs/{file_sha}"
	var ctx *expiring
	f := newFixture(t,
		githubtest.WithMaxPatchSize(64<<10),
		githubtest.WithFaults(githubtest.Fault{Kind: githubtest.FaultTimeout, Operation: blobs}),
		// The App is now waiting for the blob: its deadline passes.
		githubtest.WithLogf(func(format string, args ...any) {
			if strings.Contains(fmt.Sprintf(format, args...), "timeout on "+blobs) {
				ctx.expire()
			}
		}))
	tok := fakeGitHubTok(31)
	n := f.pr("leak", map[string]string{
		"apps/web/notes.txt": "A=1\nTOKEN=" + tok + "\n",
		"apps/web/zz.sql":    strings.Repeat("INSERT INTO t VALUES (1, 'row');\n", 4000), // no patch: read from its blob
		"apps/web/main2.go":  "package main\n",
	})
	ctx = newExpiring(context.Background())
	err := f.hs["pull_request"].Handle(ctx, "pull_request", "delivery-deadline", f.gh.PullRequestEvent("opened", f.repo, n))
	sec := f.runs(f.head(n))["housekeeper/secrets"]
	t.Logf("handler: %v; secrets run %q", err, sec.Output.Title)
	if sec.Status != "completed" || sec.Conclusion != "failure" || !strings.Contains(sec.Output.Title, "1 file not scanned") {
		t.Fatalf("secrets run %s %s: %s\n%s", sec.Status, sec.Conclusion, sec.Output.Title, sec.Output.Summary)
	}
	var failing []string
	for _, a := range sec.Output.Annotations {
		if a.AnnotationLevel == "failure" {
			failing = append(failing, a.Path+":"+itoa(a.StartLine)+":"+a.Title)
		}
	}
	want := []string{"apps/web/notes.txt:2:github-pat (bootstrap)", "apps/web/zz.sql:1:not-scanned"}
	if strings.Join(failing, " ") != strings.Join(want, " ") {
		t.Errorf("failing annotations %q, want %q\n%s", failing, want, sec.Output.Summary)
	}
	if !strings.Contains(sec.Output.Summary, "stopped at its deadline at line 1 of this file") || !strings.Contains(sec.Output.Summary, "apps/web/zz.sql") {
		t.Errorf("the summary does not say where the scan stopped:\n%s", sec.Output.Summary)
	}
	if strings.Contains(sec.Output.Summary, tok[4:]) {
		t.Error("the summary shows the token")
	}
	if dirs := f.runs(f.head(n))["housekeeper/dirs"]; dirs.Status != "completed" {
		t.Errorf("dirs run left %s", dirs.Status)
	}
}
