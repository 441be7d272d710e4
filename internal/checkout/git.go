package checkout

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The repository being checked is untrusted: a pull request's checkout, an
// archive, a pre-commit hook's tree. Its own settings (.git/config,
// .gitattributes, .git/info/attributes) must not run a command or change
// what the checks read, and neither may personal settings change findings.
// Every git command therefore goes through runner, which:
//
//   - reads no system or global config (GIT_CONFIG_NOSYSTEM,
//     GIT_CONFIG_GLOBAL=/dev/null), except the user's own safe.directory
//     values, passed back with -c (CI checkouts owned by another user need
//     them);
//   - overrides, with -c, the repository settings that run commands
//     (core.fsmonitor, core.hooksPath) or change output;
//   - drops the environment variables that inject config, attributes or an
//     external diff, and those that point git at another repository; it
//     keeps GIT_INDEX_FILE (pre-commit hooks run with a temporary index);
//   - ignores replace refs and grafts (GitHub honours neither: they would
//     let a checkout show other history or content than the pull request).
//
// Only commands that never read work-tree content through filters are run
// (rev-parse, ls-files, ls-tree, cat-file, rev-list, merge-base, diff of
// trees and of the index with --no-textconv --no-ext-diff); work-tree files
// are read directly, through Repo.root.
type runner struct {
	dir  string
	env  []string
	opts []string // global options before the command
}

// hardening are the -c settings every command runs with.
var hardening = []string{
	"core.quotepath=off",
	"core.fsmonitor=false",
	"core.hooksPath=/dev/null",
	"core.untrackedCache=false",
	"diff.noprefix=false",
	"diff.mnemonicPrefix=false",
	"diff.relative=false",
	"color.ui=never",
}

// diffFlags are given to every diff: no textconv or external diff driver
// runs, prefixes are fixed whatever the settings, and nothing a setting
// changes reaches the parser.
var diffFlags = []string{
	"--no-textconv", "--no-ext-diff", "--no-color", "--no-renames", "--no-relative",
	"--src-prefix=a/", "--dst-prefix=b/", "--ignore-submodules=none",
}

// newRunner prepares git for dir. environ is the process environment.
func newRunner(ctx context.Context, dir string, environ []string) (*runner, error) {
	safe, err := safeDirectories(ctx, environ)
	if err != nil {
		return nil, err
	}
	r := &runner{dir: dir, env: gitEnv(environ)}
	r.opts = []string{"-C", dir}
	for _, h := range hardening {
		r.opts = append(r.opts, "-c", h)
	}
	for _, s := range safe {
		r.opts = append(r.opts, "-c", "safe.directory="+s)
	}
	return r, nil
}

// at is the same runner in another directory.
func (g *runner) at(dir string) *runner {
	c := *g
	c.dir = dir
	c.opts = append([]string{"-C", dir}, g.opts[2:]...)
	return &c
}

// dropped reports whether an environment variable must not reach git:
// config and attribute injection, external diffs, diff options, and
// variables that point git at another repository than PATH's.
func dropped(key string) bool {
	switch {
	case strings.HasPrefix(key, "GIT_CONFIG"), strings.HasPrefix(key, "GIT_ATTR_"):
		return true
	case strings.HasSuffix(key, "_PATHSPECS") && strings.HasPrefix(key, "GIT_"):
		return true
	}
	switch key {
	case "GIT_EXTERNAL_DIFF", "GIT_DIFF_OPTS", "GIT_DIFF_PATH_COUNTER", "GIT_DIFF_PATH_TOTAL",
		"GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_PREFIX", "GIT_NAMESPACE",
		"GIT_INDEX_FILE", "GIT_NO_REPLACE_OBJECTS", "GIT_REPLACE_REF_BASE", "GIT_GRAFT_FILE",
		"GIT_OPTIONAL_LOCKS", "GIT_TERMINAL_PROMPT", "GIT_PAGER", "PAGER",
		"LC_ALL", "LANG", "LANGUAGE":
		return true
	}
	return false
}

// gitEnv builds git's environment from the process's.
func gitEnv(environ []string) []string {
	var env []string
	index := ""
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if k == "GIT_INDEX_FILE" && v != "" {
			// Relative to where the hook runs; git runs with -C.
			if abs, err := filepath.Abs(v); err == nil {
				index = abs
			}
		}
		if dropped(k) {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_NO_REPLACE_OBJECTS=1",
		"GIT_GRAFT_FILE=/dev/null", // .git/info/grafts would rewrite history
		"GIT_LITERAL_PATHSPECS=1",
		"GIT_OPTIONAL_LOCKS=0",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_PAGER=cat",
		"LC_ALL=C",
	)
	if index != "" {
		env = append(env, "GIT_INDEX_FILE="+index)
	}
	return env
}

// safeDirectories reads the user's own safe.directory values (system,
// global and those given on git's command line through the environment)
// without reading any repository's config: GIT_DIR names no repository.
func safeDirectories(ctx context.Context, environ []string) ([]string, error) {
	env := make([]string, 0, len(environ)+2)
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if k == "GIT_DIR" || k == "GIT_WORK_TREE" || k == "LC_ALL" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "GIT_DIR=/dev/null", "LC_ALL=C")
	cmd := exec.CommandContext(ctx, "git", "config", "-z", "--get-all", "safe.directory")
	cmd.Dir = os.TempDir()
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
			return nil, nil // no value set
		}
		return nil, fmt.Errorf("git config --get-all safe.directory: %s", firstLine(stderr.String(), err))
	}
	// -z ends every value with NUL, so the last element is not a value.
	// An empty value is kept: it resets the list, as git reads it.
	vals := strings.Split(string(out), "\x00")
	vals = vals[:len(vals)-1]
	return vals, nil
}

func firstLine(stderr string, err error) string {
	msg := strings.TrimSpace(stderr)
	if msg == "" {
		return err.Error()
	}
	return msg
}

// run runs a git command and returns its standard output; errors carry
// git's own message.
func (g *runner) run(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := g.command(ctx, args...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &gitError{args: args, msg: firstLine(stderr.String(), err)}
	}
	return out, nil
}

func (g *runner) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", append(append([]string(nil), g.opts...), args...)...)
	cmd.Env = g.env
	return cmd
}

type gitError struct {
	args []string
	msg  string
}

func (e *gitError) Error() string {
	return fmt.Sprintf("git %s: %s", strings.Join(e.args, " "), e.msg)
}
