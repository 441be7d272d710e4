package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/checkrun"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// repo is a temporary git repository driven through the git command.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is required: %v", err)
	}
	r := &repo{t: t, dir: filepath.Join(t.TempDir(), "infra-live")}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null",
		// Fixed dates keep commit SHAs, and so golden files, stable.
		"GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (r *repo) write(files map[string]string) {
	r.t.Helper()
	for p, content := range files {
		full := filepath.Join(r.dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *repo) commit(msg string, files map[string]string, remove ...string) {
	r.t.Helper()
	r.write(files)
	for _, p := range remove {
		r.git("rm", "-q", "-r", p)
	}
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// The base map combines a table, a tree and a list.
const baseMap = "# Map\n\n" +
	"| Path | Function | Layer | Namespace |\n|---|---|---|---|\n" +
	"| `apps/` | Applications | L99 | - |\n| `apps/web/` | Web | L99 | web |\n| `apps/api/` | API | L99 | api |\n\n" +
	"```tree\ninfra-live\n├── infra/        # Function: Terraform | Layer: L1 | Namespace: -\n│   ├── modules/  # Function: Modules | Layer: L1 | Namespace: -\n│   └── envs/     # Function: Envs | Layer: L1 | Namespace: -\n└── charts/       # Function: Charts | Layer: L2 | Namespace: - (planned)\n```\n\n" +
	"- `docs/` — Function: Docs | Layer: - | Namespace: -\n- `platform/` — Function: Platform | Layer: L2 | Namespace: platform\n  - `ingress/` — Function: Ingress | Layer: L2 | Namespace: ingress\n"

var baseFiles = map[string]string{
	"docs/dir.md":                  baseMap,
	"apps/web/main.go":             "package main\n",
	"apps/api/main.go":             "package main\n",
	"infra/modules/vpc/main.tf":    "# vpc\n",
	"infra/envs/prod/main.tf":      "# prod\n",
	"platform/ingress/values.yaml": "replicas: 2\n",
	".github/workflows/ci.yml":     "on: push\n",
}

// scenario commits the base on main and the change on a branch.
func scenario(t *testing.T) *repo {
	r := newRepo(t)
	r.commit("base", baseFiles)
	r.git("checkout", "-q", "-b", "change")
	headMap := strings.Replace(baseMap, "  - `ingress/`", "  - `dns/` — Function: DNS | Layer: L2 | Namespace:\n  - `ingress/`", 1)
	r.commit("add things", map[string]string{
		"docs/dir.md":                   headMap,
		"apps/worker/main.go":           "package main\n",
		"infra/modules/vpc/sub/x.tf":    "# under a leaf\n",
		"tools/lint/run.sh":             "#!/bin/sh\n",
		".devcontainer/setup/init.sh":   "#!/bin/sh\n",
		"charts/housekeeper/Chart.yaml": "name: x\n",
		"platform/dns/zone.tf":          "# dns\n",
	}, "apps/api")
	return r
}

func TestCheckBaseScenario(t *testing.T) {
	r := scenario(t)
	out, stderr, code := runCLI(t, "check", "--base", "main", "--only", "dirs", "--format", "json", r.dir)
	if code != exitFindings {
		t.Fatalf("exit %d, want 1; stderr: %s", code, stderr)
	}
	var rep checkrun.Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, out)
	}
	if len(rep.Checks) != 1 || rep.Checks[0].Name != "housekeeper/dirs" || rep.Checks[0].Conclusion != checkrun.Failure {
		t.Fatalf("checks: %+v", rep.Checks)
	}
	var got []string
	for _, f := range rep.Checks[0].Findings {
		got = append(got, strings.Join([]string{f.Kind, f.Path, f.Level, f.File}, " "))
	}
	want := []string{
		"unregistered apps/worker failure apps/worker/main.go",
		"stale apps/api failure docs/dir.md",
		"realised charts notice docs/dir.md",
		"incomplete platform/dns failure docs/dir.md",
		"unregistered tools failure tools/lint/run.sh",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings:\n got %q\nwant %q", got, want)
	}
	for _, format := range []string{"json", "markdown", "text", "github"} {
		out, _, _ := runCLI(t, "check", "--base", "main", "--only", "dirs", "--format", format, r.dir)
		golden(t, "scenario."+format, out)
	}
}

func TestCheckAuditOfCleanBase(t *testing.T) {
	r := newRepo(t)
	r.commit("base", baseFiles)
	out, stderr, code := runCLI(t, "check", "--only", "dirs", r.dir)
	if code != exitOK {
		t.Fatalf("exit %d; stdout:\n%s\nstderr: %s", code, out, stderr)
	}
	if !strings.Contains(out, "housekeeper/dirs: success") {
		t.Errorf("output:\n%s", out)
	}
	// Uncommitted edits count in an audit; untracked files do not.
	r.write(map[string]string{"docs/dir.md": strings.Replace(baseMap, "| `apps/api/` | API | L99 | api |\n", "", 1), "scratch/notes.txt": "x"})
	out, _, code = runCLI(t, "check", "--only", "dirs", r.dir)
	if code != exitFindings || !strings.Contains(out, "apps/api") || strings.Contains(out, "scratch") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestCheckStaged(t *testing.T) {
	r := newRepo(t)
	r.commit("base", baseFiles)
	r.write(map[string]string{"newtop/a.txt": "x"})
	r.git("add", "newtop/a.txt")
	out, _, code := runCLI(t, "check", "--staged", "--only", "dirs", "--format", "json", r.dir)
	if code != exitFindings || !strings.Contains(out, `"unregistered"`) || !strings.Contains(out, `"newtop/a.txt"`) {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestCheckPlainDirectory(t *testing.T) {
	dir := t.TempDir()
	for p, c := range baseFiles {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte(c), 0o644)
	}
	os.MkdirAll(filepath.Join(dir, ".git", "objects", "zz"), 0o755)
	os.WriteFile(filepath.Join(dir, ".git", "objects", "zz", "x"), []byte("x"), 0o644)
	os.MkdirAll(filepath.Join(dir, "elsewhere", "x"), 0o755)
	os.WriteFile(filepath.Join(dir, "elsewhere", "x", "f"), []byte("x"), 0o644)
	// A symbolic link to a directory is never followed.
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(dir, "apps", "web", "link")); err != nil {
		t.Fatal(err)
	}
	out, _, code := runCLI(t, "check", "--only", "dirs", "--format", "json", dir)
	if code != exitFindings || !strings.Contains(out, `"path": "elsewhere"`) || strings.Contains(out, "link/") || strings.Contains(out, ".git/") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestCheckUsageAndConfigErrors(t *testing.T) {
	r := newRepo(t)
	r.commit("base", baseFiles)
	plain := t.TempDir()
	bad := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(bad, []byte("dirs:\n  mapp: x\n"), 0o644)
	tests := map[string]struct {
		args []string
		want string
	}{
		"base and staged":     {[]string{"check", "--base", "main", "--staged", r.dir}, "--base and --staged cannot be combined"},
		"unknown format":      {[]string{"check", "--format", "xml", r.dir}, `--format must be text, json, sarif, markdown or github, got "xml"`},
		"unknown only":        {[]string{"check", "--only", "everything", r.dir}, `--only must be dirs or secrets`},
		"unknown flag":        {[]string{"check", "--nope", r.dir}, "unknown flag: --nope"},
		"two paths":           {[]string{"check", r.dir, r.dir}, "at most one PATH"},
		"base on a plain dir": {[]string{"check", "--base", "main", plain}, "--base needs a git checkout"},
		"unknown base":        {[]string{"check", "--base", "nope", r.dir}, `unknown revision "nope"`},
		"missing path":        {[]string{"check", filepath.Join(plain, "missing")}, "no such file or directory"},
		"invalid config":      {[]string{"check", "--config", bad, r.dir}, bad + ":2: dirs.mapp: unknown key"},
		"missing config file": {[]string{"check", "--config", filepath.Join(plain, "none.yml"), r.dir}, "read config"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, stderr, code := runCLI(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want 2; stdout %q", code, out)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.want)
			}
		})
	}
}

// The config at the tip of REF applies with --base, not the branch's own.
func TestCheckBaseReadsConfigFromBase(t *testing.T) {
	r := newRepo(t)
	files := map[string]string{".github/housekeeper.yml": "dirs:\n  enforce: false\n"}
	for k, v := range baseFiles {
		files[k] = v
	}
	r.commit("base", files)
	r.git("checkout", "-q", "-b", "change")
	r.commit("change", map[string]string{".github/housekeeper.yml": "dirs:\n  enforce: true\n", "newtop/x": "x"})
	out, _, code := runCLI(t, "check", "--base", "main", "--only", "dirs", r.dir)
	if code != exitOK || !strings.Contains(out, "neutral") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./cmd/housekeeper -update rewrites it):\n%s", name, got)
	}
}

// A checkout that tracks nothing yet, or a change with nothing in it, says
// so instead of reporting a clean result of nothing.
func TestCheckSaysWhenThereIsNothingToCheck(t *testing.T) {
	r := newRepo(t)
	r.write(map[string]string{"apps/web/main.go": "package main\n"})
	out, _, code := runCLI(t, "check", r.dir)
	if code != exitOK || strings.Count(out, "This git checkout tracks no files yet, so nothing was checked") != 2 {
		t.Errorf("git init, nothing added: exit %d\n%s", code, out)
	}
	r.commit("base", baseFiles)
	for name, args := range map[string][]string{
		"--base on the same commit": {"check", "--only", "secrets", "--base", "HEAD", r.dir},
		"--staged, nothing staged":  {"check", "--only", "secrets", "--staged", r.dir},
	} {
		out, _, code := runCLI(t, args...)
		if code != exitOK || !strings.Contains(out, "housekeeper/secrets: success — No secrets: the change is empty") ||
			!strings.Contains(out, "The change is empty (no commit, no file changed): nothing to scan.") {
			t.Errorf("%s: exit %d\n%s", name, code, out)
		}
	}
	r.write(map[string]string{"apps/web/x.txt": "x\n"})
	r.git("add", "apps/web/x.txt")
	if out, _, _ := runCLI(t, "check", "--only", "secrets", "--staged", r.dir); !strings.Contains(out, "No secrets in the change") {
		t.Errorf("--staged with a file staged:\n%s", out)
	}
}

// --fail-on overrides secrets.fail_on: a bootstrap secret is a warning
// when only runtime fails, and nothing fails with none.
func TestCheckFailOn(t *testing.T) {
	r := newRepo(t)
	files := map[string]string{"infra/main.tf": "access_key = \"AK" + "IA" + strings.Repeat("QX7", 5) + "Z\"\n"}
	for k, v := range baseFiles {
		files[k] = v
	}
	r.commit("base", files)
	for flag, want := range map[string]int{"": exitFindings, "bootstrap": exitFindings, "runtime": exitOK, "none": exitOK} {
		args := []string{"check", "--only", "secrets", r.dir}
		if flag != "" {
			args = append(args, "--fail-on", flag)
		}
		if out, _, code := runCLI(t, args...); code != want {
			t.Errorf("--fail-on %q: exit %d, want %d\n%s", flag, code, want, out)
		}
	}
}
