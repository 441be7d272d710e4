package secrets_test

import (
	"os"
	"reflect"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// TestGeneratedRulesMatchRuleFile: the rules compiled into the binary
// (rules_gen.go) are rules.yaml's, field by field; after editing
// rules.yaml, `go generate ./internal/secrets` brings them back in line.
func TestGeneratedRulesMatchRuleFile(t *testing.T) {
	data, err := os.ReadFile("rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := secrets.ParseRuleSpecs(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := secrets.DefaultRuleSpecs()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("rules_gen.go holds %d rules, rules.yaml %d: run go generate ./internal/secrets", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("rule %d (%q) differs from rules.yaml: run go generate ./internal/secrets", i, want[i].ID)
		}
	}
}
