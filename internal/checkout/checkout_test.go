package checkout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testRepo is a real git repository built for one test.
type testRepo struct {
	t   *testing.T
	dir string
}

func newTestRepo(t *testing.T) *testRepo {
	t.Helper()
	r := &testRepo{t: t, dir: filepath.Join(t.TempDir(), "repo")}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *testRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (r *testRepo) write(p, content string) {
	r.t.Helper()
	full := filepath.Join(r.dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *testRepo) commit(files map[string]string) string {
	r.t.Helper()
	for p, c := range files {
		r.write(p, c)
	}
	r.git("add", "-A")
	r.git("commit", "-q", "-m", "c")
	return strings.TrimSpace(r.git("rev-parse", "HEAD"))
}

func open(t *testing.T, dir string) *Repo {
	t.Helper()
	repo, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	return repo
}

// patchText reads a patch's stream whole (the tests' patches are small).
func patchText(t *testing.T, p *Patch) string {
	t.Helper()
	rc := p.Open(context.Background())
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestPatchDecidesBinaryByContent(t *testing.T) {
	r := newTestRepo(t)
	base := r.commit(map[string]string{"keep.txt": "x\n", "gone.txt": "old line\n"})
	head := r.commit(map[string]string{
		".gitattributes": "* -diff\n*.bin text diff\n",
		"text.txt":       "password = hunter2\n",
		"data.bin":       "\x00binary\n",
		"late.txt":       strings.Repeat("a", binaryWindow) + "\x00\nlast line\n",
	})
	r.git("rm", "-q", "gone.txt")
	r.git("commit", "-q", "-m", "rm")
	repo := open(t, r.dir)

	p, err := repo.Patch(context.Background(), head)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Binary, []string{"data.bin"}) {
		t.Errorf("binary %q, want data.bin only (a NUL past 8 KiB is text)", p.Binary)
	}
	text := patchText(t, p)
	for _, want := range []string{"+password = hunter2", "+++ b/text.txt", "+++ b/late.txt", "+last line", "+* -diff"} {
		if !strings.Contains(text, want) {
			t.Errorf("patch lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Binary files") || strings.Contains(text, "data.bin") {
		t.Errorf("patch:\n%s", text)
	}
	// The net change includes the deletion's lines.
	p, err = repo.RangePatch(context.Background(), base, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(patchText(t, p), "-old line") {
		t.Errorf("range patch lacks the deleted line:\n%s", patchText(t, p))
	}
}

func TestStagedPatchBeforeTheFirstCommit(t *testing.T) {
	r := newTestRepo(t)
	r.write("a.txt", "token\n")
	r.write("b.raw", "\x00")
	r.git("add", "-A")
	p, err := open(t, r.dir).Patch(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(patchText(t, p), "+token") || !slices.Equal(p.Binary, []string{"b.raw"}) {
		t.Errorf("text %q, binary %q", patchText(t, p), p.Binary)
	}
}

func TestEnvironmentCannotInjectConfig(t *testing.T) {
	r := newTestRepo(t)
	r.commit(map[string]string{"a.txt": "one\n"})
	head := r.commit(map[string]string{"a.txt": "two\n"})
	marker := filepath.Join(t.TempDir(), "ran")
	t.Setenv("GIT_EXTERNAL_DIFF", "touch "+marker)
	t.Setenv("GIT_CONFIG_COUNT", "1")
	t.Setenv("GIT_CONFIG_KEY_0", "diff.external")
	t.Setenv("GIT_CONFIG_VALUE_0", "touch "+marker)
	t.Setenv("GIT_CONFIG_PARAMETERS", "'diff.noprefix'='true'")
	p, err := open(t, r.dir).Patch(context.Background(), head)
	if err != nil {
		t.Fatal(err)
	}
	text := patchText(t, p)
	if _, err := os.Stat(marker); err == nil {
		t.Error("the environment's external diff ran")
	}
	if !strings.Contains(text, "+++ b/a.txt") || !strings.Contains(text, "+two") {
		t.Errorf("patch:\n%s", text)
	}
}

func TestIndexFileKept(t *testing.T) {
	r := newTestRepo(t)
	r.commit(map[string]string{"a.txt": "one\n"})
	// A pre-commit hook runs with a temporary index: what it holds is what
	// is checked.
	tmp := filepath.Join(t.TempDir(), "index")
	r.write("b.txt", "in the temporary index\n")
	cmd := exec.Command("git", "-C", r.dir, "add", "b.txt")
	cmd.Env = append(os.Environ(), "GIT_INDEX_FILE="+tmp, "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := exec.Command("cp", filepath.Join(r.dir, ".git", "index"), tmp).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	t.Setenv("GIT_INDEX_FILE", tmp)
	p, err := open(t, r.dir).Patch(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(patchText(t, p), "+in the temporary index") {
		t.Errorf("patch of the temporary index:\n%s", patchText(t, p))
	}
}

func TestSafeDirectoryPassedBack(t *testing.T) {
	global := filepath.Join(t.TempDir(), "gitconfig")
	if err := os.WriteFile(global, []byte("[safe]\n\tdirectory = /srv/one\n\tdirectory = *\n[diff]\n\tmnemonicPrefix = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_CONFIG_GLOBAL", global)
	t.Setenv("GIT_CONFIG_COUNT", "1")
	t.Setenv("GIT_CONFIG_KEY_0", "safe.directory")
	t.Setenv("GIT_CONFIG_VALUE_0", "/srv/two")
	g, err := newRunner(context.Background(), t.TempDir(), os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(g.opts, " ")
	for _, want := range []string{"-c safe.directory=/srv/one -c safe.directory=* -c safe.directory=/srv/two", "-c core.fsmonitor=false", "-c core.hooksPath=/dev/null", "-c core.untrackedCache=false"} {
		if !strings.Contains(args, want) {
			t.Errorf("options %q lack %q", args, want)
		}
	}
	env := strings.Join(g.env, "\n")
	for _, want := range []string{"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1"} {
		if !strings.Contains(env, want) {
			t.Errorf("environment lacks %s", want)
		}
	}
	for _, bad := range []string{global, "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0"} {
		if strings.Contains(env, bad) {
			t.Errorf("environment keeps %s", bad)
		}
	}
}

func TestRefusesAGitDirectoryElsewhere(t *testing.T) {
	victim := newTestRepo(t)
	victim.commit(map[string]string{"private.txt": "x\n"})
	archive := t.TempDir()
	if err := os.WriteFile(filepath.Join(archive, ".git"), []byte("gitdir: "+filepath.Join(victim.dir, ".git")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), archive); err == nil || !strings.Contains(err.Error(), "lies outside") {
		t.Errorf("a .git file borrowing another repository: err %v", err)
	}

	// core.worktree pointing away from the checkout.
	r := newTestRepo(t)
	r.commit(map[string]string{"a.txt": "x\n"})
	r.git("config", "core.worktree", victim.dir)
	if _, err := Open(context.Background(), r.dir); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("core.worktree elsewhere: err %v", err)
	}
	r.git("config", "core.worktree", "/")
	if _, err := Open(context.Background(), r.dir); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("core.worktree=/: err %v", err)
	}
}

func TestLinkedWorktreeAndSubdirectory(t *testing.T) {
	r := newTestRepo(t)
	r.commit(map[string]string{"a/b/c.txt": "x\n"})
	wt := filepath.Join(t.TempDir(), "wt")
	r.git("worktree", "add", "-q", wt)
	repo := open(t, wt)
	if !repo.Git || repo.Sub != "" || !sameDir(repo.Dir, wt) {
		t.Errorf("linked worktree: %+v", repo)
	}
	repo = open(t, filepath.Join(wt, "a", "b"))
	if !repo.Git || repo.Sub != "a/b" || !sameDir(repo.Dir, wt) {
		t.Errorf("subdirectory: %+v", repo)
	}
	plain := open(t, t.TempDir())
	if plain.Git || plain.Sub != "" {
		t.Errorf("plain directory: %+v", plain)
	}
}

func TestWorkingFilesNeverFollowLinks(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "notes.md"), []byte("outside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newTestRepo(t)
	r.commit(map[string]string{"in/file.txt": "inside\n"})
	if err := os.Symlink(outside, filepath.Join(r.dir, "d")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("in", filepath.Join(r.dir, "inner")); err != nil {
		t.Fatal(err)
	}
	r.git("add", "-A")
	r.git("commit", "-q", "-m", "links")
	repo := open(t, r.dir)
	for _, p := range []string{"d/notes.md", "inner/file.txt", "d", "../" + filepath.Base(outside) + "/notes.md"} {
		if data, err := repo.ReadWorking(p); err == nil {
			t.Errorf("ReadWorking(%q) read %q", p, data)
		}
	}
	if _, err := repo.ReadWorking("d/notes.md"); !errors.Is(err, ErrNotRegular) {
		t.Errorf("a path below a link: err %v, want ErrNotRegular", err)
	}
	if data, err := repo.ReadWorking("in/file.txt"); err != nil || string(data) != "inside\n" {
		t.Errorf("in/file.txt: %q %v", data, err)
	}
	files, err := repo.WorkingFiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Path)
		if f.Regular != (f.Path == "in/file.txt") {
			t.Errorf("%s: regular %v", f.Path, f.Regular)
		}
	}
	if !slices.Equal(got, []string{"d", "in/file.txt", "inner"}) {
		t.Errorf("files %q", got)
	}
}

func TestRevisionsAreNotOptions(t *testing.T) {
	r := newTestRepo(t)
	r.commit(map[string]string{"a.txt": "x\n"})
	repo := open(t, r.dir)
	out := filepath.Join(t.TempDir(), "written")
	for _, rev := range []string{"--output=" + out, "-h"} {
		if _, err := repo.Resolve(context.Background(), rev); err == nil {
			t.Errorf("Resolve(%q) succeeded", rev)
		}
		if _, err := repo.FilesAt(context.Background(), rev); err == nil {
			t.Errorf("FilesAt(%q) succeeded", rev)
		}
		if _, _, err := repo.ReadAt(context.Background(), rev, "a.txt"); err != nil {
			t.Errorf("ReadAt(%q): %v", rev, err)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a revision was taken as an option")
	}
}

// Replace refs and grafts would let a checkout show other content or
// history than the pull request does on GitHub, which honours neither.
func TestReplaceRefsAndGraftsIgnored(t *testing.T) {
	r := newTestRepo(t)
	base := r.commit(map[string]string{"a.txt": "clean\n"})
	leak := r.commit(map[string]string{"a.txt": "clean\ntoken = leaked\n"})
	r.git("checkout", "-q", "-b", "decoy", base)
	decoy := r.commit(map[string]string{"b.txt": "harmless\n"})
	r.git("checkout", "-q", "main")
	r.git("replace", leak, decoy)
	// A graft makes the leaking commit a root, so that base..leak would be
	// the whole tree at leak.
	if err := os.WriteFile(filepath.Join(r.dir, ".git", "info", "grafts"), []byte(leak+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := open(t, r.dir)
	p, err := repo.Patch(context.Background(), leak)
	if err != nil {
		t.Fatal(err)
	}
	if text := patchText(t, p); !strings.Contains(text, "+token = leaked") || strings.Contains(text, "harmless") {
		t.Errorf("the replacement was honoured:\n%s", text)
	}
	commits, err := repo.Commits(context.Background(), base, leak)
	if err != nil || len(commits) != 1 || !slices.Equal(commits[0].Parents, []string{base}) {
		t.Errorf("commits %+v (%v): the graft was honoured", commits, err)
	}
}

// A patch's text is streamed across its git commands (one per chunk of
// paths), and a stream closed early stops its command.
func TestPatchStreams(t *testing.T) {
	r := newTestRepo(t)
	base := r.commit(map[string]string{"keep.txt": "x\n"})
	files := map[string]string{}
	for i := range 1001 {
		files[fmt.Sprintf("f%04d.txt", i)] = fmt.Sprintf("line %d\n", i)
	}
	head := r.commit(files)
	repo := open(t, r.dir)
	p, err := repo.RangePatch(context.Background(), base, head)
	if err != nil {
		t.Fatal(err)
	}
	text := patchText(t, p)
	if n := strings.Count(text, "\n+++ b/f"); n != 1001 || !strings.Contains(text, "+line 1000\n") {
		t.Errorf("%d files in the streamed patch, want 1001", n)
	}
	if sha, ok := p.NewBlob("f0007.txt"); !ok {
		t.Error("no blob for f0007.txt")
	} else if data, err := io.ReadAll(repo.OpenBlob(context.Background(), sha)); err != nil || string(data) != "line 7\n" {
		t.Errorf("blob %q, %v", data, err)
	}
	rc := p.Open(context.Background())
	if _, err := rc.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if _, err := rc.Read(make([]byte, 10)); err == nil {
		t.Error("read after close")
	}
	if rc, ok := repo.OpenAt(context.Background(), head, "f0001.txt"); !ok {
		t.Error("f0001.txt not at head")
	} else if data, _ := io.ReadAll(rc); string(data) != "line 1\n" {
		t.Errorf("f0001.txt at head: %q", data)
	}
	if _, ok := repo.OpenAt(context.Background(), base, "f0001.txt"); ok {
		t.Error("f0001.txt at base")
	}
	// A git failure is the stream's error.
	bad := &Patch{repo: repo, diffs: [][]string{{"cat-file", "blob", strings.Repeat("0", 40)}}}
	if _, err := io.ReadAll(bad.Open(context.Background())); err == nil || !strings.Contains(err.Error(), "git cat-file") {
		t.Errorf("err = %v, want git's", err)
	}
}

// TestGitSkippedOnlyWhereGitFindsNoRepository: Open does not ask git about
// a directory without .git or HEAD in it or any parent; wherever git would
// find a repository (a subdirectory, a link into a checkout, a bare
// repository, the inside of a git directory) it still asks.
func TestGitSkippedOnlyWhereGitFindsNoRepository(t *testing.T) {
	r := newTestRepo(t)
	r.commit(map[string]string{"a/b/c.txt": "x\n"})
	tmp := t.TempDir()
	plain := filepath.Join(tmp, "plain")
	link := filepath.Join(tmp, "link")
	bare := filepath.Join(tmp, "bare.git")
	gitfile := filepath.Join(tmp, "gitfile")
	if err := os.MkdirAll(filepath.Join(plain, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(r.dir, "a"), link); err != nil {
		t.Fatal(err)
	}
	r.git("clone", "-q", "--bare", r.dir, bare)
	if err := os.MkdirAll(filepath.Join(gitfile, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gitfile, ".git"), []byte("gitdir: "+filepath.Join(r.dir, ".git")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dir      string
		mayBeGit bool
	}{
		{plain, false},
		{filepath.Join(plain, "sub"), false},
		{filepath.Join(r.dir, "a", "b"), true},
		{link, true},
		{bare, true},
		{filepath.Join(r.dir, ".git", "objects"), true},
		{filepath.Join(gitfile, "sub"), true},
	} {
		cmd := exec.Command("git", "-C", c.dir, "rev-parse", "--git-dir")
		cmd.Env = gitEnv(os.Environ())
		out, err := cmd.CombinedOutput()
		gitSaysPlain := err != nil && strings.Contains(string(out), "not a git repository")
		got := mayBeInRepository(c.dir)
		if !got && !gitSaysPlain {
			t.Errorf("%s: git would be skipped, but git says %q (%v)", c.dir, out, err)
		}
		if gitSaysPlain && got != c.mayBeGit {
			t.Errorf("%s: mayBeInRepository = %v, want %v", c.dir, got, c.mayBeGit)
		}
	}
	// Through the link, the whole checkout is checked, as git sees it.
	repo := open(t, link)
	if !repo.Git || repo.Sub != "a" || !sameDir(repo.Dir, r.dir) {
		t.Errorf("link into a checkout: %+v", repo)
	}
	// A plain directory opened without git still answers git questions
	// as before: git itself says it is no repository.
	repo = open(t, plain)
	if repo.Git {
		t.Errorf("plain directory: %+v", repo)
	}
	if _, err := repo.FilesAt(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "not a git repository") {
		t.Errorf("FilesAt in a plain directory: %v", err)
	}
}

// TestReadAtMost: a file a change supplies is kept only up to the limit,
// with its whole size, at a revision, in the index and in the work tree.
func TestReadAtMost(t *testing.T) {
	r := newTestRepo(t)
	big := strings.Repeat("0123456789", 300)
	head := r.commit(map[string]string{"docs/dir.md": big, "small.md": "hi\n"})
	repo := open(t, r.dir)
	for _, rev := range []string{head, ""} {
		data, size, ok, err := repo.ReadAtMost(context.Background(), rev, "docs/dir.md", 1001)
		if err != nil || !ok || len(data) != 1001 || size != 3000 || string(data) != big[:1001] {
			t.Errorf("at %q: %d bytes kept, size %d, ok %v, %v", rev, len(data), size, ok, err)
		}
		if data, size, ok, err := repo.ReadAtMost(context.Background(), rev, "small.md", 1001); err != nil || !ok || string(data) != "hi\n" || size != 3 {
			t.Errorf("small at %q: %q, size %d, ok %v, %v", rev, data, size, ok, err)
		}
		if _, _, ok, err := repo.ReadAtMost(context.Background(), rev, "missing.md", 1001); ok || err != nil {
			t.Errorf("missing at %q: ok %v, %v", rev, ok, err)
		}
	}
	data, size, err := repo.ReadWorkingAtMost("docs/dir.md", 1001)
	if err != nil || len(data) != 1001 || size != 3000 {
		t.Errorf("work tree: %d bytes kept, size %d, %v", len(data), size, err)
	}
}
