package secrets

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidRuleIDMatchesTheRegex: the hand-written check accepts exactly
// what ^[a-z0-9][a-z0-9-]{0,63}$ accepts.
func TestValidRuleIDMatchesTheRegex(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	cases := []string{"", "a", "-", "a-", "-a", "a--b", "9", "A", "aB", "a.b", "a_b", "ä", "a\n", "aws-access-key",
		strings.Repeat("a", 64), strings.Repeat("a", 65), "a" + strings.Repeat("-", 63), "a" + strings.Repeat("-", 64)}
	// Every string of up to three bytes over an alphabet with each class.
	alpha := "z0-.Z\x00"
	for _, a := range alpha {
		cases = append(cases, string(a))
		for _, b := range alpha {
			cases = append(cases, string(a)+string(b))
			for _, c := range alpha {
				cases = append(cases, string(a)+string(b)+string(c))
			}
		}
	}
	for _, s := range cases {
		if got, want := validRuleID(s), re.MatchString(s); got != want {
			t.Errorf("validRuleID(%q) = %v, want %v", s, got, want)
		}
	}
}
