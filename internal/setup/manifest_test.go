package setup

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadManifestAppYML(t *testing.T) {
	m, err := LoadManifest(filepath.Join("..", "..", "app.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name == "" || m.HookAttributes == nil || len(m.DefaultEvents) == 0 || m.DefaultPermissions["checks"] != "write" {
		t.Errorf("app.yml decoded incompletely: %+v", m)
	}
}

const validManifest = `name: housekeeper
url: https://housekeeper.example.com
hook_attributes:
  url: https://housekeeper.example.com/api/github/hook
redirect_url: https://housekeeper.example.com/setup/callback
callback_urls: [https://housekeeper.example.com/auth/callback]
setup_url: https://housekeeper.example.com/setup
public: false
default_events: [check_run, pull_request, push, issue_comment, merge_group]
default_permissions: {checks: write, contents: read, pull_requests: read, issues: write, merge_queues: read, metadata: read}
`

func TestParseManifestProblems(t *testing.T) {
	tests := map[string]struct {
		yaml string
		want []string // each a line of the error, in order
	}{
		"valid": {yaml: validManifest},
		"unknown field": {
			yaml: validManifest + "default_event: [push]\n",
			want: []string{`app.yml: line 11: field default_event not found in type setup.Manifest`},
		},
		"nothing": {
			yaml: "public: false\n",
			want: []string{
				"app.yml: name: required",
				"app.yml: url: required",
				"app.yml: hook_attributes.url: required (the App receives webhooks)",
				"app.yml: default_events: required (the App acts on webhook events)",
				"app.yml: default_permissions: required",
			},
		},
		"bad fields": {
			yaml: `name: a-name-that-is-much-longer-than-thirty-four
url: ftp://x
hook_attributes: {url: "https://h/api/github/hook?x=1"}
callback_urls: [relative/path]
default_events: [push, push, pul_request, installation, check_run]
default_permissions: {contents: read, metadata: write, pull_requests: maybe, chekcs: write}
`,
			want: []string{
				`app.yml: name: "a-name-that-is-much-longer-than-thirty-four" is longer than GitHub's 34 characters`,
				`app.yml: url: "ftp://x" is not an absolute http(s) URL`,
				`app.yml: hook_attributes.url: "https://h/api/github/hook?x=1" has a query or fragment`,
				`app.yml: callback_urls[0]: "relative/path" is not an absolute http(s) URL`,
				`app.yml: default_events[1]: "push" is listed twice`,
				`app.yml: default_events[2]: unknown event "pul_request"`,
				`app.yml: default_events[3]: "installation" is sent to every App unasked; do not list it`,
				`app.yml: default_events[4]: "check_run" needs the checks permission`,
				`app.yml: default_permissions.chekcs: unknown permission`,
				`app.yml: default_permissions.pull_requests: "maybe", want read, write or admin`,
				`app.yml: default_permissions.metadata: must be read (GitHub grants it to every App)`,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseManifest("app.yml", []byte(tc.yaml))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestRewrite(t *testing.T) {
	m, err := ParseManifest("app.yml", []byte(validManifest))
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Rewrite(RewriteOptions{Name: "hk-acme", PublicURL: "https://hk.acme.dev/", RedirectURL: "http://127.0.0.1:3000/callback"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"name":                got.Name,
		"url":                 got.URL,
		"hook_attributes.url": got.HookAttributes.URL,
		"redirect_url":        got.RedirectURL,
		"setup_url":           got.SetupURL,
		"callback_urls[0]":    got.CallbackURLs[0],
	}
	for field, v := range map[string]string{
		"name":                "hk-acme",
		"url":                 "https://hk.acme.dev",
		"hook_attributes.url": "https://hk.acme.dev/api/github/hook",
		"redirect_url":        "http://127.0.0.1:3000/callback",
		"setup_url":           "https://hk.acme.dev/setup",
		"callback_urls[0]":    "https://hk.acme.dev/auth/callback",
	} {
		if want[field] != v {
			t.Errorf("%s = %q, want %q", field, want[field], v)
		}
	}
	if m.URL != "https://housekeeper.example.com" || m.CallbackURLs[0] != "https://housekeeper.example.com/auth/callback" {
		t.Error("Rewrite changed the original")
	}

	// The JSON GitHub receives keeps false booleans and drops unset ones.
	js, _ := json.Marshal(got)
	if !strings.Contains(string(js), `"public":false`) || strings.Contains(string(js), `"active"`) {
		t.Errorf("JSON: %s", js)
	}

	if _, err := m.Rewrite(RewriteOptions{PublicURL: "hk.acme.dev"}); err == nil || err.Error() != `public URL: "hk.acme.dev" is not an absolute http(s) URL` {
		t.Errorf("relative public URL: %v", err)
	}
}
