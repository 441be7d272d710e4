package secrets_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

// The anchored evaluation of assignment rules finds exactly what the
// line-wide regex finds, on lines mixing keywords, identifiers, quotes,
// operators and values.
func TestAnchoredEvaluationMatchesLineWide(t *testing.T) {
	fast := newScanner(t, secrets.Options{})
	slow := newScanner(t, secrets.Options{})
	secrets.WithoutShortcuts(slow)
	g := corpus.NewRand(12)
	keys := []string{"password", "db_password", "PASS", "my.pass", "x-pass-word", "api_key", "apiKey", "secret", "client_secret_v2",
		"token", "TOKEN_1", "aws_secret_access_key", "hetzner_token", "linode-token", "twilio_sid", "passwd", "access-key", "auth_key.x", "token.XOR", "kube_token"}
	ops := []string{" = ", ": ", "=", ":", " := ", " => ", "\t=\t", " == ", "(", " ", ".= ", " .= ", " ?= ", "', "}
	vals := func() string {
		switch g.Int(7) {
		case 0:
			return `"` + g.String(corpus.Alnum, 8+g.Int(40)) + `"`
		case 1:
			return "'" + g.String(corpus.Alnum, 8+g.Int(40)) + "'"
		case 2:
			return g.String(corpus.Alnum, 4+g.Int(70))
		case 3:
			return g.String(corpus.Hex, 32+32*g.Int(2))
		case 4:
			return `os.getenv("TOKEN_` + g.String(corpus.Digits, 2) + `")`
		case 5:
			return g.String(corpus.B64, 40)
		}
		return "${X}"
	}
	pre := []string{"", "  ", "export ", "- ", "\"", "x", "# ", "const "}
	var lines []string
	for range 2400 {
		var b strings.Builder
		for n := 1 + g.Int(3); n > 0; n-- {
			b.WriteString(pre[g.Int(len(pre))] + keys[g.Int(len(keys))])
			if g.Int(4) == 0 {
				b.WriteString(`"`)
			}
			b.WriteString(ops[g.Int(len(ops))] + vals() + " ")
		}
		lines = append(lines, b.String())
	}
	total := 0
	paths := []string{"conf/app.yaml", "src/app.py", "infra/main.tf", ".env.prod"}
	for i := range 24 {
		// Files of 100 lines: under the per-rule cap, so every finding
		// is compared.
		p := paths[i%len(paths)]
		content := []byte(strings.Join(lines[i*100:(i+1)*100], "\n") + "\n")
		want := slow.ScanContent(p, content)
		got := fast.ScanContent(p, content)
		total += len(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: anchored %d findings, line-wide %d; first difference:", p, len(got), len(want))
			for i := 0; i < max(len(got), len(want)); i++ {
				var a, w secrets.Finding
				if i < len(got) {
					a = got[i]
				}
				if i < len(want) {
					w = want[i]
				}
				if !reflect.DeepEqual(a, w) {
					t.Errorf("anchored %s; line-wide %s", a, w)
					break
				}
			}
		}
	}
	if total < 100 {
		t.Errorf("only %d findings compared", total)
	}
}
