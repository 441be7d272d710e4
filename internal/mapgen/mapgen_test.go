package mapgen

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/config"
	"github.com/housekeeper-app/housekeeper/internal/dirmap"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// loadTree reads a tree written as "-- path --" sections; "-- path@ --" is
// a symbolic link (its section is the target, which must never be read).
func loadTree(t *testing.T, name string) *Mem {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "trees", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := NewMem()
	var cur string
	var body strings.Builder
	flush := func() {
		if cur == "" {
			return
		}
		p, link := strings.CutSuffix(cur, "@")
		f := File{Path: p, Size: int64(body.Len()), Regular: !link}
		if _, err := m.Add(f, strings.NewReader(body.String())); err != nil {
			t.Fatal(err)
		}
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if strings.HasPrefix(line, "-- ") && strings.HasSuffix(line, " --\n") {
			flush()
			cur = strings.TrimSuffix(strings.TrimPrefix(line, "-- "), " --\n")
			body.Reset()
			continue
		}
		body.WriteString(line)
	}
	flush()
	return m
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/mapgen -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// report is the golden output: the map, then the notes and TODOs.
func report(r *Result) []byte {
	var b bytes.Buffer
	b.Write(r.Map)
	b.WriteString("\n<!-- notes -->\n")
	for _, n := range r.Notes {
		b.WriteString(n + "\n")
	}
	fmt.Fprintf(&b, "<!-- %d TODO -->\n", len(r.TODOs()))
	for _, td := range r.TODOs() {
		b.WriteString(td + "\n")
	}
	return b.Bytes()
}

var layers = []config.Layer{
	{Path: "modules/**", Layer: "L1"},
	{Path: "modules", Layer: "L1"},
	{Path: "envs/**", Layer: "L2"},
	{Path: "**", Layer: "L0"},
}

// checkPasses runs the dirs check on the tree with the map in place: only
// incomplete findings (the TODOs) may remain.
func checkPasses(t *testing.T, src *Mem, mapPath string, out []byte, ignore []string, notes ...string) {
	t.Helper()
	var files []string
	has := false
	for _, f := range src.Files() {
		files = append(files, f.Path)
		has = has || f.Path == mapPath
	}
	if !has {
		files = append(files, mapPath)
	}
	r, err := dirmap.Check(context.Background(), dirmap.Input{Head: &dirmap.Side{HasMap: true, Map: out, Files: files}},
		dirmap.Options{MapPath: mapPath, Ignore: ignore})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if f.Kind == dirmap.KindUnregistered && noted(notes, f.Path) {
			continue // skipped on purpose, and said so
		}
		if f.Kind != dirmap.KindIncomplete {
			t.Errorf("check on the generated map: %s %s: %s", f.Kind, f.Path, f.Message)
		}
	}
}

func noted(notes []string, p string) bool {
	for _, n := range notes {
		if strings.Contains(n, fmt.Sprintf("%q", p)) {
			return true
		}
	}
	return false
}

func TestGenerateGolden(t *testing.T) {
	formats := map[string]dirmap.Format{"table": dirmap.FormatTable, "tree": dirmap.FormatTree, "list": dirmap.FormatList}
	for _, tree := range []string{"terraform-monorepo", "gitops", "go-service", "polyglot", "hostile"} {
		for fname, format := range formats {
			t.Run(tree+"/"+fname, func(t *testing.T) {
				src := loadTree(t, tree)
				opts := Options{MapPath: "docs/dir.md", Format: format}
				if tree == "terraform-monorepo" {
					d := config.Dirs{Layers: layers}
					opts.Layer = d.LayerOf
				}
				if tree == "polyglot" {
					opts.Ignore = []string{"**/.*", "**/node_modules"}
				}
				r, err := Generate(src, opts)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, tree+"."+fname+".md", report(r))
				checkPasses(t, src, "docs/dir.md", r.Map, opts.Ignore, r.Notes...)
				// Deterministic: a second run gives the same bytes.
				again, err := Generate(loadTree(t, tree), opts)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(again.Map, r.Map) {
					t.Error("a second run generated a different map")
				}
			})
		}
	}
}

func TestDepth(t *testing.T) {
	src := loadTree(t, "terraform-monorepo")
	r, err := Generate(src, Options{MapPath: "docs/dir.md", Depth: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(r.Map, []byte("`envs/prod/eu-west-1/`")) {
		t.Errorf("depth 3 map lacks envs/prod/eu-west-1:\n%s", r.Map)
	}
	checkPasses(t, src, "docs/dir.md", r.Map, nil)
	r, err = Generate(src, Options{MapPath: "docs/dir.md", Depth: 1})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(r.Map, []byte("`envs/prod/`")) {
		t.Errorf("depth 1 map lists envs/prod:\n%s", r.Map)
	}
	checkPasses(t, src, "docs/dir.md", r.Map, nil)
}

// On a tree that already has a map, only the missing entries are added,
// in the map's own format, and nothing else changes.
func TestExtendExisting(t *testing.T) {
	existing := map[string]string{
		"tree":     "# Map\n\n```tree\n.\n├── argocd/  # Function: Argo CD | Layer: L3 | Namespace: argocd\n│   └── apps/  # Function: Applications | Layer: L3 | Namespace: argocd\n└── docs/  # Function: Docs | Layer: - | Namespace: -\n```\n\nProse after the map stays.\n",
		"list":     "# Map\n\n- `argocd/` — Function: Argo CD | Layer: L3 | Namespace: argocd\n  - `apps/` — Function: Applications | Layer: L3 | Namespace: argocd\n- `docs/` — Function: Docs | Layer: - | Namespace: -\n",
		"table":    "| Path | Function | Layer | Namespace |\n|---|---|---|---|\n| `argocd/` | Argo CD | L3 | argocd |\n| `argocd/apps/` | Applications | L3 | argocd |\n| `docs/` | Docs | - | - |\n",
		"complete": "| Path | Function |\n|---|---|\n| `argocd/` | x |\n| `charts/` | x |\n| `clusters/` | x |\n| `docs/` | x |\n| `kustomize/` | x |\n",
	}
	for name, m := range existing {
		t.Run(name, func(t *testing.T) {
			src := loadTree(t, "gitops")
			src.Add(File{Path: "docs/dir.md", Size: int64(len(m)), Regular: true}, strings.NewReader(m))
			r, err := Generate(src, Options{MapPath: "docs/dir.md", Existing: []byte(m), HasExisting: true})
			if err != nil {
				t.Fatal(err)
			}
			if !r.Extended {
				t.Error("Extended not set")
			}
			golden(t, "extend."+name+".md", report(r))
			checkPasses(t, src, "docs/dir.md", r.Map, nil)
			// Every original line is still there, in order.
			orig := strings.Split(m, "\n")
			got := strings.Split(string(r.Map), "\n")
			j := 0
			for _, l := range got {
				if j < len(orig) && l == orig[j] {
					j++
				}
			}
			if j != len(orig) {
				t.Errorf("original line %d %q changed or moved", j+1, orig[j])
			}
			if name == "complete" && r.Changed {
				t.Error("a complete map was changed")
			}
		})
	}
}

// Symbolic links are never read, whatever their name.
func TestSymlinkNotRead(t *testing.T) {
	src := loadTree(t, "hostile")
	if _, err := src.Read("linked/README.md", 100); err == nil {
		t.Fatal("the tree kept a symbolic link's target")
	}
}
