package server

import (
	"os"
	"strings"
	"testing"
)

// TestDocsListEverySetting keeps docs/server.md's table in step with the
// settings table: each row must give the key, variable, default and doc.
func TestDocsListEverySetting(t *testing.T) {
	doc, err := os.ReadFile("../../docs/server.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		def := "—"
		if s.def != "" {
			def = "`" + s.def + "`"
		}
		row := "| `" + s.key + "` | `" + s.env + "` | " + def + " | " + s.doc + " |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/server.md lacks the row\n%s", row)
		}
	}
}
