package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// example reads one of GitHub's example webhook payloads from the project's
// own copy.
func example(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "githubtest", "testdata", "webhooks", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The Action's entry point in a simulated Actions environment: a real
// pull_request payload (GitHub's example, its base SHA pointed at the test
// repository's main), a real git repository as the workspace, and the
// step-summary and output files. It writes the three outputs, and each is
// exactly what the CLI's matching format prints.
func TestActionInASimulatedWorkflow(t *testing.T) {
	p := plant(11)
	r := secretsScenario(t, p)
	r.commit("a new directory", map[string]string{"tools/lint.sh": "#!/bin/sh\n"})
	mainSHA := strings.TrimSpace(r.git("rev-parse", "main"))

	tmp := t.TempDir()
	event := example(t, "pull_request.opened.1")
	event["pull_request"].(map[string]any)["base"].(map[string]any)["sha"] = mainSHA
	eventPath := filepath.Join(tmp, "event.json")
	writeJSON(t, eventPath, event)
	summary := filepath.Join(tmp, "step_summary.md")
	os.WriteFile(summary, []byte("earlier step\n"), 0o644)
	outputs := filepath.Join(tmp, "output")

	for k, v := range map[string]string{
		"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": eventPath, "GITHUB_WORKSPACE": r.dir,
		"GITHUB_STEP_SUMMARY": summary, "GITHUB_OUTPUT": outputs,
		"INPUT_BASE": "", "INPUT_ONLY": "", "INPUT_CONFIG": "", "INPUT_FAIL_ON": "", "INPUT_SARIF": "housekeeper.sarif",
	} {
		t.Setenv(k, v)
	}
	stdout, stderr, code := runCLI(t, "action")
	if code != exitFindings {
		t.Fatalf("exit %d, want 1; stderr: %s", code, stderr)
	}
	if !strings.Contains(stderr, "checking the change from "+mainSHA[:12]) {
		t.Errorf("stderr does not say what it compares: %q", stderr)
	}

	// 1. Annotations: the CLI's --format github for the same change.
	want, _, _ := runCLI(t, "check", "--base", mainSHA, "--format", "github", r.dir)
	if stdout != want || !strings.Contains(stdout, "::error file=infra/envs/prod/creds.tf,line=2,title=aws-access-key-id (bootstrap)::") {
		t.Errorf("workflow commands:\n%s\nwant:\n%s", stdout, want)
	}
	// 2. The step summary: appended, and exactly the posted summaries.
	md, _, _ := runCLI(t, "check", "--base", mainSHA, "--format", "markdown", r.dir)
	got, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "earlier step\n"+md || !strings.Contains(md, "## housekeeper/secrets: failure") {
		t.Errorf("step summary:\n%s", got)
	}
	// 3. SARIF, in the workspace where upload-sarif finds it.
	data, err := os.ReadFile(filepath.Join(r.dir, "housekeeper.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &sarif); err != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 {
		t.Fatalf("SARIF: %v\n%s", err, data)
	}
	rules := map[string]bool{}
	for _, res := range sarif.Runs[0].Results {
		rules[res.RuleID] = true
	}
	for _, id := range []string{"aws-access-key-id", "github-pat", "dirs/unregistered"} {
		if !rules[id] {
			t.Errorf("SARIF has no %s result: %v", id, rules)
		}
	}
	if o, _ := os.ReadFile(outputs); string(o) != "dirs=failure\nsecrets=failure\n" {
		t.Errorf("step outputs %q", o)
	}
	// No output shows a planted value.
	for _, out := range []string{stdout, stderr, string(got), string(data)} {
		for _, v := range p.values() {
			if strings.Contains(out, v[4:9]) {
				t.Fatalf("an output shows part of a planted value (%q…)", v[:4])
			}
		}
	}

	// fail-on none: secrets no longer fail; only and a config input apply.
	t.Setenv("INPUT_FAIL_ON", "none")
	t.Setenv("INPUT_ONLY", "secrets")
	os.Remove(outputs)
	if _, stderr, code := runCLI(t, "action"); code != exitOK {
		t.Errorf("fail-on none: exit %d; %s", code, stderr)
	}
	if o, _ := os.ReadFile(outputs); string(o) != "secrets=success\n" {
		t.Errorf("step outputs %q", o)
	}

	// config: a file relative to the workspace replaces the base's config.
	os.MkdirAll(filepath.Join(r.dir, "ci"), 0o755)
	os.WriteFile(filepath.Join(r.dir, "ci", "housekeeper.yml"), []byte("dirs:\n  enforce: false\n"), 0o644)
	t.Setenv("INPUT_FAIL_ON", "")
	t.Setenv("INPUT_ONLY", "dirs")
	t.Setenv("INPUT_CONFIG", "ci/housekeeper.yml")
	os.Remove(outputs)
	if _, stderr, code := runCLI(t, "action"); code != exitOK {
		t.Errorf("config input: exit %d; %s", code, stderr)
	}
	if o, _ := os.ReadFile(outputs); string(o) != "dirs=neutral\n" {
		t.Errorf("config input: step outputs %q", o)
	}
}

// Each event's base comes from its own field of GitHub's example payloads;
// a payload whose base is not a commit id is refused before git sees it.
func TestActionEventBase(t *testing.T) {
	tmp := t.TempDir()
	tests := map[string]struct {
		event, example string
		edit           func(map[string]any)
		want, err      string
	}{
		"pull request":        {"pull_request", "pull_request.opened.1", nil, "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", ""},
		"push":                {"push", "push.2", nil, "6113728f27ae82c7b1a177c8d03f9e96e0adf246", ""},
		"new branch push":     {"push", "push.5", nil, "", ""},
		"merge group":         {"merge_group", "merge_group.checks_requested.1", nil, "380387fbc80638b734a49e1be1c4dfec1c01b33c", ""},
		"schedule":            {"schedule", "push.2", nil, "", ""},
		"hostile base":        {"push", "push.2", func(m map[string]any) { m["before"] = "--output=/etc/passwd" }, "", "the push payload's base is not a commit id"},
		"pull_request_target": {"pull_request_target", "pull_request.opened.1", nil, "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := example(t, tc.example)
			if tc.edit != nil {
				tc.edit(m)
			}
			path := filepath.Join(tmp, strings.ReplaceAll(name, " ", "-")+".json")
			writeJSON(t, path, m)
			got, err := eventBase(tc.event, path)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("base %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// action.yml passes every input the entry point reads, builds with the Go
// version go.mod names (module cache on), and runs the entry point.
func TestActionYAML(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct {
			Using string `yaml:"using"`
			Steps []struct {
				Uses string            `yaml:"uses"`
				With map[string]string `yaml:"with"`
				Run  string            `yaml:"run"`
				Env  map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	if a.Runs.Using != "composite" {
		t.Errorf("runs.using %q", a.Runs.Using)
	}
	var setup, entry bool
	for _, s := range a.Runs.Steps {
		if strings.HasPrefix(s.Uses, "actions/setup-go@") {
			setup = s.With["go-version-file"] == "${{ github.action_path }}/go.mod" && s.With["cache"] == "true"
		}
		if strings.HasSuffix(strings.TrimSpace(s.Run), `/housekeeper" action'`) || strings.Contains(s.Run, `housekeeper" action`) {
			entry = true
			for name := range a.Inputs {
				env := "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
				if s.Env[env] != "${{ inputs."+name+" }}" {
					t.Errorf("input %s is not passed as %s", name, env)
				}
			}
		}
	}
	if !setup || !entry {
		t.Errorf("setup-go from go.mod with the cache: %v; entry point run: %v", setup, entry)
	}
	for _, name := range []string{"base", "only", "config", "fail-on", "sarif"} {
		if _, ok := a.Inputs[name]; !ok {
			t.Errorf("no input %s", name)
		}
	}
}
