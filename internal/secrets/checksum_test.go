package secrets

import (
	"hash/crc32"
	"strings"
	"testing"
)

func TestChecksumValid(t *testing.T) {
	if got := base62Checksum(""); got != "000000" || crc32.ChecksumIEEE(nil) != 0 {
		t.Fatalf("empty body: %q", got)
	}
	// The body and checksum of a revoked example token published with the
	// format's description (kept apart so no token is in the repository).
	if got := base62Checksum("zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ"); got != "0mLq17" {
		t.Errorf("published example: checksum %q, want 0mLq17", got)
	}
	body := "k3j9v7q2m8w1z5r0t6y4u2p9xexamp" // 30 characters, "examp…" a stand-in word
	tok := "ghp_" + body + base62Checksum(body)
	if !checksumValid(tok) {
		t.Fatalf("%s: checksum not recognised", tok)
	}
	if checksumValid("ghp_" + body + "000000") {
		t.Error("a wrong checksum is valid")
	}
	if checksumValid("xxx_" + body + base62Checksum(body)) {
		t.Error("an unknown prefix is checksummed")
	}
	// A valid checksum overrides stand-in words; a wrong one hides nothing.
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	exampleBody := "k3j9v7q2m8w1z5exampler0t6y4u2p"
	valid := "ghp_" + exampleBody + base62Checksum(exampleBody)
	if fs := s.ScanContent("a.yaml", []byte("t: "+valid+"\n")); len(fs) != 1 || fs[0].RuleID != "github-pat" {
		t.Errorf("checksummed token with a stand-in word: %v", fs)
	}
	invalid := "ghp_" + strings.Repeat("k3j9v7", 5) + "Zz9Yy8"
	if fs := s.ScanContent("a.yaml", []byte("t: "+invalid+"\n")); len(fs) != 1 || fs[0].RuleID != "github-pat" {
		t.Errorf("token with a wrong checksum: %v", fs)
	}
	if fs := s.ScanContent("a.yaml", []byte("t: ghp_"+exampleBody+"Zz9Yy8\n")); len(fs) != 0 {
		t.Errorf("stand-in without a valid checksum: %v", fs)
	}
}
