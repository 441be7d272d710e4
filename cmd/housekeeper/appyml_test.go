package main

import (
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/metrics"
	"github.com/housekeeper-app/housekeeper/internal/server"
	"github.com/housekeeper-app/housekeeper/internal/setup"
)

// unaskedEvents are sent by GitHub to every App without a subscription, so
// app.yml must not list them.
var unaskedEvents = []string{"installation", "installation_repositories"}

// leastPrivilege is the App's documented permission set (docs/deploy.md,
// "Permissions and why").
var leastPrivilege = map[string]string{
	"checks":        "write",
	"contents":      "write",
	"pull_requests": "write",
	"issues":        "write",
	"merge_queues":  "read",
	"metadata":      "read",
}

// app.yml is the single source of the App's events: its default_events are
// exactly what the handlers serve subscribes to, minus the events GitHub
// sends unasked.
func TestAppYMLEventsMatchHandlers(t *testing.T) {
	m, err := setup.LoadManifest(filepath.Join("..", "..", "app.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Default()
	cfg.AppID = 1
	a, err := appHandlers(AppDeps{Config: cfg, Metrics: metrics.New("test"), WebhookSecret: []byte("s")})
	if err != nil {
		t.Fatal(err)
	}
	hs := a.Handlers
	if len(hs) == 0 {
		t.Fatal("serve builds no handlers")
	}
	handled := map[string]bool{}
	for _, h := range hs {
		for _, e := range h.Handles() {
			handled[e] = true
		}
	}
	for _, e := range unaskedEvents {
		if !handled[e] {
			t.Errorf("no handler for %s, which GitHub sends every App", e)
		}
		delete(handled, e)
	}
	subscribed := slices.Sorted(maps.Keys(handled))
	listed := slices.Sorted(slices.Values(m.DefaultEvents))
	if !slices.Equal(subscribed, listed) {
		t.Errorf("app.yml default_events = %v; the handlers subscribe to %v (plus %v)", listed, subscribed, unaskedEvents)
	}
	for _, e := range unaskedEvents {
		if slices.Contains(m.DefaultEvents, e) {
			t.Errorf("app.yml lists %s, which GitHub sends unasked", e)
		}
	}
}

func TestAppYMLLeastPrivilege(t *testing.T) {
	m, err := setup.LoadManifest(filepath.Join("..", "..", "app.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(m.DefaultPermissions, leastPrivilege) {
		t.Errorf("app.yml default_permissions = %v, want exactly %v", m.DefaultPermissions, leastPrivilege)
	}
}
