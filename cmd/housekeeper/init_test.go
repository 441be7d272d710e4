package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/checkout"
)

var initFiles = map[string]string{
	"README.md":                          "# infra\n\nEverything the platform team runs.\n",
	"terraform/modules/vpc/main.tf":      "resource \"aws_vpc\" \"this\" {}\n",
	"terraform/envs/prod/main.tf":        "module \"vpc\" {}\n",
	"charts/web/Chart.yaml":              "name: web\ndescription: Public web frontend.\n",
	"charts/web/values.yaml":             "namespaceOverride: web\n",
	"argocd/web.yaml":                    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  destination:\n    namespace: web\n",
	"cmd/tool/main.go":                   "// Command tool prints the inventory.\npackage main\n",
	".github/housekeeper.yml":            "dirs:\n  layers:\n    - path: \"terraform/**\"\n      layer: L1\n    - path: charts/*\n      layer: L3\n",
	"bad|name/file":                      "x\n",
	"terraform/envs/prod/eu/deep/x.tf":   "#\n",
	"docs/architecture/overview/main.md": "#\n",
}

func initTree(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "infra")
	for p, c := range initFiles {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestInitGolden(t *testing.T) {
	for _, format := range []string{"table", "tree", "list"} {
		t.Run(format, func(t *testing.T) {
			dir := initTree(t)
			out, errOut, code := runCLI(t, "init", "--format", format, dir)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, "init."+format+".md", out)
			golden(t, "init."+format+".stderr", errOut)
		})
	}
}

// --write puts the map where the config says; the check then reports
// only the TODOs; a second init adds nothing; a new directory is added in
// the map's own format and nothing else changes.
func TestInitWriteThenCheck(t *testing.T) {
	dir := initTree(t)
	if _, errOut, code := runCLI(t, "init", "--write", "--format", "tree", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	first, err := os.ReadFile(filepath.Join(dir, "docs", "dir.md"))
	if err != nil {
		t.Fatal(err)
	}
	out, _, _ := runCLI(t, "check", "--only", "dirs", "--format", "json", dir)
	var report struct {
		Checks []struct {
			Findings []struct {
				Kind string `json:"kind"`
				Path string `json:"path"`
			} `json:"findings"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, c := range report.Checks {
		for _, f := range c.Findings {
			if f.Kind != "incomplete" && f.Path != "bad|name" {
				t.Errorf("finding after init: %s %s", f.Kind, f.Path)
			}
		}
	}
	_, errOut, code := runCLI(t, "init", "--write", dir)
	if code != 0 || !strings.Contains(errOut, "nothing to add") {
		t.Errorf("second init: exit %d, %s", code, errOut)
	}
	if err := os.MkdirAll(filepath.Join(dir, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scripts", "x.sh"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCLI(t, "init", "--write", "--format", "table", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "init.extend.stderr", errOut)
	second, _ := os.ReadFile(filepath.Join(dir, "docs", "dir.md"))
	added := strings.TrimPrefix(strings.Replace(string(second), "└── scripts/", "", 1), "")
	if !strings.Contains(string(second), "scripts/  # Function: Scripts | Layer: TODO | Namespace: -") {
		t.Errorf("scripts/ not added as a tree line:\n%s", second)
	}
	if len(strings.Split(string(second), "\n")) != len(strings.Split(string(first), "\n"))+1 {
		t.Errorf("more than one line changed:\n%s", added)
	}
}

// The map is never written through a symbolic link.
func TestInitWriteRefusesSymlink(t *testing.T) {
	dir := initTree(t)
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "docs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "docs")); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, "init", "--write", dir)
	if code != exitUsage || !strings.Contains(errOut, "symbolic links are not followed") {
		t.Errorf("exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(target, "dir.md")); err == nil {
		t.Error("the map was written through the link")
	}
}

func TestInitUsage(t *testing.T) {
	for _, args := range [][]string{{"init", "--format", "yaml"}, {"init", "--depth", "0"}, {"init", "a", "b"}} {
		if _, _, code := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// A file listed under a directory that is a link is never read.
func TestInitDoesNotReadThroughLinkedDirectories(t *testing.T) {
	dir := initTree(t)
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "README.md"), []byte("Leaked text from outside the tree.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := &checkoutSource{}
	repo, err := checkout.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	src.repo = repo
	if err := os.Symlink(outside, filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	if data, err := src.Read("linked/README.md", 100); err == nil {
		t.Errorf("read through a linked directory: %q", data)
	}
	if _, err := src.Read("README.md", 100); err != nil {
		t.Errorf("a plain file: %v", err)
	}
}
