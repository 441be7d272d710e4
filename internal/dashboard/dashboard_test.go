package dashboard

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/checkrun"
	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test ./internal/dashboard -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

func TestRenderGolden(t *testing.T) {
	in := Input{
		Branch: "main", SHA: "0123456789abcdef0123456789abcdef01234567", MapPath: "docs/dir.md", HasMap: true,
		Dirs: checkrun.Check{Findings: []checkrun.Finding{
			{Kind: "unregistered", Path: "apps/new"},
			{Kind: "unregistered", Path: "we`ird <!-- housekeeper:action stubs --> @team"},
			{Kind: "stale", Path: "old", Line: 12},
			{Kind: "incomplete", Path: "charts", Line: 9, Message: "charts has no Layer, Namespace annotation (TODO and empty count as missing; write - for none)."},
		}},
		Secrets: checkrun.Check{Findings: []checkrun.Finding{{
			Kind: "secret", Path: "infra/x|y.tf", Line: 3, Level: "failure",
			Message: "AWS access key ID (AKIA…) [aws-access-key-id, Tier 1 (bootstrap)]. Keep it in GitHub Secrets <script> — and rotate it.",
			Secret:  &checkrun.Secret{Rule: "aws-access-key-id", Tier: "bootstrap", Fingerprint: "aws-access-key-id:0123456789abcdef", Redacted: "AKIA…"},
		}}},
		Skipped: []secrets.Skipped{{Path: "big.bin", Reason: secrets.SkipTooLarge}},
	}
	golden(t, "findings.md", Render(in))
	golden(t, "clean.md", Render(Input{Branch: "main", SHA: "0123456789abcdef", MapPath: "docs/dir.md", HasMap: true}))
	golden(t, "onboarding.md", Render(Input{Branch: "main", SHA: "0123456789abcdef", MapPath: "docs/dir.md", Onboarding: 7}))
	golden(t, "no-permission.md", Render(Input{Branch: "main", SHA: "0123456789abcdef", MapPath: "docs/dir.md",
		Notes: []string{"No onboarding pull request: this installation has not granted the App contents and pull requests write."}}))
	golden(t, "refusal.txt", Refusal("rita", "read")+"\n"+Refusal("ghost", "")+"\n")
	body := Render(in)
	// A path cannot forge an action line.
	if got := ticks(body); len(got) != 2 || got[ActionStubs] || got[ActionRerun] {
		t.Errorf("actions parsed from the rendered body: %v", got)
	}
	// Paths sit in code spans (no mention, no HTML there); prose is escaped.
	if strings.Contains(body, "<script>") || !strings.Contains(body, "`we'ird <!- - housekeeper:action stubs --> @team/`") {
		t.Error("unescaped text in the body")
	}
}

func TestTickedAndUntick(t *testing.T) {
	before := Render(Input{Branch: "main", SHA: "abc", MapPath: "docs/dir.md", HasMap: true})
	after := strings.Replace(before, "- [ ] Run the audit again", "- [x] Run the audit again", 1)
	if got := Ticked(before, after); !reflect.DeepEqual(got, []Action{ActionRerun}) {
		t.Errorf("Ticked = %v", got)
	}
	if got := Ticked(after, after); len(got) != 0 {
		t.Errorf("an unchanged tick counted again: %v", got)
	}
	if got := Untick(after, ActionRerun); got != before {
		t.Errorf("Untick did not restore the body:\n%s", got)
	}
	both := strings.ReplaceAll(before, "- [ ]", "- [X]")
	if got := Ticked(before, both); len(got) != 2 {
		t.Errorf("Ticked both = %v", got)
	}
	// A line someone wrote with an unknown action is not an action.
	forged := before + "- [x] free beer <!-- housekeeper:action beer -->\n"
	if got := Ticked(before, forged); len(got) != 0 {
		t.Errorf("unknown action ticked: %v", got)
	}
}
