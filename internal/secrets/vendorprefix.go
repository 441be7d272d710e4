package secrets

import (
	"regexp/syntax"
	"sort"
	"strings"
)

// genericSpecificity: rules below it judge a value by the name it is
// assigned to (generic assignments), not by its format.
const genericSpecificity = 200

// minVendorPrefix: shorter literal prefixes (sk_, v1.) are too common in
// ordinary values to say which vendor issued one.
const minVendorPrefix = 4

// vendorPrefix is a literal prefix a token-format rule demands of its
// values, and the shortest value that rule accepts.
type vendorPrefix struct {
	prefix string
	minLen int
}

// vendorPrefixes returns the literal prefixes that fixed- or bounded-length
// token formats demand of their values (ghp_, sm_pat_…), by first byte. A
// value that starts with one but is shorter than that vendor's shortest
// token is a truncated or stand-in token (sm_pat_abc123): the generic
// assignment rules leave it alone instead of reporting it as some other
// secret.
func vendorPrefixes(rules []*Rule) map[byte][]vendorPrefix {
	set := map[string]int{}
	for _, r := range rules {
		if r.Kind != KindSecret || r.Specificity < tokenFormatSpecificity || r.Regex == "" || r.Multiline {
			continue // a private-key block may also sit on one line, escaped
		}
		t, err := syntax.Parse(r.Regex, syntax.Perl)
		if err != nil {
			continue
		}
		// From the parsed regex, not the compiled one: embedded rules are
		// compiled on first use.
		for _, g := range secretGroups(captureNames(t), r.SecretGroup) {
			if g == 0 {
				continue // the whole match: boundaries and keys come first
			}
			c := captureAt(t, g)
			if c == nil {
				continue
			}
			if maxLen(c) < 0 {
				// No upper bound: the rule's shortest length is a floor it
				// chose, not the vendor's documented length, so a shorter
				// value is not shown to be truncated.
				continue
			}
			ps, _ := literalPrefixes(c)
			n := minLen(c)
			for _, p := range ps {
				if m, ok := set[p]; len(p) >= minVendorPrefix && (!ok || n < m) {
					set[p] = n
				}
			}
		}
	}
	out := map[byte][]vendorPrefix{}
	for p, n := range set {
		out[p[0]] = append(out[p[0]], vendorPrefix{p, n})
	}
	for _, ps := range out {
		sort.Slice(ps, func(i, j int) bool { return ps[i].prefix < ps[j].prefix })
	}
	return out
}

// maxLen is the length in bytes of the longest text t matches, -1 when
// unbounded (runes counted as one byte, as in minLen).
func maxLen(t *syntax.Regexp) int {
	switch t.Op {
	case syntax.OpLiteral:
		return len(t.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpQuest:
		return maxLen(t.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return -1
	case syntax.OpRepeat:
		n := maxLen(t.Sub[0])
		if t.Max < 0 || n < 0 {
			return -1
		}
		return t.Max * n
	case syntax.OpConcat, syntax.OpAlternate:
		n := 0
		for _, s := range t.Sub {
			m := maxLen(s)
			switch {
			case m < 0:
				return -1
			case t.Op == syntax.OpConcat:
				n += m
			default:
				n = max(n, m)
			}
		}
		return n
	}
	return 0
}

// minLen is the length in bytes of the shortest text t matches (runes
// counted as one byte: the prefixes and alphabets concerned are ASCII).
func minLen(t *syntax.Regexp) int {
	switch t.Op {
	case syntax.OpLiteral:
		return len(t.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minLen(t.Sub[0])
	case syntax.OpRepeat:
		return t.Min * minLen(t.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, s := range t.Sub {
			n += minLen(s)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, s := range t.Sub {
			if m := minLen(s); n < 0 || m < n {
				n = m
			}
		}
		return max(n, 0)
	}
	return 0
}

// secretGroups returns the capture groups that may hold a rule's secret,
// given its groups' names by index (as regexp.SubexpNames): secret_group,
// else the groups named "secret", else the first group, else the whole
// match.
func secretGroups(names []string, secretGroup int) []int {
	if secretGroup > 0 {
		return []int{secretGroup}
	}
	var named []int
	for i, name := range names {
		if name == "secret" {
			named = append(named, i)
		}
	}
	switch {
	case len(named) > 0:
		return named
	case len(names) > 1:
		return []int{1}
	}
	return []int{0}
}

// captureNames is regexp.SubexpNames for a parsed regex.
func captureNames(t *syntax.Regexp) []string {
	names := make([]string, t.MaxCap()+1)
	var walk func(*syntax.Regexp)
	walk = func(t *syntax.Regexp) {
		if t.Op == syntax.OpCapture {
			names[t.Cap] = t.Name
		}
		for _, s := range t.Sub {
			walk(s)
		}
	}
	walk(t)
	return names
}

func captureAt(t *syntax.Regexp, index int) *syntax.Regexp {
	if t.Op == syntax.OpCapture && t.Cap == index {
		return t
	}
	for _, s := range t.Sub {
		if c := captureAt(s, index); c != nil {
			return c
		}
	}
	return nil
}

// maxPrefixes bounds the expansion of alternations and small classes.
const maxPrefixes = 32

// literalPrefixes returns case-sensitive literals one of which every
// match of t starts with (nil when some match need not start with a
// literal), and whether t is exactly those literals.
func literalPrefixes(t *syntax.Regexp) ([]string, bool) {
	switch t.Op {
	case syntax.OpLiteral:
		if t.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(t.Rune)}, true
	case syntax.OpCharClass:
		var rs []rune
		for i := 0; i+1 < len(t.Rune); i += 2 {
			for c := t.Rune[i]; c <= t.Rune[i+1]; c++ {
				if len(rs) == 4 {
					return nil, false
				}
				rs = append(rs, c)
			}
		}
		ps := make([]string, len(rs))
		for i, c := range rs {
			ps[i] = string(c)
		}
		return ps, len(ps) > 0
	case syntax.OpCapture:
		return literalPrefixes(t.Sub[0])
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpBeginLine, syntax.OpWordBoundary:
		return []string{""}, true
	case syntax.OpAlternate:
		var out []string
		all := true
		for _, s := range t.Sub {
			ps, complete := literalPrefixes(s)
			if ps == nil {
				return nil, false
			}
			out = append(out, ps...)
			all = all && complete
		}
		if len(out) > maxPrefixes {
			return nil, false
		}
		return out, all
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range t.Sub {
			ps, complete := literalPrefixes(s)
			if ps == nil || len(out)*len(ps) > maxPrefixes {
				return out, false
			}
			next := make([]string, 0, len(out)*len(ps))
			for _, a := range out {
				for _, b := range ps {
					next = append(next, a+b)
				}
			}
			out = next
			if !complete {
				return out, false
			}
		}
		return out, true
	}
	return nil, false
}

// truncatedToken reports whether v starts with a token-format rule's
// literal prefix but is shorter than any token that rule accepts.
func (rs *RuleSet) truncatedToken(v string) bool {
	if v == "" {
		return false
	}
	for _, p := range rs.prefixes()[v[0]] {
		if len(v) < p.minLen && strings.HasPrefix(v, p.prefix) {
			return true
		}
	}
	return false
}
