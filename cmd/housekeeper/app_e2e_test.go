package main

import (
	"context"
	"encoding/json"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

// startApp runs the real `housekeeper serve` against an emulated GitHub and
// points the emulator's webhooks at it.
func startApp(t *testing.T, opts ...githubtest.Option) (*githubtest.Server, string, *lockedBuffer) {
	t.Helper()
	gh := githubtest.New(t, opts...)
	t.Setenv("GITHUB_APP_INTEGRATION_ID", strconv.FormatInt(gh.AppID(), 10))
	t.Setenv("GITHUB_APP_PRIVATE_KEY", string(gh.AppPrivateKeyPEM()))
	t.Setenv("GITHUB_APP_PRIVATE_KEY_PATH", "")
	t.Setenv("GITHUB_APP_WEBHOOK_SECRET", gh.WebhookSecret())
	t.Setenv("GITHUB_APP_WEBHOOK_SECRET_PATH", "")
	t.Setenv("GITHUB_V3_API_URL", gh.URL+"/")
	t.Setenv("HOUSEKEEPER_ADDR", "127.0.0.1:0")
	t.Setenv("HOUSEKEEPER_CONTENT_PACE", "0")
	t.Setenv("HOUSEKEEPER_LOG_LEVEL", "debug")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, []string{"serve"}, strings.NewReader(""), &stdout, &stderr) }()
	base := waitListening(t, &stderr, exited)
	gh.SetWebhook(base+"/api/github/hook", gh.WebhookSecret())
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-exited:
			if code != exitOK {
				t.Errorf("serve exited %d:\n%s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	return gh, base, &stderr
}

// waitRuns waits until both runs on sha are completed.
func waitRuns(t *testing.T, gh *githubtest.Server, owner, repo, sha string) map[string]githubtest.CheckRun {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		runs := map[string]githubtest.CheckRun{}
		done := 0
		for _, r := range gh.CheckRuns(owner, repo, sha) {
			runs[r.Name] = r
			if r.Status == "completed" {
				done++
			}
		}
		if done == 2 && len(runs) == 2 {
			return runs
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs on %s: %+v", sha, runs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fakeGitHubToken(seed int64) string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	r := rand.New(rand.NewSource(seed))
	b := []byte("gh" + "p_")
	for i := 0; i < 36; i++ {
		b = append(b, alnum[r.Intn(len(alnum))])
	}
	return string(b)
}

func TestAppEndToEnd(t *testing.T) {
	gh, base, logs := startApp(t)
	gh.AddOrg("acme")
	gh.AddRepo(githubtest.Repo{Owner: "acme", Name: "infra"})
	gh.AddInstallation(githubtest.Installation{Account: "acme", Repos: []string{"acme/infra"}})
	gh.Push("acme", "infra", "main", map[string]string{
		"docs/dir.md":   "| Path | Function |\n|---|---|\n| `infra/` | Terraform |\n",
		"infra/main.tf": "terraform {}\n",
	})
	gh.SetBranch("acme", "infra", "leak", gh.Branch("acme", "infra", "main"))
	token := fakeGitHubToken(7)
	gh.Push("acme", "infra", "leak", map[string]string{
		"tools/deploy.sh": "#!/bin/sh\nexport GITHUB_TOKEN=" + token + "\n",
	})
	pr := gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: "leak"})

	// A bad signature is refused and does nothing.
	if code := sendHookWith(t, base, "pull_request", "bad-sig", string(gh.PullRequestEvent("opened", "acme/infra", pr.Number)), "sha256=00"); code != 400 {
		t.Errorf("bad signature: %d, want 400", code)
	}
	time.Sleep(200 * time.Millisecond)
	if runs := gh.CheckRuns("acme", "infra", pr.HeadSHA); len(runs) != 0 {
		t.Fatalf("a refused delivery made %d runs", len(runs))
	}

	d, err := gh.Send(context.Background(), "pull_request", gh.PullRequestEvent("opened", "acme/infra", pr.Number))
	if err != nil || d.StatusCode != 202 {
		t.Fatalf("delivery: %+v %v", d, err)
	}
	runs := waitRuns(t, gh, "acme", "infra", pr.HeadSHA)
	dirs, sec := runs["housekeeper/dirs"], runs["housekeeper/secrets"]
	if dirs.Conclusion != "failure" || len(dirs.Output.Annotations) == 0 || dirs.Output.Annotations[0].Path != "tools/deploy.sh" {
		t.Errorf("dirs: %s %+v", dirs.Conclusion, dirs.Output.Annotations)
	}
	if sec.Conclusion != "failure" || len(sec.Output.Annotations) == 0 || sec.Output.Annotations[0].Path != "tools/deploy.sh" || sec.Output.Annotations[0].StartLine != 2 {
		t.Errorf("secrets: %s %+v", sec.Conclusion, sec.Output.Annotations)
	}
	// The token never appears in anything the App emitted.
	for _, r := range runs {
		if strings.Contains(r.Output.Summary+r.Output.Title+r.Output.Text, token[4:]) {
			t.Errorf("%s shows the token", r.Name)
		}
		for _, a := range r.Output.Annotations {
			if strings.Contains(a.Message+a.Title, token[4:]) {
				t.Errorf("%s annotation shows the token", r.Name)
			}
		}
	}
	if strings.Contains(logs.String(), token[4:]) {
		t.Error("the logs show the token")
	}
	checkLogLines(t, logs.String())
}

// checkLogLines: every log line is one JSON object with each key once, and
// durations carry their unit in the key (took_ms), never a bare number.
func checkLogLines(t *testing.T, logs string) {
	t.Helper()
	unitless := map[string]bool{"took": true, "queued": true, "wait": true, "interval": true, "timeout": true, "in": true}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		dec := json.NewDecoder(strings.NewReader(line))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Errorf("not a JSON object: %s", line)
			continue
		}
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Errorf("%v: %s", err, line)
				break
			}
			key := k.(string)
			if seen[key] {
				t.Errorf("key %q twice: %s", key, line)
			}
			if unitless[key] {
				t.Errorf("duration %q without a unit: %s", key, line)
			}
			seen[key] = true
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Errorf("%v: %s", err, line)
				break
			}
		}
	}
}

func sendHookWith(t *testing.T, base, event, id, body, sig string) int {
	t.Helper()
	return sendSigned(t, base, event, id, body, sig)
}
