package escape

import (
	"strings"
	"testing"
)

func TestEncoders(t *testing.T) {
	hostile := "a\n\n## All clear [Approve](https://x.example) <img src=x> @acme/team `x` <!-- housekeeper:v1 AAA --> |\x1b[31mred\x1b[0m\u202e"
	tests := map[string]struct {
		enc  func(string) string
		in   string
		want string
	}{
		"text":             {Text, hostile, "a\\\\n\\\\n\\#\\# All clear \\[Approve\\](https\u200b://x.example) &lt;img src=x&gt; @\u200bacme/team \\`x\\` &lt;\\!-- housekeeper:v1 AAA --&gt; \\|\\\\x1b\\[31mred\\\\x1b\\[0m\\\\u202e"},
		"text plain path":  {Text, "apps/web", "apps/web"},
		"text www":         {Text, "see www.example.com", "see www\u200b.example.com"},
		"code":             {Code, "a`b``c", "```a`b``c```"},
		"code edge tick":   {Code, "`a", "`` `a ``"},
		"code newline":     {Code, "a\nb", "`a\\nb`"},
		"code comment":     {Code, "<!-- x -->", "`<!-\u200b- x -\u200b->`"},
		"code empty":       {Code, "", ""},
		"plain":            {Plain, "x\ny <!-- z -->", "x\\ny <!-\u200b- z -\u200b->"},
		"terminal ansi":    {Terminal, "a\x1b[31mred\x1b[0m", "ared"},
		"terminal osc":     {Terminal, "\x1b]8;;https://evil\x07link\x1b]8;;\x07 \x1b]0;title\x1b\\x", "link x"},
		"terminal control": {Terminal, "a\rb\x00c\u202ed", "a\\rb\\x00c\\u202ed"},
		"visible invalid":  {Visible, "a\xffb", "a\\xffb"},
		"visible unicode":  {Visible, "café ✓", "café ✓"},
		"block":            {Block, "| `a/` <!-- x --> |\t", "| `a/` <!-\u200b- x -\u200b-> |\\t"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.enc(tc.in); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestFence(t *testing.T) {
	if got := Fence("a", "b"); got != "```" {
		t.Errorf("Fence = %q", got)
	}
	if got := Fence("x ````` y", "``"); got != "``````" {
		t.Errorf("Fence = %q", got)
	}
}

func FuzzEncoders(f *testing.F) {
	f.Add("a\n## h [l](u) <b> @x `c` <!-- m --> \x1b]0;t\x07")
	f.Fuzz(func(t *testing.T, s string) {
		for name, enc := range map[string]func(string) string{"text": Text, "code": Code, "plain": Plain, "block": Block, "terminal": Terminal} {
			out := enc(s)
			if strings.ContainsAny(out, "\n\r\x00\x1b\u2028\u202e") {
				t.Fatalf("%s(%q) = %q keeps a control character", name, s, out)
			}
			if name != "terminal" && (strings.Contains(out, "<!--") || strings.Contains(out, "-->")) {
				t.Fatalf("%s(%q) = %q carries an HTML comment", name, s, out)
			}
		}
		if out := Text(s); strings.ContainsAny(out, "<>") || strings.Contains(strings.ReplaceAll(out, "@\u200b", ""), "@") {
			t.Fatalf("Text(%q) = %q", s, out)
		}
	})
}
