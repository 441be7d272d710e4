// Package corpus generates a labeled evaluation corpus for the secrets
// engine: realistic infrastructure files with planted secrets of every rule
// and look-alikes that must not fire. Secret values are built at run time
// from a seeded random source, so nothing in this repository looks like a
// real credential (GitHub push protection and Housekeeper itself would flag
// it).
package corpus

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
)

// Charsets for random values.
const (
	Alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	Hex    = "0123456789abcdef"
	Upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	Lower  = "abcdefghijklmnopqrstuvwxyz"
	Digits = "0123456789"
	B32    = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	B64    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	// Bech32 is the upper-case Bech32 alphabet (age keys).
	Bech32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"
)

var charsets = map[string]string{
	"alnum": Alnum, "hex": Hex, "upper": Upper, "lower": Lower,
	"digits": Digits, "b32": B32, "b64": B64, "b64url": B64URL, "bech32": Bech32,
}

// Rand is a deterministic source of random text.
type Rand struct{ r *rand.Rand }

// NewRand returns a source seeded with seed.
func NewRand(seed uint64) *Rand {
	return &Rand{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// String returns n random characters from charset, avoiding values that
// the engine's placeholder filter would rightly discard by chance.
func (g *Rand) String(charset string, n int) string {
	for {
		b := make([]byte, n)
		for i := range b {
			b[i] = charset[g.r.IntN(len(charset))]
		}
		s := string(b)
		if !accidentalPlaceholder(s) {
			return s
		}
	}
}

// Int returns a random int in [0, n).
func (g *Rand) Int(n int) int { return g.r.IntN(n) }

func accidentalPlaceholder(s string) bool {
	l := strings.ToLower(s)
	for _, w := range []string{"test", "fake", "todo", "xxxx", "dummy", "example", "sample", "your", "redacted", "insert", "changeme", "aaa", "000", "111"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

var tmplRe = regexp.MustCompile(`\{\{(alnum|hex|upper|lower|digits|b32|b64|b64url|bech32) ([0-9]+)\}\}`)

// Expand replaces {{charset N}} in a rule-file sample by random text.
func (g *Rand) Expand(tmpl string) string {
	s, _ := g.ExpandRecord(tmpl)
	return s
}

// ExpandRecord is Expand that also returns the random pieces it made.
func (g *Rand) ExpandRecord(tmpl string) (string, []string) {
	var pieces []string
	s := tmplRe.ReplaceAllStringFunc(tmpl, func(m string) string {
		sm := tmplRe.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sm[2])
		p := g.String(charsets[sm[1]], n)
		pieces = append(pieces, p)
		return p
	})
	return s, pieces
}
