package checkrun

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"

	"github.com/housekeeper-app/housekeeper/internal/config"
	"github.com/housekeeper-app/housekeeper/internal/dirmap"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const hostileName = "x\n\n## All clear [Approve](https://evil.example) <img src=x> @acme/security-team www.evil.example `|` <!-- housekeeper:v2 AAAA --> \x1b]0;pwned\x07\x1b[31mred\u202e"

// hostileDirs renders the dirs check for a tree whose new directories are
// named by the attacker, next to one ordinary new directory.
func hostileDirs(t testing.TB, name string) Check {
	files := []string{name + "/f.txt", "tools/" + name + "/f.txt", "ok/f.txt", "tools/a.sh"}
	mp := "| Path | Function |\n|---|---|\n| `tools/` | Tools |\n| `tools/*` | x |\n"
	c, _, err := RunDirs(context.Background(), config.Default(), dirmap.Input{Head: &dirmap.Side{HasMap: true, Map: []byte(mp), Files: files}}, nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var gfm = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe()))

// checkRendered renders Markdown as GitHub would (GFM, autolinks, raw HTML
// passed through) and fails on anything the attacker's text made live.
func checkRendered(t testing.TB, md string, headings int) {
	t.Helper()
	if strings.Contains(md, "<!--") || strings.Contains(md, "-->") {
		t.Fatalf("Markdown carries an HTML comment:\n%s", md)
	}
	var out bytes.Buffer
	if err := gfm.Convert([]byte(md), &out); err != nil {
		t.Fatal(err)
	}
	h := out.String()
	for _, bad := range []string{"<a ", "<img", "<h2", "<script"} {
		if strings.Contains(h, bad) {
			t.Fatalf("rendered HTML holds %q:\n%s\nfrom\n%s", bad, h, md)
		}
	}
	if n := strings.Count(h, "<h"); n != headings {
		t.Fatalf("%d headings, want %d:\n%s", n, headings, h)
	}
	text := regexp.MustCompile(`(?s)<code>.*?</code>`).ReplaceAllString(h, "")
	if regexp.MustCompile(`@[A-Za-z0-9]`).MatchString(text) {
		t.Fatalf("a live mention outside code:\n%s", h)
	}
}

// TestHostileNamesRender: a directory name written to inject Markdown, HTML,
// a mention, a marker and terminal escapes shows as text in every format
// (testdata/hostile.*; go test ./internal/checkrun -update rewrites them).
func TestHostileNamesRender(t *testing.T) {
	c := hostileDirs(t, hostileName)
	checkRendered(t, c.Summary, 1) // "Register the new directories", for ok/
	for _, f := range c.Findings {
		if strings.Contains(f.Path, "All clear") && (!strings.Contains(f.Message, "cannot be registered") || f.Level != LevelFailure) {
			t.Errorf("hostile name: %+v", f)
		}
	}
	if strings.Contains(c.FixText, "All clear") {
		t.Errorf("a fix line for an unwritable name:\n%s", c.FixText)
	}
	var text bytes.Buffer
	if err := WriteText(&text, Report{Checks: []Check{c}}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(text.String(), "\x1b\x07\u202e") {
		t.Errorf("terminal text keeps escape sequences:\n%q", text.String())
	}
	var ann strings.Builder
	for _, a := range c.Annotations() {
		if strings.ContainsAny(a.Message+a.Title, "\n\r\x1b\u202e") || strings.Contains(a.Message, "<!--") {
			t.Errorf("annotation %q", a.Message)
		}
		ann.WriteString(fmt.Sprintf("%q", a.Path) + " " + a.Title + ": " + a.Message + "\n") // the path goes to GitHub as data
	}
	golden(t, "hostile.markdown", c.Summary)
	golden(t, "hostile.text", text.String())
	golden(t, "hostile.annotations", ann.String())
}

// FuzzRenderers: whatever a directory is called, the dirs summary renders
// nothing live, the text output carries no escape sequence and the
// annotations stay one plain line.
func FuzzRenderers(f *testing.F) {
	f.Add(hostileName)
	f.Add("a/b")
	f.Add("`` ` ```")
	f.Add("[x]: https://evil.example\n[y][x]")
	f.Fuzz(func(t *testing.T, name string) {
		name = strings.Trim(strings.ReplaceAll(name, "\x00", ""), "/")
		if name == "" || strings.Contains(name, "//") || strings.HasPrefix(name, ".") || strings.Contains(name, "/.") {
			return
		}
		c := hostileDirs(t, name)
		headings := 0
		if strings.Contains(c.Summary, "### Register") {
			headings = 1
		}
		checkRendered(t, c.Summary, headings)
		var text bytes.Buffer
		if err := WriteText(&text, Report{Checks: []Check{c}}); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(text.String(), "\x1b\x07\x9b\x9d") {
			t.Fatalf("terminal text keeps escapes: %q", text.String())
		}
		for _, a := range c.Annotations() {
			if strings.ContainsAny(a.Message, "\n\r\x1b") || strings.Contains(a.Message, "<!--") {
				t.Fatalf("annotation %q", a.Message)
			}
		}
	})
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./internal/checkrun -update creates it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test ./internal/checkrun -update rewrites it):\n%s", name, got)
	}
}
