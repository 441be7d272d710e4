package secrets

import (
	"regexp"
	"slices"
	"testing"
)

// A secret rule evaluated anchored does not compile its regex line-wide:
// nothing runs it, and the anchored form (the regex inside ^(?:…)) gives
// the key and secret groups the line-wide regex would.
func TestAnchoredRulesSkipTheLineWideRegex(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, r := range s.rules.rules {
		r.ready()
		if r.broken != nil || r.Regex == "" || r.re != nil {
			continue
		}
		skipped++
		anchored := r.Kind == KindSecret && (r.anchored != nil || r.lineStart != nil && !r.Multiline)
		if !anchored {
			t.Errorf("%s: no line-wide regex, yet evaluated line-wide", r.ID)
			continue
		}
		lw := regexp.MustCompile(r.Regex)
		if got, want := r.keyIdx, lw.SubexpIndex("key"); got != want {
			t.Errorf("%s: key group %d, the line-wide regex's is %d", r.ID, got, want)
		}
		if got, want := r.secretIdx, secretGroups(lw.SubexpNames(), r.SecretGroup); !slices.Equal(got, want) {
			t.Errorf("%s: secret groups %v, the line-wide regex's are %v", r.ID, got, want)
		}
	}
	if skipped < 20 {
		t.Errorf("only %d rules evaluated anchored skip the line-wide regex", skipped)
	}
}
