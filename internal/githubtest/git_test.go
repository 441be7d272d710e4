package githubtest_test

import (
	"archive/tar"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

// TestSHAsAreGits checks blob, tree and commit SHAs against git itself.
func TestSHAsAreGits(t *testing.T) {
	s := githubtest.New(t)
	when := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	sha := s.CreateCommit(githubtest.NewCommit{
		Files:   map[string]string{"a.txt": "hello\n", "dir/b.sh": "#!/bin/sh\n", "dir/sub/c": "c", "link": "a.txt"},
		Modes:   map[string]string{"dir/b.sh": githubtest.ModeExecutable, "link": githubtest.ModeSymlink},
		Message: "first",
		Author:  "octocat",
		Time:    when,
	})
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	run := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"GIT_AUTHOR_NAME=octocat", "GIT_AUTHOR_EMAIL=octocat@users.noreply.github.com", "GIT_AUTHOR_DATE=2024-05-01T10:00:00Z",
			"GIT_COMMITTER_NAME=octocat", "GIT_COMMITTER_EMAIL=octocat@users.noreply.github.com", "GIT_COMMITTER_DATE=2024-05-01T10:00:00Z",
			"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q")
	write := func(p, content string, mode os.FileMode) {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "hello\n", 0o644)
	write("dir/b.sh", "#!/bin/sh\n", 0o755)
	write("dir/sub/c", "c", 0o644)
	if err := os.Symlink("a.txt", filepath.Join(dir, "link")); err != nil {
		t.Skip("no symlinks here")
	}
	run("add", "-A")
	run("commit", "-q", "-m", "first")
	if want := run("rev-parse", "HEAD"); sha != want {
		t.Errorf("commit SHA %s, git says %s", sha, want)
	}
}

// TestPatchesAreGits compares patches with `git diff` minus its headers.
func TestPatchesAreGits(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	lines := func(n int, f func(i int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(f(i) + "\n")
		}
		return b.String()
	}
	base := lines(40, func(i int) string {
		if i%10 == 0 {
			return "func f" + string(rune('a'+i/10)) + "() {"
		}
		return "\tline " + string(rune('a'+i%26))
	})
	cases := map[string][2]string{
		"one change":         {"a\nb\nc\n", "a\nB\nc\n"},
		"far apart hunks":    {base, strings.Replace(strings.Replace(base, "\tline b", "\tline B", 1), "\tline y", "\tline Y", 1)},
		"append":             {"a\n", "a\nb\nc\n"},
		"no newline at end":  {"a\nb", "a\nb\nc"},
		"newline added":      {"a\nb", "a\nb\n"},
		"delete all":         {"a\nb\n", ""},
		"create":             {"", "x\ny\n"},
		"single line change": {"x\n", "y\n"},
		"insert at top":      {base, "new\n" + base},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := githubtest.New(t)
			s.AddRepo(githubtest.Repo{Owner: "o", Name: "r"})
			inst := s.AddInstallation(githubtest.Installation{Account: "o", All: true})
			files := map[string]string{"keep": "k\n"}
			if tc[0] != "" {
				files["f.txt"] = tc[0]
			}
			s.Push("o", "r", "main", files)
			var del []string
			next := map[string]string{}
			if tc[1] == "" {
				del = []string{"f.txt"}
			} else {
				next["f.txt"] = tc[1]
			}
			head := s.Push("o", "r", "main", next, del...)
			c := tokenClient(t, s, s.InstallationToken(inst))
			commit := must[*github.RepositoryCommit](t)(c.Repositories.GetCommit(ctx, "o", "r", head, nil))
			got := commit.Files[0].GetPatch()
			if want := gitPatch(t, tc[0], tc[1]); got != want {
				t.Errorf("patch:\n%s\ngit:\n%s", got, want)
			}
		})
	}
}

func gitPatch(t *testing.T, before, after string) string {
	t.Helper()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	args := []string{"diff", "--no-index", "--no-color", "--no-ext-diff"}
	if before != "" {
		os.WriteFile(a, []byte(before), 0o644)
	} else {
		a = "/dev/null"
	}
	if after != "" {
		os.WriteFile(b, []byte(after), 0o644)
	} else {
		b = "/dev/null"
	}
	out, err := exec.Command("git", append(args, a, b)...).Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	text := string(out)
	i := strings.Index(text, "\n@@")
	return strings.TrimSuffix(text[i+1:], "\n")
}

func TestTarball(t *testing.T) {
	f := newFixture(t)
	link, _, err := f.client.Repositories.GetArchiveLink(ctx, "acme", "infra", github.Tarball, &github.RepositoryContentGetOptions{Ref: "feature"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// codeload needs no Authorization: a plain client downloads.
	resp, err := http.Get(link.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	gz, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	prefix := "acme-infra-" + f.head[:7] + "/"
	files := map[string]string{}
	sawGlobal := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			sawGlobal = h.PAXRecords["comment"] == f.head
			continue
		}
		if !strings.HasPrefix(h.Name, prefix) {
			t.Errorf("entry %s outside %s", h.Name, prefix)
		}
		if h.Typeflag == tar.TypeReg {
			data, _ := io.ReadAll(tr)
			files[strings.TrimPrefix(h.Name, prefix)] = string(data)
		}
	}
	if !sawGlobal {
		t.Errorf("no pax global header with the commit SHA")
	}
	if len(files) != 4 || files["apps/api/main.go"] != "package main\n" || files["terraform/main.tf"] != "" {
		t.Errorf("files %v", files)
	}
}

func TestWritesContentsAndGitData(t *testing.T) {
	f := newFixture(t)
	c := f.client

	// An autofix commits a file to the PR branch.
	created := must[*github.RepositoryContentResponse](t)(c.Repositories.CreateFile(ctx, "acme", "infra", "apps/api/README.md", &github.RepositoryContentFileOptions{
		Message: github.String("Register apps/api"), Content: []byte("# api\n"), Branch: github.String("feature"),
	}))
	tip := f.s.Branch("acme", "infra", "feature")
	if created.GetSHA() != tip || created.Commit.GetAuthor().GetName() != "housekeeper[bot]" {
		t.Errorf("commit %s, branch at %s", created.GetSHA(), tip)
	}
	if got, _ := f.s.File(tip, "apps/api/README.md"); got != "# api\n" {
		t.Errorf("file content %q", got)
	}
	if pr, _ := f.s.GetPullRequest("acme", "infra", f.prNum); pr.HeadSHA != tip {
		t.Errorf("PR head did not follow the branch")
	}
	// Updating needs the current blob SHA.
	_, _, err := c.Repositories.UpdateFile(ctx, "acme", "infra", "docs/dir.md", &github.RepositoryContentFileOptions{
		Message: github.String("x"), Content: []byte("x"), Branch: github.String("feature"), SHA: github.String("0000000000000000000000000000000000000000"),
	})
	if statusOf(err) != 409 {
		t.Errorf("stale sha: %v", err)
	}

	// The git data API: blob, tree, commit, then move the branch.
	blob := must[*github.Blob](t)(c.Git.CreateBlob(ctx, "acme", "infra", &github.Blob{
		Content: github.String(base64.StdEncoding.EncodeToString([]byte("data\n"))), Encoding: github.String("base64"),
	}))
	tree := must[*github.Tree](t)(c.Git.CreateTree(ctx, "acme", "infra", treeOf(t, f, tip), []*github.TreeEntry{
		{Path: github.String("data.txt"), Mode: github.String("100644"), Type: github.String("blob"), SHA: blob.SHA},
		{Path: github.String("README.md"), Mode: github.String("100644"), Type: github.String("blob")}, // nil SHA deletes
	}))
	commit := must[*github.Commit](t)(c.Git.CreateCommit(ctx, "acme", "infra", &github.Commit{
		Message: github.String("git data"), Tree: &github.Tree{SHA: tree.SHA}, Parents: []*github.Commit{{SHA: github.String(tip)}},
	}, nil))
	ref := must[*github.Reference](t)(c.Git.UpdateRef(ctx, "acme", "infra", &github.Reference{
		Ref: github.String("refs/heads/feature"), Object: &github.GitObject{SHA: commit.SHA},
	}, false))
	if ref.GetObject().GetSHA() != commit.GetSHA() || f.s.Branch("acme", "infra", "feature") != commit.GetSHA() {
		t.Errorf("ref %v", ref)
	}
	if _, ok := f.s.File(commit.GetSHA(), "README.md"); ok {
		t.Errorf("README.md not deleted")
	}
	if got, _ := f.s.File(commit.GetSHA(), "data.txt"); got != "data\n" {
		t.Errorf("data.txt = %q", got)
	}
	// Moving back is not a fast forward.
	_, _, err = c.Git.UpdateRef(ctx, "acme", "infra", &github.Reference{
		Ref: github.String("refs/heads/feature"), Object: &github.GitObject{SHA: github.String(f.base)},
	}, false)
	if statusOf(err) != 422 {
		t.Errorf("non fast forward: %v", err)
	}
}

// treeOf reads a commit's tree SHA through the trees API (GET
// git/commits is not in the description).
func treeOf(t *testing.T, f *fixture, commit string) string {
	tree := must[*github.Tree](t)(f.client.Git.GetTree(ctx, "acme", "infra", commit, false))
	return tree.GetSHA()
}
