package main

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/housekeeper-app/housekeeper"

// The engines and the check-run model know nothing of GitHub or HTTP
// (STYLE.md): they take plain data and return plain findings. This walks
// their imports, transitively within the module.
func TestDomainPackagesStayPlain(t *testing.T) {
	forbidden := []string{"net/http", "github.com/google/go-github", "github.com/palantir/go-githubapp", "github.com/bradleyfalzon/ghinstallation"}
	for _, pkg := range []string{"internal/dirmap", "internal/secrets", "internal/config", "internal/checkrun", "internal/checkout"} {
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
				for _, f := range forbidden {
					if imp == f || strings.HasPrefix(imp, f+"/") {
						t.Errorf("%s imports %s (via %s)", pkg, imp, strings.Join(append(chain, path), " → "))
					}
				}
				if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
					walk(filepath.Join("..", "..", rel), imp, append(chain, path))
				}
			}
		}
		walk(filepath.Join("..", "..", pkg), module+"/"+pkg, nil)
	}
}
