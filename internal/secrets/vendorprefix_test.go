package secrets

import "testing"

// TestVendorPrefixes checks the prefixes and shortest lengths read from the
// embedded token-format rules, and which values count as truncated tokens.
func TestVendorPrefixes(t *testing.T) {
	specs, err := DefaultRuleSpecs()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := CompileRules(specs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"sm_pat_": 23, "ghp_": 40}
	for p, n := range want {
		var got *vendorPrefix
		for i, vp := range rs.prefixes()[p[0]] {
			if vp.prefix == p {
				got = &rs.prefixes()[p[0]][i]
			}
		}
		switch {
		case got == nil:
			t.Errorf("prefix %q not found", p)
		case n > 0 && got.minLen != n:
			t.Errorf("prefix %q: shortest token %d, want %d", p, got.minLen, n)
		case got.minLen <= len(p):
			t.Errorf("prefix %q: shortest token %d, not longer than the prefix", p, got.minLen)
		}
	}
	// Formats without an upper bound set their own floor, not the
	// vendor's length: a shorter value is not shown to be truncated.
	for _, vp := range rs.prefixes()['b'] {
		if vp.prefix == "bedrock-api-key-" {
			t.Errorf("unbounded format's prefix %q listed", vp.prefix)
		}
	}
	for _, c := range []struct {
		v    string
		want bool
	}{
		{"sm_pat_abc123", true},
		{"sm_pat_" + "0123456789abcdef", false}, // full length: the vendor rule's call
		{"ghp_x", true},
		{"smurf_pat_abc123", false},
		{"", false},
	} {
		if got := rs.truncatedToken(c.v); got != c.want {
			t.Errorf("truncatedToken(%q) = %v, want %v", c.v, got, c.want)
		}
	}
}
