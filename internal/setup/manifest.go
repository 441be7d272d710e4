// Package setup registers the GitHub App through GitHub's App-manifest flow
// (https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest):
// it loads and checks app.yml, serves a local page whose form posts the
// manifest to GitHub, and on GitHub's redirect back exchanges the one-time
// code for the App's id, private key and webhook secret, which it writes to
// files. Secrets never reach stdout, stderr or a log.
package setup

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Manifest is GitHub's App manifest. Booleans are pointers so an unset field
// stays unset in the JSON GitHub receives (hook_attributes.active defaults
// to true there).
type Manifest struct {
	Name                  string            `yaml:"name" json:"name"`
	URL                   string            `yaml:"url" json:"url"`
	Description           string            `yaml:"description" json:"description,omitempty"`
	Public                *bool             `yaml:"public" json:"public,omitempty"`
	HookAttributes        *HookAttributes   `yaml:"hook_attributes" json:"hook_attributes,omitempty"`
	RedirectURL           string            `yaml:"redirect_url" json:"redirect_url,omitempty"`
	CallbackURLs          []string          `yaml:"callback_urls" json:"callback_urls,omitempty"`
	SetupURL              string            `yaml:"setup_url" json:"setup_url,omitempty"`
	SetupOnUpdate         *bool             `yaml:"setup_on_update" json:"setup_on_update,omitempty"`
	RequestOAuthOnInstall *bool             `yaml:"request_oauth_on_install" json:"request_oauth_on_install,omitempty"`
	DefaultEvents         []string          `yaml:"default_events" json:"default_events,omitempty"`
	DefaultPermissions    map[string]string `yaml:"default_permissions" json:"default_permissions,omitempty"`
}

// HookAttributes is the manifest's webhook.
type HookAttributes struct {
	URL    string `yaml:"url" json:"url"`
	Active *bool  `yaml:"active" json:"active,omitempty"`
}

// HookPath is the server's webhook route; Rewrite points the webhook there.
const HookPath = "/api/github/hook"

// maxNameLen is GitHub's limit on an App's name.
const maxNameLen = 34

// LoadManifest reads and checks a manifest file. Every problem is reported
// at once, each naming the file and the field.
func LoadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read App manifest: %w", err)
	}
	return ParseManifest(path, data)
}

// ParseManifest decodes a manifest strictly (an unknown field is an error:
// GitHub would silently ignore a misspelt one) and checks it; name is the
// file name used in messages.
func ParseManifest(name string, data []byte) (*Manifest, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			lines := make([]string, len(te.Errors))
			for i, e := range te.Errors {
				lines[i] = name + ": " + e
			}
			return nil, errors.New(strings.Join(lines, "\n"))
		}
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if probs := m.problems(); len(probs) > 0 {
		for i, p := range probs {
			probs[i] = name + ": " + p
		}
		return nil, errors.New(strings.Join(probs, "\n"))
	}
	return &m, nil
}

// Validate reports every problem of the manifest, each naming its field.
func (m *Manifest) Validate() error {
	if probs := m.problems(); len(probs) > 0 {
		return errors.New(strings.Join(probs, "\n"))
	}
	return nil
}

func (m *Manifest) problems() []string {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }

	switch {
	case strings.TrimSpace(m.Name) == "":
		add("name: required")
	case len(m.Name) > maxNameLen:
		add("name: %q is longer than GitHub's %d characters", m.Name, maxNameLen)
	}
	if m.URL == "" {
		add("url: required")
	} else if msg := checkURL(m.URL); msg != "" {
		add("url: %s", msg)
	}
	if m.HookAttributes == nil || m.HookAttributes.URL == "" {
		add("hook_attributes.url: required (the App receives webhooks)")
	} else if msg := checkURL(m.HookAttributes.URL); msg != "" {
		add("hook_attributes.url: %s", msg)
	}
	if m.RedirectURL != "" {
		if msg := checkURL(m.RedirectURL); msg != "" {
			add("redirect_url: %s", msg)
		}
	}
	if m.SetupURL != "" {
		if msg := checkURL(m.SetupURL); msg != "" {
			add("setup_url: %s", msg)
		}
	}
	if len(m.CallbackURLs) > 10 {
		add("callback_urls: %d URLs, GitHub allows 10", len(m.CallbackURLs))
	}
	for i, u := range m.CallbackURLs {
		if msg := checkURL(u); msg != "" {
			add("callback_urls[%d]: %s", i, msg)
		}
	}

	if len(m.DefaultEvents) == 0 {
		add("default_events: required (the App acts on webhook events)")
	}
	seen := map[string]bool{}
	for i, e := range m.DefaultEvents {
		switch {
		case seen[e]:
			add("default_events[%d]: %q is listed twice", i, e)
		case unasked[e]:
			add("default_events[%d]: %q is sent to every App unasked; do not list it", i, e)
		case !knownEvent(e):
			add("default_events[%d]: unknown event %q", i, e)
		default:
			if need := eventPermissions[e]; len(need) > 0 && !slices.ContainsFunc(need, func(p string) bool { return m.DefaultPermissions[p] != "" }) {
				add("default_events[%d]: %q needs the %s permission", i, e, strings.Join(need, " or "))
			}
		}
		seen[e] = true
	}

	if len(m.DefaultPermissions) == 0 {
		add("default_permissions: required")
	}
	for _, p := range sortedKeys(m.DefaultPermissions) {
		v := m.DefaultPermissions[p]
		switch {
		case !slices.Contains(knownPermissions, p):
			add("default_permissions.%s: unknown permission", p)
		case v != "read" && v != "write" && v != "admin":
			add("default_permissions.%s: %q, want read, write or admin", p, v)
		}
	}
	if v, ok := m.DefaultPermissions["metadata"]; len(m.DefaultPermissions) > 0 && (!ok || v != "read") {
		add("default_permissions.metadata: must be read (GitHub grants it to every App)")
	}
	return probs
}

// checkURL accepts an absolute http(s) URL without query or fragment.
func checkURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Sprintf("%q is not a URL", raw)
	case (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return fmt.Sprintf("%q is not an absolute http(s) URL", raw)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("%q has a query or fragment", raw)
	}
	return ""
}

// RewriteOptions says how to adapt the manifest for one registration.
type RewriteOptions struct {
	// Name replaces the App's name when set (names are unique on GitHub).
	Name string
	// PublicURL is the App's public base URL: it becomes url, the webhook
	// becomes PublicURL/api/github/hook, and every other URL that starts
	// with the manifest's placeholder url starts with PublicURL instead.
	PublicURL string
	// RedirectURL is where GitHub sends the browser back with the code.
	RedirectURL string
}

// Rewrite returns a copy adapted for one registration, checked again.
func (m *Manifest) Rewrite(o RewriteOptions) (*Manifest, error) {
	c := *m
	c.CallbackURLs = slices.Clone(m.CallbackURLs)
	c.DefaultEvents = slices.Clone(m.DefaultEvents)
	c.DefaultPermissions = make(map[string]string, len(m.DefaultPermissions))
	for k, v := range m.DefaultPermissions {
		c.DefaultPermissions[k] = v
	}
	if m.HookAttributes != nil {
		h := *m.HookAttributes
		c.HookAttributes = &h
	} else {
		c.HookAttributes = &HookAttributes{}
	}
	if o.Name != "" {
		c.Name = o.Name
	}
	if o.PublicURL != "" {
		if msg := checkURL(o.PublicURL); msg != "" {
			return nil, fmt.Errorf("public URL: %s", msg)
		}
		public := strings.TrimRight(o.PublicURL, "/")
		placeholder := strings.TrimRight(m.URL, "/")
		swap := func(u string) string {
			if rest, ok := strings.CutPrefix(u, placeholder); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
				return public + rest
			}
			return u
		}
		c.URL = public
		c.HookAttributes.URL = public + HookPath
		c.SetupURL = swap(c.SetupURL)
		for i, u := range c.CallbackURLs {
			c.CallbackURLs[i] = swap(u)
		}
	}
	if o.RedirectURL != "" {
		c.RedirectURL = o.RedirectURL
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// unasked are the events GitHub sends every App without a subscription.
var unasked = map[string]bool{"installation": true, "installation_repositories": true, "installation_target": true, "github_app_authorization": true}

// eventPermissions names the permissions (any one of them) an App needs to
// subscribe to an event; GitHub refuses the manifest otherwise.
var eventPermissions = map[string][]string{
	"check_run":                   {"checks"},
	"check_suite":                 {"checks"},
	"commit_comment":              {"contents"},
	"create":                      {"contents"},
	"delete":                      {"contents"},
	"deployment":                  {"deployments"},
	"deployment_status":           {"deployments"},
	"issue_comment":               {"issues", "pull_requests"},
	"issues":                      {"issues"},
	"label":                       {"metadata"},
	"merge_group":                 {"merge_queues"},
	"pull_request":                {"pull_requests"},
	"pull_request_review":         {"pull_requests"},
	"pull_request_review_comment": {"pull_requests"},
	"pull_request_review_thread":  {"pull_requests"},
	"push":                        {"contents"},
	"release":                     {"contents"},
	"status":                      {"statuses"},
	"workflow_job":                {"actions"},
	"workflow_run":                {"actions"},
}

// otherEvents are webhook events an App may subscribe to whose permission
// is not checked here.
var otherEvents = []string{
	"branch_protection_configuration", "branch_protection_rule", "code_scanning_alert", "custom_property",
	"custom_property_values", "dependabot_alert", "deploy_key", "deployment_protection_rule", "deployment_review",
	"discussion", "discussion_comment", "fork", "gollum", "member", "membership", "meta", "milestone", "org_block",
	"organization", "package", "page_build", "project", "project_card", "project_column", "projects_v2",
	"projects_v2_item", "public", "registry_package", "repository", "repository_advisory", "repository_dispatch",
	"repository_import", "repository_ruleset", "repository_vulnerability_alert", "secret_scanning_alert",
	"secret_scanning_alert_location", "security_advisory", "security_and_analysis", "star", "team", "team_add",
	"watch", "workflow_dispatch",
}

func knownEvent(e string) bool {
	_, ok := eventPermissions[e]
	return ok || slices.Contains(otherEvents, e)
}

// knownPermissions are the properties of GitHub's app-permissions schema
// (the REST API's OpenAPI description).
var knownPermissions = []string{
	"actions", "administration", "artifact_metadata", "attestations", "checks", "code_quality", "codespaces",
	"contents", "custom_properties_for_organizations", "dependabot_secrets", "deployments", "discussions",
	"email_addresses", "enterprise_custom_properties_for_organizations", "environments", "followers",
	"git_ssh_keys", "gpg_keys", "interaction_limits", "issues", "members", "merge_queues", "metadata",
	"organization_administration", "organization_announcement_banners", "organization_copilot_agent_settings",
	"organization_copilot_seat_management", "organization_custom_org_roles", "organization_custom_properties",
	"organization_custom_roles", "organization_events", "organization_hooks", "organization_packages",
	"organization_personal_access_token_requests", "organization_personal_access_tokens", "organization_plan",
	"organization_projects", "organization_secrets", "organization_self_hosted_runners",
	"organization_user_blocking", "packages", "pages", "profile", "pull_requests", "repository_custom_properties",
	"repository_hooks", "repository_projects", "secret_scanning_alerts", "secrets", "security_events",
	"single_file", "starring", "statuses", "vulnerability_alerts", "workflows",
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
