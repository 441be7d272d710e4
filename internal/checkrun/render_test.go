package checkrun

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/config"
	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// cutReport is an audit with more findings than max_annotations, one
// accepted in secrets.ignore and files that were not scanned: everything
// the text format must show and the App must cut.
func cutReport(t *testing.T) Report {
	t.Helper()
	cfg, err := config.Parse(".github/housekeeper.yml", []byte("secrets:\n  max_annotations: 2\n  ignore:\n    - fingerprint: aws-access-key-id:bc941ab7bf7e60da\n      reason: a revoked key kept as a test fixture\n"))
	if err != nil {
		t.Fatal(err)
	}
	scanner, err := NewScanner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	scan := NewSecretsScan(scanner, true)
	var found []secrets.Finding
	for i, key := range []string{"QX7QX7QX7QX7QX7Z", "QX6QX6QX6QX6QX6Z", "QX5QX5QX5QX5QX5Z"} {
		found = append(found, scanner.ScanContent("infra/env"+string(rune('a'+i))+"/main.tf", []byte("access_key = \"AK"+"IA"+key+"\"\n"))...)
	}
	found = append(found, scanner.ScanContent("apps/web/config.yaml", []byte("slack: https://hooks.slack.com/services/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"+"\n"))...)
	scan.AddTree(secrets.TreeResult{Findings: found, Skipped: []secrets.Skipped{
		{Path: "assets/logo.png", Reason: secrets.SkipBinary},
		{Path: "dumps/big.sql", Reason: secrets.SkipTooLarge},
	}})
	c := Secrets(SecretsInput{Scan: scan, Config: cfg, ConfigSource: cfg.Source})
	return Report{Checks: []Check{c}, MaxAnnotations: cfg.Secrets.MaxAnnotations}
}

func TestTextShowsEverythingAndWhatTheAppCuts(t *testing.T) {
	r := cutReport(t)
	c := r.Checks[0]
	if len(c.Findings) != 6 { // four secrets, two files not scanned
		t.Fatalf("%d findings, want 6: %+v", len(c.Findings), c.Findings)
	}
	var text, md bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"fingerprint aws-access-key-id:", "Config: .github/housekeeper.yml.", "assets/logo.png: binary",
		"suppressed (secrets.ignore: .github/housekeeper.yml: a revoked key", "the App posts 2 of 4 annotations"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q", want)
		}
	}
	// The markdown is what the App posts: the cut is said there too.
	if p := Post(c, r.MaxAnnotations); len(p.Annotations) != 2 || !strings.Contains(md.String(), p.Summary) ||
		!strings.Contains(p.Summary, "2 more annotations beyond the first 2") {
		t.Errorf("posted %d annotations; summary:\n%s", len(p.Annotations), p.Summary)
	}
	// JSON: the posted summary, and every finding.
	var js bytes.Buffer
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	var doc Report
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || len(doc.Checks) != 1 {
		t.Fatal(err)
	}
	if got := doc.Checks[0]; got.Summary != Post(c, r.MaxAnnotations).Summary || len(got.Findings) != 6 {
		t.Errorf("JSON summary is not the posted one, or findings were cut (%d)", len(got.Findings))
	}
	golden(t, "cut.text", text.String())
	golden(t, "cut.markdown", md.String())
}

// Workflow commands cannot be ended early or given extra properties by a
// hostile file name or message, and the cap applies as in the App.
func TestGitHubWorkflowCommands(t *testing.T) {
	r := Report{MaxAnnotations: 2, Checks: []Check{{
		Name: NameDirs, Conclusion: Failure, Title: "3 unregistered directories",
		Findings: []Finding{
			{Kind: "unregistered", Path: "a,b", File: "a,b/x:y.txt", Line: 3, Level: LevelFailure, Message: "100% new\n::error::forged"},
			{Kind: "stale", Path: "old", File: "docs/dir.md", Line: 0, Level: LevelWarning, Message: "gone\r\nreally"},
			{Kind: "realised", Path: "c", File: "docs/dir.md", Line: 9, Level: LevelNotice, Message: "now exists"},
		},
	}}}
	var b bytes.Buffer
	if err := WriteGitHub(&b, r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := []string{
		// Annotation messages already show control characters visibly.
		`::error file=a%2Cb/x%3Ay.txt,line=3,title=unregistered::100%25 new\n::error::forged`,
		`::warning file=docs/dir.md,line=1,title=stale::gone\r\nreally`,
		"::notice::housekeeper/dirs: failure — 3 unregistered directories (on GitHub, the App's check run is shorter: the App posts 2 of 3 annotations (max_annotations: 2); the summary counts the rest)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// The workflow-command encoders themselves, on raw input.
	if got := escapeData("100% new\r\n::error::x"); got != "100%25 new%0D%0A::error::x" {
		t.Errorf("escapeData: %q", got)
	}
	if got := escapeProperty("a,b:c%\n"); got != "a%2Cb%3Ac%25%0A" {
		t.Errorf("escapeProperty: %q", got)
	}
}
