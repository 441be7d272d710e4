package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// anyToken matches a whole GitHub token of any kind.
var anyToken = regexp.MustCompile(`gh[pousr]_[A-Za-z0-9]{36}`)

func TestDemo(t *testing.T) {
	var token string
	newToken = func() (string, error) {
		tok, err := fakeToken()
		token = tok
		return tok, err
	}
	t.Cleanup(func() { newToken = fakeToken })

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	if err := run(ctx, &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	t.Logf("demo took %v", time.Since(start))
	got := out.String()

	if len(token) != 40 || !anyToken.MatchString(token) {
		t.Fatalf("the demo's token %q is not token-shaped", token)
	}
	if strings.Contains(got, token) || strings.Contains(got, token[4:]) || anyToken.MatchString(got) {
		t.Errorf("the output shows the token:\n%s", got)
	}

	// Both runs, failing, each with its annotation on the right line, in
	// this order.
	want := []string{
		"✗ housekeeper/dirs — failure",
		"  1 unregistered directory",
		"Paste these lines into docs/dir.md",
		"Annotations (1):",
		"    tools/deploy.sh:1 failure  unregistered: New directory tools is not registered in docs/dir.md",
		"✗ housekeeper/secrets — failure",
		"  1 secret committed (1 bootstrap)",
		"bootstrap  github-pat  tools/deploy.sh:4  ghp_…",
		"Annotations (1):",
		"    tools/deploy.sh:4 failure  github-pat (bootstrap): GitHub personal access token",
		"Both checks failed, as expected",
	}
	rest := got
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q (in order):\n%s", w, got)
		}
		rest = rest[i+len(w):]
	}
	// Markdown shown as text.
	for _, md := range []string{"**", "|---", "### "} {
		if strings.Contains(got, md) {
			t.Errorf("the summaries show Markdown syntax %q:\n%s", md, got)
		}
	}
}

func TestDemoCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err == nil {
		t.Errorf("a cancelled demo succeeded:\n%s", out.String())
	}
}

func TestMarkdownText(t *testing.T) {
	tests := map[string]struct{ md, want string }{
		"emphasis and code": {
			md:   "Checked `docs/dir.md`: **1 failure**, see [docs](https://x/y).",
			want: "Checked docs/dir.md: 1 failure, see docs (https://x/y).",
		},
		"heading": {md: "### Register", want: "Register\n--------"},
		"table": {
			md:   "| | Kind | Path |\n|---|:---|---:|\n| ❌ | unregistered | `a\\|b` |\n| ⚠️ | stale | c |",
			want: "    Kind          Path\n❌  unregistered  a|b\n⚠️  stale         c",
		},
		"fence": {md: "Before:\n\n```\n| `x/` | TODO |\n```\nafter", want: "Before:\n\n  | `x/` | TODO |\nafter"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := markdownText(tc.md); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
