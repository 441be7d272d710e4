package deploy

import (
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// dockerignore loads the repository's .dockerignore with the same code
// Docker and BuildKit use.
func dockerignore(t *testing.T) *patternmatcher.PatternMatcher {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatalf("read .dockerignore: %v", err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatalf("compile .dockerignore: %v", err)
	}
	return pm
}

func TestDockerignore(t *testing.T) {
	pm := dockerignore(t)
	excluded := []string{
		".git/config",
		".git/objects/ab/cdef",
		".env",
		".env.production",
		"cmd/housekeeper/.env",
		"secrets/github-app.private-key.pem",
		"housekeeper.2026-01-01.private-key.pem",
		"tls/server.key",
		"keys/id_rsa",
		"keys/id_ed25519.pub",
		"infra/prod.tfvars",
		"terraform.tfstate.backup",
		".npmrc",
		"internal/secrets/testdata/leaks/aws.txt",
		"testdata/x",
		"deploy/go.mod",
		"deploy/helm/housekeeper/values.yaml",
		"docs/deploy.md",
		"README.md",
		"bin/housekeeper",
		".ci/run",
		".github/housekeeper.yml",
	}
	included := []string{
		"go.mod",
		"go.sum",
		"cmd/housekeeper/main.go",
		"internal/secrets/rules.go",
		"internal/secrets/rules.yaml",
		"internal/server/server.go",
		"app.yml",
	}
	for _, p := range excluded {
		if ok, err := pm.MatchesOrParentMatches(p); err != nil || !ok {
			t.Errorf(".dockerignore lets %s into the build context (err %v)", p, err)
		}
	}
	for _, p := range included {
		if ok, err := pm.MatchesOrParentMatches(p); err != nil || ok {
			t.Errorf(".dockerignore keeps %s out of the build context, the build needs it (err %v)", p, err)
		}
	}
}

// buildFromContext rebuilds what `docker build` would see — the repository
// filtered by .dockerignore — in a temporary directory and runs the
// Dockerfile's go build there, so a .dockerignore that drops a file the build
// needs (an embedded file, say) is caught without a Docker engine. It
// returns the binary. It compiles the whole product, so it runs only when
// HOUSEKEEPER_DOCKER_CONTEXT_BUILD is set (.ci/deploy-check sets it).
func buildFromContext(t *testing.T, version string) string {
	t.Helper()
	if os.Getenv("HOUSEKEEPER_DOCKER_CONTEXT_BUILD") == "" {
		t.Skip("set HOUSEKEEPER_DOCKER_CONTEXT_BUILD=1 to compile the product from the filtered build context")
	}
	mains, _ := filepath.Glob(filepath.Join(repoRoot, "cmd", "housekeeper", "*.go"))
	if len(mains) == 0 {
		t.Skip("cmd/housekeeper has no Go files yet: nothing to build")
	}
	pm := dockerignore(t)
	if pm.Exclusions() {
		t.Fatal("this test copies the context directory by directory and does not handle ! exceptions in .dockerignore")
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.TempDir()
	var files int
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if skip, err := pm.MatchesOrParentMatches(rel); err != nil || skip {
			if err == nil && d.IsDir() {
				return filepath.SkipDir
			}
			return err
		}
		dst := filepath.Join(ctx, filepath.FromSlash(rel))
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type().IsRegular():
			files++
			return copyFile(path, dst)
		}
		return nil // like Docker's context, symbolic links are not followed here
	})
	if err != nil {
		t.Fatalf("build the context: %v", err)
	}
	t.Logf("build context: %d files", files)

	bin := filepath.Join(t.TempDir(), "housekeeper")
	out, err := buildHousekeeper(t, ctx, bin, version)
	if err == nil {
		return bin
	}
	// Tell a .dockerignore problem from a product that does not build at all
	// (the root module's own CI reports that one).
	if full, ferr := buildHousekeeper(t, root, filepath.Join(t.TempDir(), "housekeeper"), version); ferr != nil {
		t.Skipf("the product does not build even from the full repository, so the build context cannot be judged:\n%s", full)
	}
	t.Fatalf("go build in the .dockerignore-filtered context failed, but succeeds in the full repository: .dockerignore drops a file the build needs:\n%s", out)
	return ""
}

// buildHousekeeper runs the Dockerfile's go build in dir.
func buildHousekeeper(t *testing.T, dir, bin, version string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", "build", "-trimpath",
		"-ldflags", "-s -w -X main.version="+version,
		"-o", bin, "./cmd/housekeeper")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly -buildvcs=false", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
