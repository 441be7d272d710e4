package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/housekeeper-app/housekeeper/internal/app"
	"github.com/housekeeper-app/housekeeper/internal/server"
)

// hook send against the real serve on 127.0.0.1:0: the right secret gets
// a 202 and the App's handler runs with the example's delivery; a wrong
// secret gets the server's 400 and exit 1.
func TestHookSendToARealServer(t *testing.T) {
	serveEnv(t)
	t.Setenv("HOUSEKEEPER_ADDR", "127.0.0.1:0")
	handled := recordingHandler{ids: make(chan string, 4)}
	old := appHandlers
	appHandlers = func(deps AppDeps) (*app.App, error) {
		return &app.App{Handlers: []githubapp.EventHandler{handled}}, nil
	}
	t.Cleanup(func() { appHandlers = old })
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, []string{"serve"}, strings.NewReader(""), &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			t.Error("serve did not exit")
		}
	})
	to := waitListening(t, &stderr, exited) + server.HookPath

	secretFile := filepath.Join(t.TempDir(), "webhook-secret")
	os.WriteFile(secretFile, []byte(serveSecret+"\n"), 0o600)
	t.Setenv("GITHUB_APP_WEBHOOK_SECRET", "")
	out, errOut, code := runCLI(t, "hook", "send", "pull_request.opened", "--to", to, "--secret-file", secretFile)
	if code != exitOK || !strings.Contains(out, "202 Accepted") || !strings.Contains(out, ": pull_request delivery ") {
		t.Fatalf("exit %d; stdout:\n%s\nstderr: %s", code, out, errOut)
	}
	select {
	case id := <-handled.ids:
		if !strings.Contains(out, "delivery "+id+" ") {
			t.Errorf("handled delivery %q, sent:\n%s", id, out)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the App's handler never ran")
	}

	// The secret from the environment, as serve reads it; a wrong one is refused.
	t.Setenv("GITHUB_APP_WEBHOOK_SECRET", "not-the-secret")
	out, errOut, code = runCLI(t, "hook", "send", "pull_request.opened.1", "--to", to)
	if code != exitFindings || !strings.Contains(out, "400 Bad Request") ||
		!strings.Contains(errOut, "the secret must be the server's GITHUB_APP_WEBHOOK_SECRET") {
		t.Errorf("wrong secret: exit %d; stdout:\n%s\nstderr: %s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "not-the-secret") {
		t.Error("the secret was printed")
	}

	// Usage errors name the problem.
	for args, want := range map[string]string{
		"hook send pull_request.closing --to " + to: `no example "pull_request.closing"`,
		"hook send push --to 127.0.0.1:8080":        "--to must be an http(s) URL",
	} {
		if _, errOut, code := runCLI(t, strings.Fields(args)...); code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d, stderr %q", args, code, errOut)
		}
	}
}
