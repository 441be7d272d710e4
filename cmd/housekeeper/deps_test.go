package main

import (
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// Dependencies with published advisories stay at or above their fixed
// versions in what the binary links (govulncheck in .ci/run checks the
// rest when its database is reachable).
func TestNoKnownVulnerableDependency(t *testing.T) {
	fixed := map[string]string{
		// GO-2025-3553: excessive memory allocation while parsing headers.
		"github.com/golang-jwt/jwt/v4": "v4.5.2",
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info")
	}
	seen := map[string]bool{}
	for _, m := range bi.Deps {
		if m.Replace != nil {
			m = m.Replace
		}
		want, ok := fixed[m.Path]
		if !ok {
			continue
		}
		seen[m.Path] = true
		if older(m.Version, want) {
			t.Errorf("%s %s is linked; %s or later fixes its advisory", m.Path, m.Version, want)
		}
	}
	for p := range fixed {
		if !seen[p] {
			t.Errorf("%s is no longer linked: drop it from this test", p)
		}
	}
}

// older compares vMAJOR.MINOR.PATCH versions.
func older(v, than string) bool {
	a, b := semver(v), semver(than)
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func semver(v string) [3]int {
	var out [3]int
	core, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), "-")
	for i, p := range strings.SplitN(core, ".", 3) {
		out[i], _ = strconv.Atoi(p)
	}
	return out
}
