package secrets

import "regexp"

// Anchored reports whether the rule is evaluated anchored at its keyword
// hits.
func Anchored(r *Rule) bool {
	r.ready()
	return r.anchored != nil
}

// AfterKey is the anchored rule's regex after its key, "" when none.
func AfterKey(r *Rule) string {
	r.ready()
	if r.afterKey == nil {
		return ""
	}
	return r.afterKey.String()
}

// WithoutShortcuts makes every rule of s evaluate its regex over the
// whole line window, as before the anchored evaluation.
func WithoutShortcuts(s *Scanner) {
	for _, r := range s.rules.rules {
		r.ready()
		if r.re == nil && r.Regex != "" {
			r.re = regexp.MustCompile(r.Regex) // not compiled for anchored rules
		}
		r.anchored, r.afterKey, r.lineStart, r.opAfterKey = nil, nil, nil, false
		r.afterDFA, r.lineDFA = nil, nil
	}
}

// DFAChecks returns, for each prefix DFA of the rule, a function saying
// what the DFA and its regexp answer for a text.
func DFAChecks(r *Rule) []func(b []byte) (dfa, re bool) {
	r.ready()
	var out []func(b []byte) (bool, bool)
	for _, d := range []*prefixDFA{r.afterDFA, r.lineDFA} {
		if d != nil {
			out = append(out, func(b []byte) (bool, bool) { return d.Match(b), d.re.Match(b) })
		}
	}
	return out
}

// IsPlaceholder is the global stand-in filter of assignment rules.
func IsPlaceholder(v string) bool { return isPlaceholder(v) }
