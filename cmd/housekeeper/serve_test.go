package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/housekeeper-app/housekeeper/internal/app"
	"github.com/housekeeper-app/housekeeper/internal/server"
)

const serveSecret = "serve-test-webhook-secret"

var (
	serveKeyOnce sync.Once
	serveKey     string
)

// serveEnv sets a complete, valid environment and clears every other
// setting, so the developer's own environment cannot leak in (an empty
// variable counts as unset).
func serveEnv(t *testing.T) (keyPEM string) {
	t.Helper()
	serveKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		serveKey = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	})
	for _, k := range []string{
		"HOUSEKEEPER_CONFIG", "GITHUB_APP_PRIVATE_KEY_PATH", "GITHUB_APP_WEBHOOK_SECRET_PATH", "GITHUB_V3_API_URL",
		"GITHUB_V4_API_URL", "GITHUB_WEB_URL", "HOUSEKEEPER_ADDR", "HOUSEKEEPER_WORKERS", "HOUSEKEEPER_QUEUE_SIZE",
		"HOUSEKEEPER_LOG_LEVEL", "HOUSEKEEPER_LOG_FORMAT", "HOUSEKEEPER_SHUTDOWN_TIMEOUT", "HOUSEKEEPER_APP_SLUG",
	} {
		t.Setenv(k, "")
	}
	t.Setenv("GITHUB_APP_INTEGRATION_ID", "12345")
	t.Setenv("GITHUB_APP_PRIVATE_KEY", serveKey)
	t.Setenv("GITHUB_APP_WEBHOOK_SECRET", serveSecret)
	return serveKey
}

func TestServeCheckConfig(t *testing.T) {
	key := serveEnv(t)
	t.Setenv("HOUSEKEEPER_WORKERS", "7")
	stdout, stderr, code := runCLI(t, "serve", "--check-config")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"settings are valid", "REDACTED", "HOUSEKEEPER_WORKERS"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	for _, leak := range []string{serveSecret, strings.Split(key, "\n")[1]} {
		if strings.Contains(stdout+stderr, leak) {
			t.Errorf("--check-config printed a secret:\n%s", stdout)
		}
	}
}

func TestServeCheckConfigProblems(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		want []string
	}{
		"nothing set": {
			env: map[string]string{"GITHUB_APP_INTEGRATION_ID": "", "GITHUB_APP_PRIVATE_KEY": "", "GITHUB_APP_WEBHOOK_SECRET": ""},
			want: []string{
				"housekeeper: invalid settings (3 problems):",
				"  GITHUB_APP_INTEGRATION_ID: required: the GitHub App's numeric ID",
				"  GITHUB_APP_PRIVATE_KEY: required (or GITHUB_APP_PRIVATE_KEY_PATH): the App's private key, PEM",
				"  GITHUB_APP_WEBHOOK_SECRET: required (or GITHUB_APP_WEBHOOK_SECRET_PATH): without it webhook signatures would go unchecked",
			},
		},
		"unreadable key and bad tuning": {
			env: map[string]string{
				"GITHUB_APP_PRIVATE_KEY":      "",
				"GITHUB_APP_PRIVATE_KEY_PATH": "/nonexistent/key.pem",
				"HOUSEKEEPER_WORKERS":         "-3",
			},
			want: []string{
				"housekeeper: invalid settings (2 problems):",
				"  GITHUB_APP_PRIVATE_KEY_PATH: cannot read the file: open /nonexistent/key.pem: no such file or directory",
				"  HOUSEKEEPER_WORKERS: must be at least 1, got -3",
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			serveEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			for _, args := range [][]string{{"serve", "--check-config"}, {"serve"}} {
				stdout, stderr, code := runCLI(t, args...)
				if code != exitUsage {
					t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
				}
				if want := strings.Join(tc.want, "\n") + "\n"; stderr != want {
					t.Errorf("%v: stderr:\n%s\nwant:\n%s", args, stderr, want)
				}
				if stdout != "" || strings.Contains(stderr, serveSecret) {
					t.Errorf("%v: stdout %q", args, stdout)
				}
			}
		})
	}
}

// recordingHandler is the App's handler list as the test plugs it in.
type recordingHandler struct{ ids chan string }

func (h recordingHandler) Handles() []string { return []string{"pull_request"} }

func (h recordingHandler) Handle(_ context.Context, _, id string, _ []byte) error {
	h.ids <- id
	return nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeEndToEnd starts `housekeeper serve` on 127.0.0.1:0 through run,
// learns the address from the "listening" log line, sends a signed ping and
// a handled event, then cancels and expects a clean exit.
func TestServeEndToEnd(t *testing.T) {
	serveEnv(t)
	t.Setenv("HOUSEKEEPER_ADDR", "127.0.0.1:0")

	handled := recordingHandler{ids: make(chan string, 1)}
	var gotDeps AppDeps
	old := appHandlers
	appHandlers = func(deps AppDeps) (*app.App, error) {
		gotDeps = deps
		return &app.App{Handlers: []githubapp.EventHandler{handled}}, nil
	}
	t.Cleanup(func() { appHandlers = old })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, []string{"serve"}, strings.NewReader(""), &stdout, &stderr) }()

	base := waitListening(t, &stderr, exited)
	if gotDeps.ClientCreator == nil || gotDeps.Metrics == nil || string(gotDeps.WebhookSecret) != serveSecret ||
		gotDeps.ContentPace != 60 || gotDeps.Config.AppID != 12345 {
		t.Errorf("handlers got incomplete deps: %+v", gotDeps)
	}

	if code := sendHook(t, base, "ping", "d-ping", `{"zen":"Design for failure."}`); code != http.StatusOK {
		t.Errorf("ping: %d, want 200", code)
	}
	if code := sendHook(t, base, "pull_request", "d-pr", `{"action":"opened"}`); code != http.StatusAccepted {
		t.Errorf("pull_request: %d, want 202", code)
	}
	select {
	case id := <-handled.ids:
		if id != "d-pr" {
			t.Errorf("handled %q", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the App's handler never ran")
	}
	if res, err := http.Get(base + "/readyz"); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("readyz: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	cancel()
	select {
	case code := <-exited:
		if code != exitOK {
			t.Errorf("exit %d; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not exit after cancellation")
	}
	logs := stderr.String()
	if !strings.Contains(logs, `"message":"stopped"`) || strings.Contains(logs, serveSecret) {
		t.Errorf("logs:\n%s", logs)
	}
}

func waitListening(t *testing.T, stderr *lockedBuffer, exited <-chan int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(stderr.String(), "\n") {
			var entry struct {
				Message string `json:"message"`
				Addr    string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Message == "listening" {
				return "http://" + entry.Addr
			}
		}
		select {
		case code := <-exited:
			t.Fatalf("serve exited %d before listening:\n%s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve never logged its address:\n%s", stderr.String())
	return ""
}

func sendHook(t *testing.T, base, event, id, body string) int {
	t.Helper()
	return sendSigned(t, base, event, id, body, server.Sign([]byte(serveSecret), []byte(body)))
}

func sendSigned(t *testing.T, base, event, id, body, sig string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+server.HookPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", sig)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
