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
