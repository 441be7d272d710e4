package dirmap

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// hostileMaps are maps of n bytes built to make a Markdown parser work
// hard: goldmark's inline parser is quadratic on the first, its block parser
// on deep nesting. The tests use 256 KiB (the old reader held a worker 45 s
// on that), scripts/load.sh times 1 MiB against the built server.
func hostileMaps(n int) map[string][]byte {
	fill := func(unit string) []byte { return []byte(strings.Repeat(unit, n/len(unit))) }
	staircase := func(step int) []byte {
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			b.WriteString(strings.Repeat(" ", (i*step)%maxIndent))
			b.WriteString("- `x/` — y\n")
		}
		return []byte(b.String())
	}
	return map[string][]byte{
		"open links":          fill("[a]("),
		"open links per line": fill("[a](\n"),
		"brackets":            fill("["),
		"backticks":           fill("`"),
		"backtick runs":       fill("`a``b```c "),
		"emphasis":            fill("*a _b "),
		"html":                fill("<a "),
		"link definitions":    fill("[a]: <"),
		"block quotes":        fill(">"),
		"block quotes per line": func() []byte {
			var b strings.Builder
			for i := 0; b.Len() < n; i++ {
				b.WriteString(strings.Repeat(">", i%(maxNesting+1)) + " a\n")
			}
			return []byte(b.String())
		}(),
		"nested lists":    staircase(2),
		"list markers":    fill("- "),
		"ordered markers": fill("1. "),
		"long table":      append([]byte("| Path | Function |\n|---|---|\n"), fill("| `a/b/` | x |\n")...),
		"wide table":      []byte("| Path |" + strings.Repeat(" F |", n/8) + "\n|" + strings.Repeat("---|", n/8) + "\n| `a/` |\n"),
		"table backticks": append([]byte("| Path | F |\n|---|---|\n"), fill("| `` ` | ` |\n")...),
		"escaped pipes":   append([]byte("| Path | F |\n|---|---|\n"), fill("| `a\\|b` | x\\|y |\n")...),
		"broken tables":   fill("| Path | b |\n|-|\n"),
		"fences":          fill("```\n"),
		"tree":            append([]byte("```tree\n.\n"), fill("├── a/ # b\n")...),
		"deep tree": func() []byte {
			var b strings.Builder
			b.WriteString("```tree\n.\n")
			for i := 0; b.Len() < n; i++ {
				b.WriteString(strings.Repeat("│   ", i%200) + "└── d/\n")
			}
			return []byte(b.String())
		}(),
		"globs": append([]byte("| Path | F |\n|---|---|\n"), fill("| `**/*/**/*/**` | x |\n")...),
	}
}

// TestParseHostileMaps reads each hostile map to the end or refuses it,
// within a bound far above the linear parser's cost (the quadratic one took
// minutes; timing figures come from scripts/load.sh, not from this test).
func TestParseHostileMaps(t *testing.T) {
	files := []string{"a/b/c", "x/y", "d/d/d/e"}
	for name, src := range hostileMaps(256 << 10) {
		t.Run(name, func(t *testing.T) {
			done := make(chan *Result, 1)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			go func() {
				res, _ := Check(ctx, Input{Head: &Side{HasMap: true, Map: src, Files: files}}, Options{MapPath: "docs/dir.md"})
				done <- res
			}()
			select {
			case res := <-done:
				if res == nil {
					t.Fatalf("the check ran into its deadline")
				}
			case <-time.After(90 * time.Second):
				t.Fatalf("%d-byte map not read in 90 s", len(src))
			}
		})
	}
}

func TestParseRefusesOversizedAndDeepMaps(t *testing.T) {
	tests := map[string]struct {
		src  string
		line int
		msg  string
	}{
		"over 4 MiB":     {src: strings.Repeat("a\n", MaxMapSize/2+1), line: 1, msg: "over the 4 MiB limit"},
		"too many lines": {src: strings.Repeat("- `a/`\n", MaxMapLines), line: MaxMapLines + 1, msg: "has 20001 lines, over the 20000-line limit"},
		"block quotes":   {src: "# Map\n\n" + strings.Repeat(">", 20) + " x\n", line: 3, msg: "more than 16 nested"},
		"list markers":   {src: "a\n" + strings.Repeat("- ", 17) + "x\n", line: 2, msg: "more than 16 nested"},
		"mixed markers":  {src: strings.Repeat(">1. ", 9) + "x\n", line: 1, msg: "more than 16 nested"},
		"indented":       {src: "a\nb\n" + strings.Repeat(" ", 100) + "- x\n", line: 3, msg: "indented more than 64 columns"},
		"mixed and tabs": {src: strings.Repeat("\t> 1. ", 9) + "x\n", line: 1, msg: "indented more than 64"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := Parse([]byte(tc.src), ParseOptions{})
			if !m.Unread || len(m.Entries) != 0 || len(m.Problems) != 1 {
				t.Fatalf("unread %v, %d entries, problems %v", m.Unread, len(m.Entries), m.Problems)
			}
			if p := m.Problems[0]; p.Line != tc.line || !strings.Contains(p.Message, tc.msg) {
				t.Fatalf("problem %+v, want line %d with %q", p, tc.line, tc.msg)
			}
			res, err := Check(context.Background(), Input{Head: &Side{HasMap: true, Map: []byte(tc.src), Files: []string{"a/b"}}}, Options{MapPath: "docs/dir.md"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Findings) != 1 || res.Findings[0].Kind != KindMalformed || res.Findings[0].Level != LevelFailure {
				t.Fatalf("findings %+v, want one failing malformed-map", res.Findings)
			}
		})
	}
	// A reader that streams a large map gives its start and its size.
	if m := Parse([]byte(strings.Repeat("a\n", MaxMapSize/2+1)), ParseOptions{Size: 9 << 20}); !m.Unread || !strings.Contains(m.Problems[0].Message, "the map is 9.0 MiB, over the 4 MiB limit") {
		t.Fatalf("streamed map: unread %v, %v", m.Unread, m.Problems)
	}
	// Nesting a real map uses is read.
	ok := "- `a/` — x\n  - `b/` — y\n    - `c/` — z\n> quoted\n"
	if m := Parse([]byte(ok), ParseOptions{}); m.Unread || len(m.Entries) != 3 {
		t.Fatalf("ordinary nesting: unread %v, %d entries", m.Unread, len(m.Entries))
	}
}

func TestCheckStopsAtDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Check(ctx, Input{Head: &Side{HasMap: true, Map: []byte(tableMap), Files: []string{"a/b"}}}, Options{MapPath: "docs/dir.md"})
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("err = %v, want a deadline error", err)
	}
}

// sameParse compares what two parses of one map yield.
func sameParse(t *testing.T, src []byte) {
	t.Helper()
	opts := ParseOptions{RootNames: []string{"repo"}}
	got := Parse(src, opts)
	if got.Unread {
		return
	}
	want := parseWith(fullParser(), src, opts)
	if !reflect.DeepEqual(entriesOf(got), entriesOf(want)) {
		t.Fatalf("block parser entries\n%v\nfull goldmark\n%v\nmap:\n%s", entriesOf(got), entriesOf(want), src)
	}
	if !reflect.DeepEqual(got.Problems, want.Problems) {
		t.Fatalf("block parser problems\n%v\nfull goldmark\n%v\nmap:\n%s", got.Problems, want.Problems, src)
	}
	if len(got.Blocks) != len(want.Blocks) {
		t.Fatalf("block parser %d blocks, full goldmark %d", len(got.Blocks), len(want.Blocks))
	}
	for i := range got.Blocks {
		g, w := got.Blocks[i], want.Blocks[i]
		if g.Format != w.Format || g.StartLine != w.StartLine || g.EndLine != w.EndLine {
			t.Fatalf("block %d: %+v vs full goldmark %+v", i, g, w)
		}
	}
}

// TestParseMatchesGoldmark: on ordinary maps the block-only parser reads
// exactly what full goldmark (inline parsers on) reads.
func TestParseMatchesGoldmark(t *testing.T) {
	for _, src := range oracleSeeds() {
		sameParse(t, []byte(src))
	}
}

func FuzzParseMatchesGoldmark(f *testing.F) {
	for _, s := range oracleSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 4096 {
			return // the oracle is quadratic
		}
		wd := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("stuck on %q", src)) })
		defer wd.Stop()
		sameParse(t, src)
	})
}

func oracleSeeds() []string {
	seeds := []string{baseMap, tableMap,
		"```tree\n.\n├── a/\n│       └── deep/\n└── b\n    └── c/\n```\n",
		"- `a/` — x\n  - `b` : Function: y (planned)\n    - `../c`\n",
		"| Dir |\n|---|\n| `/abs` |\n| `x/**/y` |\n",
		"```\n├──\n└── `sp ace/` # K: v; L: w\n```",
		"# Map [link](x) *em* <b>html</b>\n\n| Path | Function |\n|---|---|\n| `a/` [x](y) | **b** `c` |\n\n<div>\n| Path |\n|---|\n| `hidden/` |\n</div>\n",
		"| Folder | Function |\n|---|---|\n| `a/` | x |\n",
		"| Name | Function |\n|---|---|\n| `a/` | x |\n| `b/c/` | y |\n",
		"| Path | Function | Layer |\n|---|---|\n| `a/` | x | L1 |\n",
		"```tree\napps\ninfra\n```\n",
		"- `a/ — unclosed\n- `b/` — ok\n",
		"> - `q/` — quoted list\n",
		"1. `o/` — ordered\n",
		"    | Path |\n    |---|\n    | `indented-code/` |\n",
	}
	return seeds
}

// TestUnwritableDirectoriesGetNoFix: a name a map line cannot hold is
// reported with the reason and never offered as a line to paste.
func TestUnwritableDirectoriesGetNoFix(t *testing.T) {
	names := map[string]string{
		"a\n\n## All clear": "contains a line break",
		"b|c":               `contains "|"`,
		"d\x1b[31m":         "control character U+001B",
		"e`f":               "contains a backtick",
		"<!-- x -->":        `contains "<!--" or "-->"`,
	}
	var files []string
	for n := range names {
		files = append(files, n+"/file")
	}
	files = append(files, "ok/file")
	res, err := Check(context.Background(), Input{Head: &Side{HasMap: true, Map: []byte(tableMap), Files: files}}, Options{MapPath: "docs/dir.md"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fixes) != 1 || res.Fixes[0].Path != "ok" {
		t.Fatalf("fixes %+v, want only ok", res.Fixes)
	}
	seen := 0
	for _, f := range res.Findings {
		why, ok := names[f.Path]
		if !ok {
			continue
		}
		seen++
		if f.Kind != KindUnregistered || f.Level != LevelFailure || !strings.Contains(f.Message, "cannot be registered") || !strings.Contains(f.Message, why) {
			t.Errorf("%q: %+v", f.Path, f)
		}
	}
	if seen != len(names) {
		t.Fatalf("%d of %d unwritable names reported: %+v", seen, len(names), res.Findings)
	}
}

// TestDepthCountsIndentation: list items nested by indentation count
// towards the nesting limit, and lines that keep a deep item open (lazy
// continuations, markers that cannot start an item there) do not reset the
// count.
func TestDepthCountsIndentation(t *testing.T) {
	staircase := func(levels int, between string) string {
		var b strings.Builder
		for i := range levels {
			b.WriteString(strings.Repeat("  ", i) + "- `d/`\n" + between)
		}
		return b.String()
	}
	refused := map[string]struct {
		src  string
		line int
	}{
		"17 levels by indentation": {staircase(17, ""), 17},
		"lazy lines between":       {staircase(17, "lazy text\n"), 33},
		"ordered 2. between":       {staircase(17, "2. lazy\n"), 33},
		"empty items between":      {staircase(17, "-\n"), 33},
		"quotes and indentation":   {"> - a\n" + strings.Repeat(">", 8) + " x\n>   - b\n>     - c\n" + strings.Repeat("  ", 3) + "\n", 0},
		"quoted staircase":         {strings.ReplaceAll(staircase(16, ""), "- `d/`", "> - `d/`"), 16},
	}
	for name, tc := range refused {
		t.Run(name, func(t *testing.T) {
			line, why := tooDeep([]byte(tc.src))
			if tc.line == 0 {
				if line != 0 {
					t.Fatalf("refused on line %d (%s)", line, why)
				}
				return
			}
			if line != tc.line || !strings.Contains(why, "more than 16 nested") {
				t.Fatalf("line %d %q, want line %d", line, why, tc.line)
			}
		})
	}
	// Sixteen levels, and deep lists closed by a sibling or a blank line
	// before the next one, are read.
	ok := staircase(16, "") + staircase(16, "") + "\ntext\n" + staircase(16, "text\n\n")
	if m := Parse([]byte(ok), ParseOptions{}); m.Unread {
		t.Fatalf("16 levels refused: %v", m.Problems)
	}
}

// FuzzDepthNeverUnderestimated: a map tooDeep accepts never nests deeper
// than maxNesting block quotes and list items in goldmark's own tree, so
// the limit bounds the parser's work whatever the input.
func FuzzDepthNeverUnderestimated(f *testing.F) {
	for _, s := range oracleSeeds() {
		f.Add([]byte(s))
	}
	f.Add([]byte("- a\n  - b\nlazy\n    - c\n2. x\n      - d\n"))
	f.Add([]byte("> - a\n>   > - b\n> > >   - c\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 4096 {
			return
		}
		if line, _ := tooDeep(src); line > 0 {
			return
		}
		if d := goldmarkDepth(src); d > maxNesting {
			t.Fatalf("accepted, but goldmark nests %d deep:\n%q", d, src)
		}
	})
}

// goldmarkDepth is the deepest nesting of block quotes and list items in
// goldmark's block tree of src.
func goldmarkDepth(src []byte) int {
	doc := blockParser().Parse(text.NewReader(src))
	deepest := 0
	var walk func(n gast.Node, d int)
	walk = func(n gast.Node, d int) {
		switch n.(type) {
		case *gast.Blockquote, *gast.ListItem:
			d++
		}
		deepest = max(deepest, d)
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			walk(c, d)
		}
	}
	walk(doc, 0)
	return deepest
}
