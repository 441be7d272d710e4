package secrets_test

import (
	"os"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// TestDocsListEveryRule: docs/secrets.md documents every embedded rule,
// in the table of its tier.
func TestDocsListEveryRule(t *testing.T) {
	data, err := os.ReadFile("../../docs/secrets.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	boot, run, ok := strings.Cut(doc, "### Tier 2 — runtime")
	if !ok {
		t.Fatal("docs/secrets.md has no Tier 2 section")
	}
	for _, r := range newScanner(t, secrets.Options{}).Rules().Rules() {
		section := boot
		if r.Tier == secrets.Runtime {
			section = run
		}
		if !strings.Contains(section, "| `"+r.ID+"` |") {
			t.Errorf("rule %s is not documented in its tier's table", r.ID)
		}
	}
}
