package mapgen

import (
	"context"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/dirmap"
)

// FuzzGenerate: whatever the names and the README, Chart.yaml and Go
// comment say, every format reads back exactly as written, and the map
// registers every directory it did not say it skipped.
func FuzzGenerate(f *testing.F) {
	f.Add("apps/web", "# Web\n\nThe | web `app` # (planned).\n", "description: x | Layer: L0\n", "// Package x is <b>bold</b>.\npackage x\n")
	f.Add("a b/c", "TODO", "description: TODO\n", "")
	f.Add("-x/y", "- [x] <!-- housekeeper:action stubs -->", "", "// Package p; Namespace: kube-system\npackage p\n")
	f.Fuzz(func(t *testing.T, dir, readme, chart, gocomment string) {
		if len(dir) > 200 || strings.ContainsAny(dir, "\x00") {
			return
		}
		dir = strings.Trim(dir, "/")
		if dir == "" || strings.Contains(dir, "//") || strings.HasPrefix(dir, ".") || strings.Contains(dir, "/.") {
			return
		}
		for _, c := range strings.Split(dir, "/") {
			if c == "." || c == ".." {
				return
			}
		}
		src := NewMem()
		add := func(p, c string) {
			if _, err := src.Add(File{Path: p, Size: int64(len(c)), Regular: true}, strings.NewReader(c)); err != nil {
				t.Fatal(err)
			}
		}
		add(dir+"/README.md", readme)
		add(dir+"/Chart.yaml", chart)
		add(dir+"/doc.go", gocomment)
		add("other/x.txt", "x")
		for _, format := range []dirmap.Format{dirmap.FormatTable, dirmap.FormatTree, dirmap.FormatList} {
			r, err := Generate(src, Options{MapPath: "docs/dir.md", Format: format})
			if err != nil {
				t.Fatalf("format %v: %v", format, err)
			}
			var files []string
			for _, fl := range src.Files() {
				files = append(files, fl.Path)
			}
			files = append(files, "docs/dir.md")
			res, err := dirmap.Check(context.Background(), dirmap.Input{Head: &dirmap.Side{HasMap: true, Map: r.Map, Files: files}}, dirmap.Options{MapPath: "docs/dir.md"})
			if err != nil {
				t.Fatal(err)
			}
			for _, fd := range res.Findings {
				if fd.Kind == dirmap.KindIncomplete {
					continue
				}
				if fd.Kind == dirmap.KindUnregistered && len(r.Notes) > 0 {
					continue // skipped and said so
				}
				t.Errorf("format %v: %s %q: %s\n%s", format, fd.Kind, fd.Path, fd.Message, r.Map)
			}
		}
	})
}
