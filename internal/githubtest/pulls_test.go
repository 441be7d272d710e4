package githubtest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

func TestPullRequestCompareAndCommits(t *testing.T) {
	f := newFixture(t)
	c := f.client

	pr := must[*github.PullRequest](t)(c.PullRequests.Get(ctx, "acme", "infra", f.prNum))
	if pr.GetHead().GetSHA() != f.head || pr.GetBase().GetSHA() != f.base || pr.GetHead().GetRef() != "feature" {
		t.Errorf("PR head/base = %s/%s, want %s/%s", pr.GetHead().GetSHA(), pr.GetBase().GetSHA(), f.head, f.base)
	}
	if pr.GetCommits() != 2 || pr.GetChangedFiles() != 3 || pr.GetUser().GetLogin() != "alice" {
		t.Errorf("PR commits=%d changed=%d user=%s", pr.GetCommits(), pr.GetChangedFiles(), pr.GetUser().GetLogin())
	}

	cmp := must[*github.CommitsComparison](t)(c.Repositories.CompareCommits(ctx, "acme", "infra", "main", "feature", nil))
	if cmp.GetMergeBaseCommit().GetSHA() != f.base || cmp.GetStatus() != "ahead" || cmp.GetAheadBy() != 2 || len(cmp.Commits) != 2 {
		t.Errorf("compare: merge base %s status %s ahead %d commits %d", cmp.GetMergeBaseCommit().GetSHA(), cmp.GetStatus(), cmp.GetAheadBy(), len(cmp.Commits))
	}
	if cmp.Commits[0].GetSHA() != f.first || cmp.Commits[1].GetSHA() != f.head {
		t.Errorf("compare commits not oldest first")
	}
	files := map[string]*github.CommitFile{}
	for _, fl := range cmp.Files {
		files[fl.GetFilename()] = fl
	}
	want := map[string]string{
		"apps/api/main.go":  "added",
		"apps/web/main.go":  "modified",
		"terraform/main.tf": "removed",
	}
	for name, status := range want {
		if files[name].GetStatus() != status {
			t.Errorf("%s status %q, want %q", name, files[name].GetStatus(), status)
		}
	}
	wantPatch := "@@ -1,5 +1,5 @@\n package main\n \n func main() {\n-\tprintln(\"hi\")\n+\tprintln(\"hello\")\n }"
	if got := files["apps/web/main.go"].GetPatch(); got != wantPatch {
		t.Errorf("patch:\n%s\nwant:\n%s", got, wantPatch)
	}

	// Branch names with slashes, escaped or not, route the same.
	f.s.SetBranch("acme", "infra", "user/topic", f.head)
	cmp2 := must[*github.CommitsComparison](t)(c.Repositories.CompareCommits(ctx, "acme", "infra", "main", "user/topic", nil))
	if cmp2.GetTotalCommits() != 2 {
		t.Errorf("compare with slashed branch: %d commits", cmp2.GetTotalCommits())
	}

	commits := must[[]*github.RepositoryCommit](t)(c.PullRequests.ListCommits(ctx, "acme", "infra", f.prNum, nil))
	if len(commits) != 2 || commits[1].GetSHA() != f.head {
		t.Errorf("PR commits: %d", len(commits))
	}

	commit := must[*github.RepositoryCommit](t)(c.Repositories.GetCommit(ctx, "acme", "infra", f.head, nil))
	if len(commit.Files) != 2 || commit.GetStats().GetTotal() != 3 || commit.Parents[0].GetSHA() != f.first {
		t.Errorf("commit files=%d stats=%v parents=%v", len(commit.Files), commit.GetStats(), commit.Parents)
	}

	prs := must[[]*github.PullRequest](t)(c.PullRequests.ListPullRequestsWithCommit(ctx, "acme", "infra", f.first, nil))
	if len(prs) != 1 || prs[0].GetNumber() != f.prNum {
		t.Errorf("PRs for commit: %v", prs)
	}

	merge := f.s.MergePullRequest("acme", "infra", f.prNum)
	prs = must[[]*github.PullRequest](t)(c.PullRequests.ListPullRequestsWithCommit(ctx, "acme", "infra", merge, nil))
	if len(prs) != 1 {
		t.Errorf("PRs for merge commit: %d", len(prs))
	}
	if got, _ := f.s.File(merge, "apps/api/main.go"); got != "package main\n" {
		t.Errorf("merge commit lacks the PR's file")
	}
}

func TestPullFilesPaginationCapsAt3000(t *testing.T) {
	s := githubtest.New(t)
	s.AddRepo(githubtest.Repo{Owner: "octo", Name: "big"})
	inst := s.AddInstallation(githubtest.Installation{Account: "octo", All: true})
	base := s.Push("octo", "big", "main", map[string]string{"README.md": "big\n"})
	s.SetBranch("octo", "big", "many", base)
	files := map[string]string{}
	for i := range 3500 {
		files[fmt.Sprintf("dir%02d/file%04d.txt", i%50, i)] = fmt.Sprintf("line %d\n", i)
	}
	s.Push("octo", "big", "many", files)
	pr := s.OpenPullRequest(githubtest.PullRequest{Owner: "octo", Repo: "big", Head: "many"})
	c := installationClient(t, s, inst)

	seen := map[string]bool{}
	opts := &github.ListOptions{PerPage: 100}
	pages := 0
	for {
		list, resp, err := c.PullRequests.ListFiles(ctx, "octo", "big", pr.Number, opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, fl := range list {
			seen[fl.GetFilename()] = true
			if fl.GetPatch() == "" {
				t.Fatalf("%s has no patch", fl.GetFilename())
			}
		}
		if resp.NextPage == 0 {
			if resp.LastPage != 0 {
				t.Errorf("last page link on the last page")
			}
			break
		}
		opts.Page = resp.NextPage
	}
	if len(seen) != 3000 || pages != 30 {
		t.Errorf("listed %d files in %d pages, want 3000 in 30", len(seen), pages)
	}
	if got := s.Calls().Count("GET /repos/{owner}/{repo}/pulls/{pull_number}/files"); got != 30 {
		t.Errorf("calls counted %d, want 30", got)
	}

	// The compare API stops at 300 files.
	cmp := must[*github.CommitsComparison](t)(c.Repositories.CompareCommits(ctx, "octo", "big", "main", "many", nil))
	if len(cmp.Files) != 300 {
		t.Errorf("compare files %d, want 300", len(cmp.Files))
	}
}

func TestTreesContentsAndBlobs(t *testing.T) {
	f := newFixture(t, githubtest.WithTreeLimit(5))
	c := f.client

	tree := must[*github.Tree](t)(c.Git.GetTree(ctx, "acme", "infra", f.base, true))
	if !tree.GetTruncated() || len(tree.Entries) != 5 {
		t.Errorf("tree truncated=%v entries=%d, want true/5", tree.GetTruncated(), len(tree.Entries))
	}
	flat := must[*github.Tree](t)(c.Git.GetTree(ctx, "acme", "infra", "main", false))
	if flat.GetTruncated() || len(flat.Entries) != 4 { // README.md, apps, docs, terraform
		t.Errorf("top-level tree: truncated=%v entries=%d", flat.GetTruncated(), len(flat.Entries))
	}

	file, _, _, err := c.Repositories.GetContents(ctx, "acme", "infra", "docs/dir.md", &github.RepositoryContentGetOptions{Ref: "feature"})
	if err != nil {
		t.Fatal(err)
	}
	content, err := file.GetContent()
	if err != nil || !strings.HasPrefix(content, "| Path |") {
		t.Errorf("content %q, %v", content, err)
	}
	_, dir, _, err := c.Repositories.GetContents(ctx, "acme", "infra", "apps", nil)
	if err != nil || len(dir) != 1 || dir[0].GetType() != "dir" {
		t.Errorf("directory listing %v, %v", dir, err)
	}
	_, _, resp, err := c.Repositories.GetContents(ctx, "acme", "infra", "nope.txt", nil)
	if err == nil || resp.StatusCode != 404 {
		t.Errorf("missing file: %v", err)
	}

	blob := must[[]byte](t)(c.Git.GetBlobRaw(ctx, "acme", "infra", file.GetSHA()))
	if string(blob) != content {
		t.Errorf("raw blob differs from contents")
	}

	br := must[*github.Branch](t)(c.Repositories.GetBranch(ctx, "acme", "infra", "feature", 0))
	if br.GetCommit().GetSHA() != f.head {
		t.Errorf("branch tip %s", br.GetCommit().GetSHA())
	}
	repo := must[*github.Repository](t)(c.Repositories.Get(ctx, "acme", "infra"))
	if repo.GetDefaultBranch() != "main" || !repo.GetPrivate() || repo.GetOwner().GetType() != "Organization" {
		t.Errorf("repo %v", repo)
	}
}

func TestBinaryLargeAndRenamedFiles(t *testing.T) {
	s := githubtest.New(t, githubtest.WithMaxPatchSize(200), githubtest.WithResponseValidation())
	s.AddRepo(githubtest.Repo{Owner: "o", Name: "r"})
	inst := s.AddInstallation(githubtest.Installation{Account: "o", All: true})
	base := s.Push("o", "r", "main", map[string]string{"old/name.txt": "same\n", "big.txt": "x\n"})
	s.SetBranch("o", "r", "topic", base)
	s.Push("o", "r", "topic", map[string]string{
		"new/name.txt": "same\n",
		"logo.png":     "\x89PNG\r\n\x1a\n\x00\x00",
		"big.txt":      strings.Repeat("a long line of text\n", 50),
		"run.sh":       "#!/bin/sh\n",
	}, "old/name.txt")
	pr := s.OpenPullRequest(githubtest.PullRequest{Owner: "o", Repo: "r", Head: "topic"})
	c := tokenClient(t, s, s.InstallationToken(inst))
	files := must[[]*github.CommitFile](t)(c.PullRequests.ListFiles(ctx, "o", "r", pr.Number, nil))
	byName := map[string]*github.CommitFile{}
	for _, f := range files {
		byName[f.GetFilename()] = f
	}
	if f := byName["new/name.txt"]; f.GetStatus() != "renamed" || f.GetPreviousFilename() != "old/name.txt" || f.Patch != nil {
		t.Errorf("rename: %v", f)
	}
	if f := byName["logo.png"]; f.GetStatus() != "added" || f.Patch != nil || f.GetAdditions() != 0 {
		t.Errorf("binary: %v", f)
	}
	if f := byName["big.txt"]; f.Patch != nil || f.GetAdditions() != 50 || f.GetDeletions() != 1 {
		t.Errorf("large patch kept: %v", f)
	}
	if f := byName["run.sh"]; f.GetPatch() != "@@ -0,0 +1 @@\n+#!/bin/sh" {
		t.Errorf("small patch: %q", f.GetPatch())
	}
	if len(files) != 4 {
		t.Errorf("%d files", len(files))
	}
}
