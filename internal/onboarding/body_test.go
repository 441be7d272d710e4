package onboarding

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/config"
	"github.com/housekeeper-app/housekeeper/internal/mapgen"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test ./internal/onboarding -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

func tree(t *testing.T, files map[string]string) *mapgen.Mem {
	m := mapgen.NewMem()
	for p, c := range files {
		if _, err := m.Add(mapgen.File{Path: p, Size: int64(len(c)), Regular: true}, strings.NewReader(c)); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestBodyGolden(t *testing.T) {
	src := tree(t, map[string]string{
		"charts/web/Chart.yaml":         "name: web\ndescription: The web frontend.\n",
		"charts/web/values.yaml":        "namespaceOverride: web\n",
		"terraform/modules/vpc/main.tf": "x\n",
		"cmd/svc/main.go":               "// Command svc serves.\npackage main\n",
		"we`ird @team <b>/x":            "x\n",
	})
	res, err := mapgen.Generate(src, mapgen.Options{MapPath: "docs/dir.md"})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "body.with-config.md", Body(BodyInput{MapPath: "docs/dir.md", Result: res, WithConfig: true, ConfigFrom: "defaults"}))
	golden(t, "body.org-config.md", Body(BodyInput{MapPath: "docs/dir.md", Result: res, ConfigFrom: "acme/.github:.github/housekeeper.yml"}))
	golden(t, "config.yml", ConfigTemplate)
	existing := "| Path | Function | Layer | Namespace |\n|---|---|---|---|\n| `cmd/` | Commands | L0 | - |\n"
	src.Add(mapgen.File{Path: "docs/dir.md", Size: int64(len(existing)), Regular: true}, strings.NewReader(existing))
	ext, err := mapgen.Generate(src, mapgen.Options{MapPath: "docs/dir.md", Existing: []byte(existing), HasExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "stubs.md", StubsBody("docs/dir.md", ext))
	if strings.Contains(Body(BodyInput{MapPath: "docs/dir.md", Result: res}), "<b>") {
		t.Error("HTML from a directory name reached the description")
	}
}

// The template is valid config, and so is every commented line once
// uncommented.
func TestConfigTemplateParses(t *testing.T) {
	if _, err := config.Parse("template", []byte(ConfigTemplate)); err != nil {
		t.Fatal(err)
	}
	var un []string
	for _, l := range strings.Split(ConfigTemplate, "\n") {
		if strings.HasPrefix(l, "# ") && (strings.Contains(l, ":") && !strings.HasPrefix(l, "# Housekeeper")) {
			l = l[2:]
		}
		un = append(un, l)
	}
	if _, err := config.Parse("uncommented", []byte(strings.Join(un, "\n"))); err != nil {
		t.Errorf("uncommented template: %v\n%s", err, strings.Join(un, "\n"))
	}
}

func TestLayoutChangesWithContent(t *testing.T) {
	a := Content{MapPath: "docs/dir.md", Map: []byte("a")}
	b := Content{MapPath: "docs/dir.md", Map: []byte("b")}
	c := Content{MapPath: "docs/dir.md", Map: []byte("a"), Config: []byte("x")}
	if a.Layout() == b.Layout() || a.Layout() == c.Layout() || a.Layout() != (Content{MapPath: "docs/dir.md", Map: []byte("a")}).Layout() {
		t.Error("Layout does not follow the content")
	}
}
