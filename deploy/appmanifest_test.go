package deploy

import (
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"
)

// appManifest is GitHub's App manifest format:
// https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
// Decoding is strict, so a misspelt field fails the test instead of being
// silently ignored by GitHub.
type appManifest struct {
	Name           string `json:"name"`
	URL            string `json:"url"`
	Description    string `json:"description"`
	Public         *bool  `json:"public"`
	HookAttributes struct {
		URL    string `json:"url"`
		Active *bool  `json:"active"`
	} `json:"hook_attributes"`
	RedirectURL           string            `json:"redirect_url"`
	CallbackURLs          []string          `json:"callback_urls"`
	SetupURL              string            `json:"setup_url"`
	SetupOnUpdate         *bool             `json:"setup_on_update"`
	RequestOAuthOnInstall *bool             `json:"request_oauth_on_install"`
	DefaultEvents         []string          `json:"default_events"`
	DefaultPermissions    map[string]string `json:"default_permissions"`
}

// The App's least-privilege contract (docs/deploy.md explains each line).
var (
	wantEvents = []string{"check_run", "check_suite", "issue_comment", "issues", "merge_group", "pull_request", "push"}

	wantPermissions = map[string]string{
		"checks":        "write", // create and update the two check runs
		"contents":      "write", // trees, blobs, tarballs; commits to the onboarding and fix branches
		"issues":        "write", // reply and react to PR comments; the Housekeeping dashboard
		"merge_queues":  "read",  // merge_group events
		"metadata":      "read",  // mandatory for every App
		"pull_requests": "write", // PR files and commits; opening the onboarding pull request
	}
)

func readAppManifest(t *testing.T) appManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "app.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var m appManifest
	if err := yaml.UnmarshalStrict(b, &m); err != nil {
		t.Fatalf("app.yml: %v", err)
	}
	return m
}

func TestAppManifest(t *testing.T) {
	m := readAppManifest(t)

	if m.Name == "" || len(m.Name) > 34 {
		t.Errorf("name %q: GitHub wants 1 to 34 characters", m.Name)
	}
	if m.Description == "" {
		t.Error("description is empty")
	}
	if m.Public == nil || *m.Public {
		t.Error("public must be false: each organisation registers its own App")
	}
	if m.HookAttributes.Active == nil || !*m.HookAttributes.Active {
		t.Error("hook_attributes.active must be true")
	}

	events := slices.Clone(m.DefaultEvents)
	slices.Sort(events)
	if !slices.Equal(events, wantEvents) || len(slices.Compact(slices.Clone(events))) != len(events) {
		t.Errorf("default_events = %v, want exactly %v", m.DefaultEvents, wantEvents)
	}
	for _, unasked := range []string{"installation", "installation_repositories"} {
		if slices.Contains(m.DefaultEvents, unasked) {
			t.Errorf("default_events lists %s, which GitHub sends every App unasked", unasked)
		}
	}
	if !maps.Equal(m.DefaultPermissions, wantPermissions) {
		t.Errorf("default_permissions = %v, want exactly %v", m.DefaultPermissions, wantPermissions)
	}

	// URLs: absolute https placeholders that `housekeeper setup` rewrites;
	// the webhook goes to the server's hook route.
	urls := map[string]string{
		"url":                 m.URL,
		"hook_attributes.url": m.HookAttributes.URL,
		"redirect_url":        m.RedirectURL,
	}
	// The server serves no pages: a setup_url or OAuth callback would send
	// installers to a 404.
	if m.SetupURL != "" || len(m.CallbackURLs) > 0 {
		t.Errorf("setup_url %q / callback_urls %v point at pages the server does not serve", m.SetupURL, m.CallbackURLs)
	}
	for i, u := range m.CallbackURLs {
		urls[fmt.Sprintf("callback_urls[%d]", i)] = u
	}
	for field, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			t.Errorf("%s = %q, want an absolute https URL", field, raw)
		}
	}
	if u, err := url.Parse(m.HookAttributes.URL); err == nil && u.Path != "/api/github/hook" {
		t.Errorf("hook_attributes.url path %q, want /api/github/hook (the server's webhook route)", u.Path)
	}
}
