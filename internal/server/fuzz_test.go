package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/handlers"
	"github.com/housekeeper-app/housekeeper/internal/metrics"
	"github.com/housekeeper-app/housekeeper/internal/runner"
)

// jobSink is the handlers' runner and commenter in the fuzz target: it
// only records what they would run.
type jobSink struct {
	mu   sync.Mutex
	jobs int
}

func (s *jobSink) Run(context.Context, runner.Job) error {
	s.mu.Lock()
	s.jobs++
	s.mu.Unlock()
	return nil
}
func (s *jobSink) Comment(context.Context, runner.CommentJob) error {
	s.mu.Lock()
	s.jobs++
	s.mu.Unlock()
	return nil
}

// FuzzHook drives the webhook path with arbitrary events and bodies,
// signed or not: the guard must answer one of its documented statuses
// without panicking, never pass an unsigned body on, and the App's
// handlers must decode whatever it passes on without panicking.
func FuzzHook(f *testing.F) {
	for _, seed := range []struct {
		event, body string
		signed      bool
	}{
		{"pull_request", `{"action":"opened","installation":{"id":1},"repository":{"full_name":"a/b","name":"b","owner":{"login":"a"}},"pull_request":{"number":1,"head":{"sha":"abc"},"base":{"sha":"def","ref":"main"}}}`, true},
		{"check_suite", `{"action":"requested","check_suite":{"head_sha":"abc","pull_requests":[{"number":1}]},"repository":{"name":"b","owner":{"login":"a"}}}`, true},
		{"check_run", `{"action":"rerequested","check_run":{"name":"housekeeper/dirs","external_id":"x"}}`, true},
		{"issue_comment", `{"action":"created","comment":{"body":"/housekeeper help"},"issue":{"number":1,"pull_request":{}}}`, true},
		{"push", `{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000","after":"abc"}`, true},
		{"merge_group", `{"action":"checks_requested","merge_group":{"head_sha":"abc","head_ref":"refs/heads/gh-readonly-queue/main/pr-1-abc"}}`, true},
		{"installation", `{"action":"created","installation":{"id":1},"repositories":[{"full_name":"a/b"}]}`, true},
		{"pull_request", `{"action":"opened"}`, false},
		{"pull_request", `not json`, true},
		{"pull_request", `["array"]`, true},
		{"pull_request", "{\"action\":\"opened\x00\xff\xfe\"}", true},
		{"pull_request", strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200), true},
		{"star", `{"action":"created"}`, true},
		{"ping", `{"zen":"hi"}`, true},
		{"", `{}`, true},
	} {
		f.Add(seed.event, []byte(seed.body), seed.signed)
	}

	sink := &jobSink{}
	hs := []githubapp.EventHandler{
		&handlers.PullRequest{Runner: sink},
		&handlers.CheckSuite{Runner: sink},
		&handlers.CheckRun{Runner: sink, Commenter: sink},
		&handlers.IssueComment{Commenter: sink},
		&handlers.Push{Runner: sink},
		&handlers.MergeGroup{Runner: sink},
	}
	byEvent := map[string]githubapp.EventHandler{}
	for _, h := range hs {
		for _, e := range h.Handles() {
			byEvent[e] = h
		}
	}
	// A guard whose handler only records, so nothing runs behind it.
	rec := &stubHandler{events: []string{"pull_request", "check_suite", "check_run", "issue_comment", "push", "merge_group"}}
	s, err := New(testConfig(f, func(c *Config) { c.MaxBodyBytes = 1 << 20; c.QueueSize = 1 << 16; c.DedupSize = 0 }), zerolog.Nop(), metrics.New("fuzz"), rec)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.sched.Shutdown(context.Background()) })

	f.Fuzz(func(t *testing.T, event string, body []byte, signed bool) {
		r := httptest.NewRequest(http.MethodPost, HookPath, strings.NewReader(string(body)))
		if event != "" {
			r.Header.Set("X-GitHub-Event", event)
		}
		r.Header.Set("X-GitHub-Delivery", "fuzz")
		if signed {
			r.Header.Set("X-Hub-Signature-256", Sign([]byte(testSecret), body))
		}
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK, http.StatusAccepted, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable:
		default:
			t.Fatalf("status %d (%s)", w.Code, w.Body)
		}
		if !signed && w.Code != http.StatusBadRequest && w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("an unsigned body got %d", w.Code)
		}
		if w.Code != http.StatusAccepted {
			return
		}
		// What the guard passed on, the App's handler decodes without a
		// panic (an error is a fine answer).
		if h := byEvent[event]; h != nil {
			_ = h.Handle(context.Background(), event, "fuzz", body)
		}
	})
}
