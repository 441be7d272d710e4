package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestGeneratedFileIsCurrent: rules_gen.go is exactly what the generator
// writes from rules.yaml today.
func TestGeneratedFileIsCurrent(t *testing.T) {
	data, err := os.ReadFile("../../rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../rules_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("internal/secrets/rules_gen.go is stale: run go generate ./internal/secrets")
	}
}

// TestGenerateReportsBadRuleFiles: a rule file the strict decoder refuses
// writes nothing.
func TestGenerateReportsBadRuleFiles(t *testing.T) {
	_, err := Generate([]byte("rules:\n  - id: x\n    unknown_key: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "unknown_key") {
		t.Fatalf("Generate: err = %v, want the unknown key named", err)
	}
}

// TestGenerateKeepsEveryValue: a rule using every kind of field comes back
// from the generated literal's text (strings that cannot be backquoted are
// quoted, floats keep every digit, empty lists stay non-nil).
func TestGenerateKeepsEveryValue(t *testing.T) {
	src, err := Generate([]byte("rules:\n" +
		"  - id: x\n    entropy: 3.25\n    multiline: true\n    allow: []\n" +
		"    regex: \"a`b\\nc\"\n    bootstrap_if: {key: k}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Entropy:   3.25,", "Multiline: true,", "Allow:     []string{},", "Regex:     \"a`b\\nc\",", "BootstrapIf: &TierEscalation{\n\t\t\tKey: `k`,"} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated source lacks %q:\n%s", want, src)
		}
	}
}
