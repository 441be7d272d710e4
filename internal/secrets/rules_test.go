package secrets_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

func newScanner(t testing.TB, opts secrets.Options) *secrets.Scanner {
	t.Helper()
	s, err := secrets.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// TestRuleSamples checks every rule's own true- and false-positive samples
// from the rule file.
func TestRuleSamples(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	g := corpus.NewRand(1)
	for _, r := range s.Rules().Rules() {
		if r.Tests == nil {
			if r.Kind != secrets.KindFile {
				t.Errorf("rule %s has no samples", r.ID)
			}
			continue
		}
		path := r.Tests.Path
		if path == "" {
			path = "sample.txt"
		}
		if len(r.Tests.Match) == 0 {
			t.Errorf("rule %s has no match samples", r.ID)
		}
		for i, tmpl := range r.Tests.Match {
			content := g.Expand(tmpl)
			fs := s.ScanContent(path, []byte(content))
			if !hasRule(fs, r.ID) {
				t.Errorf("rule %s: match sample %d did not fire; got %v\n%s", r.ID, i, ruleIDs(fs), content)
			}
			if r.Kind == secrets.KindSecret && !containsKeyword(content, r.Keywords) {
				t.Errorf("rule %s: match sample %d holds none of the keywords", r.ID, i)
			}
		}
		for i, tmpl := range r.Tests.NoMatch {
			fs := s.ScanContent(path, []byte(g.Expand(tmpl)))
			if hasRule(fs, r.ID) {
				t.Errorf("rule %s: nomatch sample %d fired", r.ID, i)
			}
		}
	}
}

func containsKeyword(content string, kws []string) bool {
	l := strings.ToLower(content)
	for _, k := range kws {
		if strings.Contains(l, k) {
			return true
		}
	}
	return false
}

func hasRule(fs []secrets.Finding, id string) bool {
	for _, f := range fs {
		if f.RuleID == id {
			return true
		}
	}
	return false
}

func ruleIDs(fs []secrets.Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.RuleID)
	}
	return ids
}

// Assignment rules run anchored at the keyword's identifier only where
// that finds what the line-wide regex finds.
func TestAnchoredRules(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	var anchored []string
	for _, r := range s.Rules().Rules() {
		if secrets.Anchored(r) {
			anchored = append(anchored, r.ID)
		}
	}
	for _, id := range []string{"generic-password", "generic-api-secret", "aws-secret-access-key"} {
		if !slices.Contains(anchored, id) {
			t.Errorf("%s is not anchored (anchored: %v)", id, anchored)
		}
	}
	for _, id := range []string{"cloudflare-api-token", "vault-legacy-token", "npmrc-auth", "github-pat"} {
		if slices.Contains(anchored, id) {
			t.Errorf("%s is anchored, though its key does not absorb an identifier prefix", id)
		}
	}
}
