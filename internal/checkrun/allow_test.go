package checkrun

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

// An inline allow on a private key block counts on any line of the block
// (here its END line), and only where that line is already on the base
// (issue 10, item 10).
func TestAllowOnAKeyBlocksEndLine(t *testing.T) {
	scanner, err := secrets.New(secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := corpus.NewRand(21)
	lines := []string{"-----BEGIN " + "RSA PRIVATE KEY-----", g.String(corpus.B64, 64), g.String(corpus.B64, 64), g.String(corpus.B64, 30),
		"-----END " + "RSA PRIVATE KEY----- # housekeeper:allow test fixture"}
	var added []secrets.DiffLine
	for i, l := range lines {
		added = append(added, secrets.DiffLine{Line: i + 2, Text: l})
	}
	head := "# fixture\n" + strings.Join(lines, "\n") + "\n"
	for name, tc := range map[string]struct {
		base       string
		suppressed bool
	}{
		"the allow line is on the base": {base: "# fixture\n" + lines[4] + "\n", suppressed: true},
		"the author added the allow":    {base: "# fixture\n", suppressed: false},
	} {
		t.Run(name, func(t *testing.T) {
			scan := NewSecretsScan(scanner, false)
			d := secrets.FileDiff{OldPath: "deploy/key.txt", NewPath: "deploy/key.txt", Added: added}
			if err := scan.AddCommit(context.Background(), "c1", []secrets.FileDiff{d}, func(string) []byte { return []byte(head) }, true); err != nil {
				t.Fatal(err)
			}
			scan.Allow(func(string) (io.ReadCloser, bool) { return io.NopCloser(strings.NewReader(tc.base)), true })
			if len(scan.findings) != 1 {
				t.Fatalf("findings: %+v", scan.findings)
			}
			if f := scan.findings[0]; f.Suppressed != tc.suppressed {
				t.Errorf("suppressed %v (%q), want %v", f.Suppressed, f.SuppressedBy, tc.suppressed)
			}
		})
	}
}

// An honoured inline allow is listed as suppressed by the marker the line
// carries, not always housekeeper:allow: in an audit, and in a pull
// request where the line is already on the base. A Terraform variable's
// default (a value the engine finds by its own analysis) counts as any
// other.
func TestAllowNamesTheMarker(t *testing.T) {
	scanner, err := secrets.New(secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := corpus.NewRand(22)
	for _, tc := range []struct {
		path, line, marker string
	}{
		{"app/settings.py", "GITHUB_TOKEN = '" + "gh" + "p_" + g.String(corpus.Alnum, 36) + "'  # housekeeper:allow", "housekeeper:allow"},
		{"app/settings.py", "GITHUB_TOKEN = '" + "gh" + "p_" + g.String(corpus.Alnum, 36) + "'  # pragma: allowlist secret", "pragma: allowlist secret"},
		{"app/settings.py", "GITHUB_TOKEN = '" + "gh" + "p_" + g.String(corpus.Alnum, 36) + "'  # pragma: whitelist secret", "pragma: whitelist secret"},
		{"infra/vars.tf", `  default = "` + g.String(corpus.Alnum, 20) + `" # pragma: allowlist secret`, "pragma: allowlist secret"},
	} {
		content := "# fixture\n" + tc.line + "\n"
		if strings.HasSuffix(tc.path, ".tf") {
			content = "variable \"db_password\" {\n  sensitive = true\n" + tc.line + "\n}\n"
		}
		t.Run(tc.marker+" audit "+tc.path, func(t *testing.T) {
			scan := NewSecretsScan(scanner, true)
			res, err := scanner.ScanTree(context.Background(), func(yield func(secrets.File, error) bool) {
				yield(secrets.ContentFile(tc.path, []byte(content)), nil)
			})
			if err != nil {
				t.Fatal(err)
			}
			scan.AddTree(res)
			scan.Allow(nil)
			wantSuppressed(t, scan, "inline "+tc.marker)
		})
		t.Run(tc.marker+" pull request "+tc.path, func(t *testing.T) {
			var added []secrets.DiffLine
			for i, l := range strings.Split(strings.TrimSuffix(content, "\n"), "\n") {
				added = append(added, secrets.DiffLine{Line: i + 1, Text: l})
			}
			scan := NewSecretsScan(scanner, false)
			d := secrets.FileDiff{OldPath: tc.path, NewPath: tc.path, Added: added}
			if err := scan.AddCommit(context.Background(), "c1", []secrets.FileDiff{d}, func(string) []byte { return []byte(content) }, true); err != nil {
				t.Fatal(err)
			}
			scan.Allow(func(string) (io.ReadCloser, bool) { return io.NopCloser(strings.NewReader(tc.line + "\n")), true })
			wantSuppressed(t, scan, "inline "+tc.marker+" (line already on the base branch)")
		})
	}
}

func wantSuppressed(t *testing.T, scan *SecretsScan, by string) {
	t.Helper()
	if len(scan.findings) != 1 {
		t.Fatalf("findings: %+v", scan.findings)
	}
	if f := scan.findings[0]; !f.Suppressed || f.SuppressedBy != by {
		t.Errorf("%s: suppressed %v by %q, want by %q", f.RuleID, f.Suppressed, f.SuppressedBy, by)
	}
}
