package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The CLI runs on checkouts it does not trust: what it inspects must not
// steer it. Each test here builds a real repository that tries.

type jsonReport struct {
	Checks []struct {
		Name, Conclusion string
		Findings         []struct {
			Kind, Rule, Path, File, Level string
		}
	}
}

func decodeReport(t *testing.T, out string) jsonReport {
	t.Helper()
	var rep jsonReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, out)
	}
	return rep
}

func (rep jsonReport) rules() map[string]string {
	got := map[string]string{}
	for _, c := range rep.Checks {
		for _, f := range c.Findings {
			got[f.Rule+" "+f.Level] = f.Path
		}
	}
	return got
}

// Problem 1: a committed `* -diff` must not turn text into "Binary files
// differ" and so hide a secret from --base and --staged. Binary is decided
// as the App decides it (a NUL byte in the first 8 KiB), and a binary file
// is listed as not content-scanned.
func TestUntrustedAttributesHideNoSecret(t *testing.T) {
	p := plant(7)
	r := newRepo(t)
	r.commit("base", baseFiles)
	r.git("checkout", "-q", "-b", "change")
	changed := map[string]string{
		".gitattributes":        "* -diff\n*.txt binary\n",
		"apps/web/deploy.sh":    "#!/bin/sh\nexport GITHUB_TOKEN=" + p.ghToken + "\n",
		"apps/web/notes.txt":    "aws " + p.awsKey + "\n",
		"apps/web/blob.raw":     "\x00\x01binary " + p.awsKey + "\n",
		"apps/web/late-nul.txt": strings.Repeat("x", 9000) + "\x00 " + p.awsKey + "\n",
	}
	r.commit("hide", changed)
	check := func(t *testing.T, args ...string) {
		t.Helper()
		out, stderr, code := runCLI(t, append(append([]string{"check", "--only", "secrets", "--format", "json"}, args...), r.dir)...)
		if code != exitFindings {
			t.Fatalf("exit %d, want 1 (secrets found); stderr %s\n%s", code, stderr, out)
		}
		got := decodeReport(t, out).rules()
		if got["github-pat failure"] != "apps/web/deploy.sh" || got["aws-access-key-id failure"] == "" {
			t.Errorf("findings %v: the token in deploy.sh and an AWS key in a text file must be found", got)
		}
		for rule, path := range got {
			if path == "apps/web/blob.raw" && !strings.HasPrefix(rule, " ") { // " notice": its not-scanned listing, not a rule's match
				t.Errorf("%s reported in a binary file", rule)
			}
		}
		// A binary file is listed in JSON as not content-scanned (a
		// notice), and counted in the Markdown summary.
		var rep struct {
			Checks []struct {
				Findings []struct{ Kind, Path, Level string }
			}
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		listed := false
		for _, f := range rep.Checks[0].Findings {
			listed = listed || (f.Kind == "not-scanned" && f.Path == "apps/web/blob.raw" && f.Level == "notice")
		}
		md, _, _ := runCLI(t, append(append([]string{"check", "--only", "secrets", "--format", "markdown"}, args...), r.dir)...)
		if !listed || !strings.Contains(md, "1 binary file was not content-scanned") {
			t.Errorf("the binary file is not listed as not content-scanned (JSON) or counted (Markdown):\n%s\n%s", out, md)
		}
		for _, v := range p.values() {
			if strings.Contains(out+md, v) {
				t.Errorf("a planted value is shown")
			}
		}
	}
	t.Run("base", func(t *testing.T) { check(t, "--base", "main") })
	t.Run("staged", func(t *testing.T) {
		r.git("reset", "-q", "--soft", "main")
		check(t, "--staged")
	})
}

// Problem 2: the scanned repository's git settings must not run commands:
// core.fsmonitor, a textconv driver set through .git/info/attributes, a
// clean filter, hooks.
func TestUntrustedGitConfigRunsNothing(t *testing.T) {
	r := newRepo(t)
	r.commit("base", baseFiles)
	marker := filepath.Join(t.TempDir(), "ran")
	hook := filepath.Join(t.TempDir(), "hook.sh")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho \"$0 $*\" >> "+marker+"\ncat \"$1\" 2>/dev/null || cat\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.git("config", "core.fsmonitor", hook)
	r.git("config", "diff.evil.textconv", hook)
	r.git("config", "diff.evil.command", hook)
	r.git("config", "filter.x.clean", hook)
	r.git("config", "filter.x.smudge", hook)
	r.git("config", "core.hooksPath", filepath.Dir(hook))
	if err := os.WriteFile(filepath.Join(r.dir, ".git", "info", "attributes"), []byte("* diff=evil filter=x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(marker) // the repository's own setup may have run it
	r.git("checkout", "-q", "-b", "change")
	r.write(map[string]string{"apps/web/new.txt": "hello\n"})
	r.git("-c", "core.fsmonitor=false", "-c", "filter.x.clean=cat", "add", "apps/web/new.txt")
	r.git("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "change")
	r.write(map[string]string{"apps/web/staged.txt": "staged\n", "apps/web/new.txt": "edited\n"})
	r.git("-c", "core.fsmonitor=false", "-c", "filter.x.clean=cat", "add", "apps/web/staged.txt")
	os.Remove(marker)
	for _, args := range [][]string{
		{"check", r.dir},
		{"check", "--staged", r.dir},
		{"check", "--base", "main", r.dir},
		{"check", "--base", "main", "--format", "markdown", r.dir},
	} {
		_, stderr, code := runCLI(t, args...)
		if code == exitUsage {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
		if data, err := os.ReadFile(marker); err == nil {
			t.Fatalf("%v ran the repository's command:\n%s", args, data)
		}
	}
}

// Problem 3: a personal git setting must not change findings: with
// diff.mnemonicPrefix the staged diff reads "i/path", and an exclusion or
// a fingerprint no longer matches.
func TestUntrustedPersonalGitConfigChangesNothing(t *testing.T) {
	p := plant(9)
	home := t.TempDir()
	global := filepath.Join(home, ".gitconfig")
	if err := os.WriteFile(global, []byte("[diff]\n\tmnemonicPrefix = true\n\tnoprefix = false\n\tcontext = 5\n[color]\n\tui = always\n\tdiff = always\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("GIT_CONFIG_GLOBAL", global)
	r := newRepo(t)
	r.commit("base", baseFiles)
	r.write(map[string]string{"apps/web/b.txt": "GITHUB_TOKEN=" + p.ghToken + "\n"})
	r.git("add", "apps/web/b.txt")
	for _, args := range [][]string{{"--staged"}, {"--base", "main"}} {
		if args[0] == "--base" {
			r.git("checkout", "-q", "-b", "change")
			r.git("commit", "-q", "-m", "change")
		}
		out, stderr, code := runCLI(t, append(append([]string{"check", "--only", "secrets", "--format", "json"}, args...), r.dir)...)
		if code != exitFindings {
			t.Fatalf("%v: exit %d; stderr %s\n%s", args, code, stderr, out)
		}
		if got := decodeReport(t, out).rules(); got["github-pat failure"] != "apps/web/b.txt" {
			t.Errorf("%v: findings %v, want github-pat in apps/web/b.txt", args, got)
		}
	}
}

// Problem 4: a committed symbolic link to a folder outside the checkout is
// never followed, not even as a path's first part, in audit mode.
func TestUntrustedSymlinkedFolderNotFollowed(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "notes.md"), []byte("# Map\n\n| Path | Function |\n|---|---|\n| `leaked-from-outside/` | x |\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "housekeeper.yml"), []byte("dirs:\n  map: leaked-config.md\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRepo(t)
	files := map[string]string{".config/housekeeper.yml": "dirs:\n  map: d/notes.md\n"}
	for k, v := range baseFiles {
		files[k] = v
	}
	r.commit("base", files)
	if err := os.Symlink(outside, filepath.Join(r.dir, "d")); err != nil {
		t.Fatal(err)
	}
	r.git("add", "d")
	r.git("commit", "-q", "-m", "link")

	// The map named by the config lies below the link.
	cfg := filepath.Join(r.dir, ".config", "housekeeper.yml")
	out, stderr, code := runCLI(t, "check", "--only", "dirs", "--config", cfg, r.dir)
	if strings.Contains(out+stderr, "leaked-from-outside") {
		t.Errorf("content from outside the checkout is shown:\n%s%s", out, stderr)
	}
	if code != exitUsage || !strings.Contains(stderr, "d is a symbolic link") {
		t.Errorf("exit %d, want 2 saying why; stderr %q", code, stderr)
	}

	// The config folder itself is a link.
	if err := os.RemoveAll(filepath.Join(r.dir, ".github")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(r.dir, ".github")); err != nil {
		t.Fatal(err)
	}
	out, stderr, _ = runCLI(t, "check", "--only", "dirs", r.dir)
	if strings.Contains(out+stderr, "leaked-config") {
		t.Errorf("a config from outside the checkout was read:\n%s%s", out, stderr)
	}
}

// Issue 15: a PATH inside a checkout checks the repository that contains
// it, from its top, and says so; --base works there.
func TestCheckFromSubdirectory(t *testing.T) {
	r := scenario(t)
	sub := filepath.Join(r.dir, "apps", "web")
	top, _, _ := runCLI(t, "check", "--base", "main", "--only", "dirs", "--format", "json", r.dir)
	out, stderr, code := runCLI(t, "check", "--base", "main", "--only", "dirs", "--format", "json", sub)
	if code != exitFindings || out != top {
		t.Errorf("exit %d; from a subdirectory the output differs from the top's:\n%s\nstderr %s", code, out, stderr)
	}
	golden(t, "subdirectory.stderr", strings.ReplaceAll(stderr, r.dir, "TOP"))
	top, _, _ = runCLI(t, "check", "--only", "dirs", r.dir)
	out, _, _ = runCLI(t, "check", "--only", "dirs", sub)
	if out != top || !strings.Contains(out, "unregistered") {
		t.Errorf("audit from a subdirectory differs from the top's:\n%s", out)
	}
}
