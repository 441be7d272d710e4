// Package change reads what a check run judges from the GitHub API: the
// merge base, the commits and their patches, the file lists of both trees,
// the directory map and file contents. It turns GitHub's answers into plain
// values for the engines, and keeps the number of API calls small.
package change

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/dirmap"
)

// GitHub's own limits on what one answer lists.
const (
	compareFileLimit = 300
	prFileLimit      = 3000
	perPage          = 100
)

// Request says which change to read.
type Request struct {
	Owner, Repo string
	// BaseSHA is the commit the change is compared with (a PR's base branch
	// tip, or a push's "before"); "" reads the head as a whole-tree audit.
	BaseSHA string
	HeadSHA string
	// PR enables the pull-request files API beyond the compare API's 300
	// files.
	PR      int
	MapPath string
	// MaxCommits: more commits than this are scanned as the net diff.
	MaxCommits int
}

// File is one changed file.
type File struct {
	Path     string
	PrevPath string // for renames
	Status   string // added, removed, modified, renamed, copied, changed
	BlobSHA  string
	Patch    string
	HasPatch bool
}

// Commit is one commit of the change with the files it changed.
type Commit struct {
	SHA    string
	Merge  bool
	Files  []File
	loaded bool
}

// Change is everything the checks look at.
type Change struct {
	Req       Request
	Audit     bool
	MergeBase string
	// Files is the net diff from the merge base to the head.
	Files []File
	// FilesComplete is false when GitHub could not list every changed file
	// (beyond 3,000); the file lists then come from the trees.
	FilesComplete bool
	Commits       []Commit
	// NetDiffOnly is set when there were more commits than MaxCommits, so
	// the secrets check scans the net diff instead.
	NetDiffOnly bool
	HeadFiles   []TreeFile
	BaseFiles   []string
	// HeadMap and BaseMap hold no more than dirmap.MaxMapSize+1 bytes of
	// the map; HeadMapSize and BaseMapSize are its whole size.
	HeadMap     []byte
	HasHeadMap  bool
	HeadMapSize int64
	BaseMap     []byte
	HasBaseMap  bool
	BaseMapSize int64
	// Truncated is set when the head tree was too large for one answer and
	// was listed from the tarball instead.
	Truncated bool
}

// TreeFile is one file of the head tree.
type TreeFile struct {
	Path    string
	BlobSHA string
	Size    int64
	Regular bool // false for symbolic links and submodules
}

// Reader reads changes through one installation's client.
type Reader struct {
	Client *github.Client
}

// Read gathers a change: compare (1 call) for the merge base, commits and
// files; the head tree (1 call); the map (1 call, plus 1 at the base only
// when the change edits it).
func (r *Reader) Read(ctx context.Context, req Request) (*Change, error) {
	c := &Change{Req: req, Audit: req.BaseSHA == "", FilesComplete: true}
	// The compare and the head tree are independent (they fill different
	// fields): one round trip for both.
	var cmpErr error
	var wg sync.WaitGroup
	if !c.Audit {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmpErr = r.compare(ctx, c)
		}()
	}
	treeErr := r.headTree(ctx, c)
	wg.Wait()
	if err := errors.Join(cmpErr, treeErr); err != nil {
		return nil, err
	}
	if !c.Audit {
		if err := r.baseFiles(ctx, c); err != nil {
			return nil, err
		}
	}
	if err := r.maps(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

func (r *Reader) compare(ctx context.Context, c *Change) error {
	req := c.Req
	cmp, _, err := r.Client.Repositories.CompareCommits(ctx, req.Owner, req.Repo, req.BaseSHA, req.HeadSHA, nil)
	if err != nil {
		return fmt.Errorf("compare %s...%s: %w", short(req.BaseSHA), short(req.HeadSHA), err)
	}
	c.MergeBase = cmp.GetMergeBaseCommit().GetSHA()
	if c.MergeBase == "" {
		return fmt.Errorf("compare %s...%s: GitHub gave no merge base", short(req.BaseSHA), short(req.HeadSHA))
	}
	for _, f := range cmp.Files {
		c.Files = append(c.Files, fileOf(f))
	}
	total := cmp.GetTotalCommits()
	for _, rc := range cmp.Commits {
		c.Commits = append(c.Commits, Commit{SHA: rc.GetSHA(), Merge: len(rc.Parents) > 1})
	}
	if total > len(cmp.Commits) || (req.MaxCommits > 0 && len(c.Commits) > req.MaxCommits) {
		c.NetDiffOnly = true
	}
	if len(cmp.Files) >= compareFileLimit {
		if err := r.prFiles(ctx, c); err != nil {
			return err
		}
	}
	// One non-merge commit: its patch is the compare's, no extra call.
	if len(c.Commits) == 1 && !c.Commits[0].Merge && c.FilesComplete && len(cmp.Files) < compareFileLimit {
		c.Commits[0].Files = c.Files
		c.Commits[0].loaded = true
	}
	return nil
}

// prFiles lists a pull request's files (100 a page, up to 3,000) when the
// compare API's 300 were not all.
func (r *Reader) prFiles(ctx context.Context, c *Change) error {
	if c.Req.PR == 0 {
		c.FilesComplete = false
		return nil
	}
	var files []File
	opt := &github.ListOptions{PerPage: perPage}
	for {
		page, resp, err := r.Client.PullRequests.ListFiles(ctx, c.Req.Owner, c.Req.Repo, c.Req.PR, opt)
		if err != nil {
			return fmt.Errorf("list files of pull request #%d: %w", c.Req.PR, err)
		}
		for _, f := range page {
			files = append(files, fileOf(f))
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	c.Files = files
	if len(files) >= prFileLimit {
		c.FilesComplete = false
	}
	return nil
}

func fileOf(f *github.CommitFile) File {
	return File{
		Path:     f.GetFilename(),
		PrevPath: f.GetPreviousFilename(),
		Status:   f.GetStatus(),
		BlobSHA:  f.GetSHA(),
		Patch:    f.GetPatch(),
		HasPatch: f.Patch != nil,
	}
}

// headTree lists the head tree recursively; a truncated answer is listed
// from the tarball instead.
func (r *Reader) headTree(ctx context.Context, c *Change) error {
	files, truncated, err := r.tree(ctx, c.Req.Owner, c.Req.Repo, c.Req.HeadSHA)
	if err != nil {
		return err
	}
	if truncated {
		c.Truncated = true
		files = files[:0]
		err := r.Tarball(ctx, c.Req.Owner, c.Req.Repo, c.Req.HeadSHA, func(e TarEntry) error {
			files = append(files, TreeFile{Path: e.Path, Size: e.Size, Regular: e.Regular})
			return nil
		})
		if err != nil {
			return err
		}
	}
	c.HeadFiles = files
	return nil
}

// tree lists a commit's files recursively (one call).
func (r *Reader) tree(ctx context.Context, owner, repo, sha string) ([]TreeFile, bool, error) {
	t, _, err := r.Client.Git.GetTree(ctx, owner, repo, sha, true)
	if err != nil {
		return nil, false, fmt.Errorf("read tree %s: %w", short(sha), err)
	}
	files := make([]TreeFile, 0, len(t.Entries))
	for _, e := range t.Entries {
		switch e.GetType() {
		case "blob":
			files = append(files, TreeFile{Path: e.GetPath(), BlobSHA: e.GetSHA(), Size: int64(e.GetSize()), Regular: e.GetMode() != "120000"})
		case "commit": // a submodule: it occupies its path, never read
			files = append(files, TreeFile{Path: e.GetPath(), BlobSHA: e.GetSHA()})
		}
	}
	return files, t.GetTruncated(), nil
}

// baseFiles derives the base file list from the head and the net diff when
// the diff is complete (no extra call; the head list is complete too, from
// the tree or, past GitHub's tree limit, the tarball), else reads the base
// tree.
func (r *Reader) baseFiles(ctx context.Context, c *Change) error {
	if c.FilesComplete {
		base := make(map[string]bool, len(c.HeadFiles))
		for _, f := range c.HeadFiles {
			base[f.Path] = true
		}
		for _, f := range c.Files {
			switch f.Status {
			case "added", "copied":
				delete(base, f.Path)
			case "removed":
				base[f.Path] = true
			case "renamed":
				delete(base, f.Path)
				if f.PrevPath != "" {
					base[f.PrevPath] = true
				}
			}
		}
		c.BaseFiles = keys(base)
		return nil
	}
	files, truncated, err := r.tree(ctx, c.Req.Owner, c.Req.Repo, c.MergeBase)
	if err != nil {
		return err
	}
	if truncated {
		return fmt.Errorf("this change has more files than GitHub lists (3,000) in a tree larger than GitHub lists at once (base %s), so Housekeeper cannot tell which files it changed; split it", short(c.MergeBase))
	}
	for _, f := range files {
		c.BaseFiles = append(c.BaseFiles, f.Path)
	}
	if !c.FilesComplete {
		c.Files = treeDiff(files, c.HeadFiles)
	}
	return nil
}

// treeDiff compares two trees by blob, for changes too large for GitHub's
// file lists.
func treeDiff(base, head []TreeFile) []File {
	old := make(map[string]string, len(base))
	for _, f := range base {
		old[f.Path] = f.BlobSHA
	}
	var out []File
	for _, f := range head {
		sha, ok := old[f.Path]
		switch {
		case !ok:
			out = append(out, File{Path: f.Path, Status: "added", BlobSHA: f.BlobSHA})
		case sha != f.BlobSHA:
			out = append(out, File{Path: f.Path, Status: "modified", BlobSHA: f.BlobSHA})
		}
		delete(old, f.Path)
	}
	for p, sha := range old {
		out = append(out, File{Path: p, Status: "removed", BlobSHA: sha})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// maps reads the map at the head, and at the base only when the change
// touches it (otherwise both are the same bytes).
func (r *Reader) maps(ctx context.Context, c *Change) error {
	req := c.Req
	var err error
	c.HeadMap, c.HeadMapSize, c.HasHeadMap, err = r.Map(ctx, req.Owner, req.Repo, req.MapPath, req.HeadSHA)
	if err != nil {
		return err
	}
	if c.Audit {
		return nil
	}
	touched := false
	for _, f := range c.Files {
		if f.Path == req.MapPath || f.PrevPath == req.MapPath {
			touched = true
		}
	}
	if !touched {
		c.BaseMap, c.HasBaseMap, c.BaseMapSize = c.HeadMap, c.HasHeadMap, c.HeadMapSize
		return nil
	}
	c.BaseMap, c.BaseMapSize, c.HasBaseMap, err = r.Map(ctx, req.Owner, req.Repo, req.MapPath, c.MergeBase)
	return err
}

// Map reads the directory map at a ref, streaming it and keeping no more
// than dirmap.MaxMapSize+1 bytes: a pull request may make it as large as
// GitHub allows a file (100 MiB), and the engine refuses anything over
// the limit, saying its size, without reading it.
func (r *Reader) Map(ctx context.Context, owner, repo, path, ref string) (data []byte, size int64, ok bool, err error) {
	rc, size, ok, err := r.OpenFile(ctx, owner, repo, path, ref)
	if err != nil || !ok {
		return nil, 0, ok, err
	}
	defer rc.Close()
	if data, err = io.ReadAll(io.LimitReader(rc, dirmap.MaxMapSize+1)); err != nil {
		return nil, 0, false, fmt.Errorf("read %s at %s: %w", path, short(ref), err)
	}
	return data, max(size, int64(len(data))), true, nil
}

// Contents reads a file at a ref; ok is false when it does not exist.
func (r *Reader) Contents(ctx context.Context, owner, repo, path, ref string) (data []byte, ok bool, err error) {
	data, _, ok, err = r.File(ctx, owner, repo, path, ref)
	return data, ok, err
}

// File reads a file at a ref with its blob SHA (which an update of the file
// must name); ok is false when it does not exist.
func (r *Reader) File(ctx context.Context, owner, repo, path, ref string) (data []byte, sha string, ok bool, err error) {
	fc, _, resp, err := r.Client.Repositories.GetContents(ctx, owner, repo, path, &github.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return nil, "", false, nil
		}
		return nil, "", false, fmt.Errorf("read %s at %s: %w", path, short(ref), err)
	}
	if fc == nil {
		return nil, "", false, nil // a directory
	}
	s := ""
	if fc.GetEncoding() != "none" { // "none": over 1 MB, no content given
		if s, err = fc.GetContent(); err != nil {
			return nil, "", false, fmt.Errorf("decode %s at %s: %w", path, short(ref), err)
		}
	}
	if s == "" && fc.GetSize() > 0 {
		// Files over 1 MB come without content: read the blob.
		b, _, err := r.Client.Git.GetBlobRaw(ctx, owner, repo, fc.GetSHA())
		if err != nil {
			return nil, "", false, fmt.Errorf("read %s at %s: %w", path, short(ref), err)
		}
		return b, fc.GetSHA(), true, nil
	}
	return []byte(s), fc.GetSHA(), true, nil
}

// Blob reads a blob's bytes.
func (r *Reader) Blob(ctx context.Context, owner, repo, sha string) ([]byte, error) {
	b, _, err := r.Client.Git.GetBlobRaw(ctx, owner, repo, sha)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", short(sha), err)
	}
	return b, nil
}

// OpenFile streams a file at a ref, with its size; ok is false when it
// does not exist. Files over 1 MB, which the contents API gives without
// content, are streamed from their blob, never held whole.
func (r *Reader) OpenFile(ctx context.Context, owner, repo, path, ref string) (rc io.ReadCloser, size int64, ok bool, err error) {
	fc, _, resp, err := r.Client.Repositories.GetContents(ctx, owner, repo, path, &github.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return nil, 0, false, nil
		}
		return nil, 0, false, fmt.Errorf("read %s at %s: %w", path, short(ref), err)
	}
	if fc == nil {
		return nil, 0, false, nil // a directory
	}
	if fc.GetEncoding() == "none" || (fc.Content != nil && *fc.Content == "" && fc.GetSize() > 0) {
		// Over 1 MB: GitHub sends no content ("encoding": "none").
		rc, err := r.OpenBlob(ctx, owner, repo, fc.GetSHA())
		if err != nil {
			return nil, 0, false, fmt.Errorf("read %s at %s: %w", path, short(ref), err)
		}
		return rc, int64(fc.GetSize()), true, nil
	}
	s, err := fc.GetContent()
	if err != nil {
		return nil, 0, false, fmt.Errorf("decode %s at %s: %w", path, short(ref), err)
	}
	return io.NopCloser(strings.NewReader(s)), int64(len(s)), true, nil
}

// OpenBlob streams a blob's bytes (raw media type): go-github's
// GetBlobRaw would hold the whole blob, and a pull request can add a file
// of 100 MiB. The caller closes the reader.
func (r *Reader) OpenBlob(ctx context.Context, owner, repo, sha string) (io.ReadCloser, error) {
	u := fmt.Sprintf("repos/%s/%s/git/blobs/%s", url.PathEscape(owner), url.PathEscape(repo), url.PathEscape(sha))
	req, err := r.Client.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", short(sha), err)
	}
	req.Header.Set("Accept", "application/vnd.github.v3.raw")
	resp, err := r.Client.BareDo(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", short(sha), err)
	}
	return resp.Body, nil
}

// LoadCommit fills in a commit's files and patches (one call per 300
// files) unless the compare already gave them.
func (r *Reader) LoadCommit(ctx context.Context, owner, repo string, cm *Commit) error {
	if cm.loaded {
		return nil
	}
	opt := &github.ListOptions{PerPage: perPage}
	for {
		rc, resp, err := r.Client.Repositories.GetCommit(ctx, owner, repo, cm.SHA, opt)
		if err != nil {
			return fmt.Errorf("read commit %s: %w", short(cm.SHA), err)
		}
		for _, f := range rc.Files {
			cm.Files = append(cm.Files, fileOf(f))
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	cm.loaded = true
	return nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func short(sha string) string {
	if len(sha) > 7 && !strings.ContainsAny(sha, "/.") {
		return sha[:7]
	}
	return sha
}

// IsNotFound reports whether err is GitHub's 404.
func IsNotFound(err error) bool {
	var ge *github.ErrorResponse
	return errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusNotFound
}
