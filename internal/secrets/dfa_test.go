package secrets_test

import (
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

// The DFA that filters an anchored rule's regex never says "no" where the
// regexp matches: tried at every offset of the rules' own samples, and of
// mangled copies, and it does say "no" to most offsets.
func TestPrefixDFANeverMissesAMatch(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	g := corpus.NewRand(7)
	const junk = " \t=:'\"`,;()$.{}-_aZ09\\?|&>"
	tried, matched, filtered, rules := 0, 0, 0, 0
	for _, r := range s.Rules().Rules() {
		checks := secrets.DFAChecks(r)
		if len(checks) == 0 || r.Tests == nil {
			continue
		}
		rules++
		var texts []string
		for _, tmpl := range append(r.Tests.Match, r.Tests.NoMatch...) {
			for range 3 {
				texts = append(texts, g.Expand(tmpl))
			}
		}
		for _, text := range texts {
			for _, line := range strings.Split(text, "\n") {
				variants := []string{line}
				for range 4 {
					b := []byte(line)
					if len(b) > 0 {
						i := g.Int(len(b))
						b[i] = junk[g.Int(len(junk))]
					}
					variants = append(variants, string(b), line+string(junk[g.Int(len(junk))]), strings.ToUpper(line), strings.ReplaceAll(line, "s", "ſ"))
				}
				for _, v := range variants {
					for off := range len(v) + 1 {
						for _, check := range checks {
							dfa, re := check([]byte(v[off:]))
							tried++
							if re {
								matched++
							}
							if !dfa {
								filtered++
							}
							if re && !dfa {
								t.Fatalf("%s: the DFA rejects %q, which the regexp matches", r.ID, v[off:])
							}
						}
					}
				}
			}
		}
	}
	if rules < 20 || matched < 100 || filtered < tried/2 {
		t.Errorf("%d rules, %d texts tried, %d matched, %d filtered: too few to tell", rules, tried, matched, filtered)
	}
	t.Logf("%d rules, %d texts tried, %d matched, %d filtered out", rules, tried, matched, filtered)
}
