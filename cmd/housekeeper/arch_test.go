package main

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/housekeeper-app/housekeeper"

// walkImports visits a package's imports, following those of this module
// transitively (test files left out), and calls visit for each import with
// the chain that led to it. It returns every module package it reached.
func walkImports(t *testing.T, dir, path string, visit func(imp string, chain []string)) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	var walk func(dir, path string, chain []string)
	walk = func(dir, path string, chain []string) {
		if seen[path] {
			return
		}
		seen[path] = true
		p, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, imp := range p.Imports {
			visit(imp, append(chain, path))
			if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
				walk(filepath.Join("..", "..", rel), imp, append(chain, path))
			}
		}
	}
	walk(dir, path, nil)
	return seen
}

// The engines and the check-run model know nothing of GitHub or HTTP
// (STYLE.md): they take plain data and return plain findings.
func TestDomainPackagesStayPlain(t *testing.T) {
	forbidden := []string{"net/http", "github.com/google/go-github", "github.com/palantir/go-githubapp", "github.com/bradleyfalzon/ghinstallation"}
	for _, pkg := range []string{"internal/dirmap", "internal/secrets", "internal/config", "internal/checkrun", "internal/checkout", "internal/mapgen", "internal/manifest"} {
		walkImports(t, filepath.Join("..", "..", pkg), module+"/"+pkg, func(imp string, chain []string) {
			for _, f := range forbidden {
				if imp == f || strings.HasPrefix(imp, f+"/") {
					t.Errorf("%s imports %s (via %s)", pkg, imp, strings.Join(chain, " → "))
				}
			}
		})
	}
}
