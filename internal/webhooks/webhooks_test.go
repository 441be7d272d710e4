package webhooks

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The examples are the project's own copies of GitHub's: byte for byte the
// files the emulator's tests use.
func TestExamplesAreTheProjectsCopies(t *testing.T) {
	names := Names()
	if len(names) < 5 {
		t.Fatalf("examples: %v", names)
	}
	for _, n := range names {
		_, body, err := Example(n)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "githubtest", "testdata", "webhooks", n+".json"))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if !bytes.Equal(body, want) {
			t.Errorf("%s differs from internal/githubtest/testdata/webhooks/%s.json", n, n)
		}
	}
}

func TestExampleNames(t *testing.T) {
	tests := map[string]struct{ event, err string }{
		"pull_request.opened":   {"pull_request", ""},
		"pull_request.opened.1": {"pull_request", ""},
		"push":                  {"push", ""},
		"ping":                  {"ping", ""},
		"pull_request":          {"", "no example"},
		"pull_request.opene":    {"", "no example"},
	}
	for name, tc := range tests {
		event, _, err := Example(name)
		if tc.err != "" {
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.err)) {
				t.Errorf("%s: error %v", name, err)
			}
			continue
		}
		if err != nil || event != tc.event {
			t.Errorf("%s: event %q, %v", name, event, err)
		}
	}
}
