package githubtest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"
)

// repoOf looks up the repository of the request; callers hold s.mu.
// authenticate already answered 404 for unknown repositories.
func (c *call) repoOf() *repoState {
	return c.s.repoLocked(c.param("owner"), c.param("repo"))
}

func handleGetRepo(c *call) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.json(http.StatusOK, c.rd().repo(c.repoOf(), true))
}

func handleGetBranch(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	name := c.param("branch")
	sha := r.Refs["refs/heads/"+name]
	if sha == "" {
		c.fail(http.StatusNotFound, "Branch not found")
		return
	}
	base := c.apiBase() + "/repos/" + r.fullName()
	c.json(http.StatusOK, obj{
		"name":           name,
		"commit":         c.rd().commit(r, s.objects.commits[sha], nil),
		"_links":         obj{"self": base + "/branches/" + name, "html": c.s.URL + "/" + r.fullName() + "/tree/" + name},
		"protected":      false,
		"protection":     obj{"enabled": false},
		"protection_url": base + "/branches/" + name + "/protection",
	})
}

// ---- contents ----

func (c *call) resolveRef(r *repoState, ref string) string {
	return c.s.resolveLocked(r, ref)
}

func handleGetContent(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	ref := c.query("ref")
	sha := c.resolveRef(r, ref)
	if sha == "" {
		c.fail(http.StatusNotFound, "No commit found for the ref "+ref)
		return
	}
	if ref == "" {
		ref = r.DefaultBranch
	}
	p := strings.Trim(c.param("path"), "/")
	files := s.objects.flatten(s.objects.commits[sha].Tree)
	if f, ok := files[p]; ok {
		if c.wantsRaw() {
			c.send(http.StatusOK, "application/vnd.github.raw", s.objects.blobs[f.SHA])
			return
		}
		c.json(http.StatusOK, c.contentEntry(r, ref, p, f, true))
		return
	}
	// A directory: list its direct children.
	prefix := p + "/"
	if p == "" {
		prefix = ""
	}
	children := map[string]obj{}
	for fp, f := range files {
		if !strings.HasPrefix(fp, prefix) {
			continue
		}
		rest := fp[len(prefix):]
		if name, _, isDir := strings.Cut(rest, "/"); isDir {
			dp := prefix + name
			if _, seen := children[dp]; !seen {
				children[dp] = c.dirEntry(r, sha, ref, dp)
			}
		} else {
			children[fp] = c.contentEntry(r, ref, fp, f, false)
		}
	}
	if len(children) == 0 {
		c.notFound()
		return
	}
	names := make([]string, 0, len(children))
	for n := range children {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]obj, 0, len(names))
	for _, n := range names {
		out = append(out, children[n])
	}
	c.json(http.StatusOK, out)
}

// contentEntry renders a file ("content-file"); withContent adds the
// base64 body as GitHub does for a single file (none above 1 MB).
func (c *call) contentEntry(r *repoState, ref, p string, f fileEntry, withContent bool) obj {
	data := c.s.objects.blobs[f.SHA]
	api := c.apiBase() + "/repos/" + r.fullName()
	self := api + "/contents/" + p + "?ref=" + ref
	html := c.s.URL + "/" + r.fullName() + "/blob/" + ref + "/" + p
	git := api + "/git/blobs/" + f.SHA
	typ := "file"
	if f.Mode == ModeSymlink {
		typ = "symlink"
	}
	o := obj{
		"type":         typ,
		"name":         path.Base(p),
		"path":         p,
		"sha":          f.SHA,
		"size":         len(data),
		"url":          self,
		"html_url":     html,
		"git_url":      git,
		"download_url": c.s.URL + "/_raw/" + r.fullName() + "/" + ref + "/" + p,
		"_links":       obj{"self": self, "git": git, "html": html},
	}
	if typ == "symlink" {
		o["target"] = string(data)
	}
	if withContent {
		o["encoding"] = "base64"
		if len(data) > 1<<20 {
			o["encoding"], o["content"] = "none", ""
		} else {
			o["content"] = wrapBase64(data)
		}
	}
	return o
}

func (c *call) dirEntry(r *repoState, commit, ref, p string) obj {
	api := c.apiBase() + "/repos/" + r.fullName()
	self := api + "/contents/" + p + "?ref=" + ref
	html := c.s.URL + "/" + r.fullName() + "/tree/" + ref + "/" + p
	treeSHA := c.s.subtreeLocked(commit, p)
	git := api + "/git/trees/" + treeSHA
	return obj{
		"type": "dir", "name": path.Base(p), "path": p, "sha": treeSHA, "size": 0,
		"url": self, "html_url": html, "git_url": git, "download_url": nil,
		"_links": obj{"self": self, "git": git, "html": html},
	}
}

// subtreeLocked finds the tree SHA of a directory at a commit.
func (s *Server) subtreeLocked(commit, dir string) string {
	sha := s.objects.commits[commit].Tree
	for _, part := range strings.Split(dir, "/") {
		next := ""
		for _, e := range s.objects.trees[sha] {
			if e.Name == part && e.isTree() {
				next = e.SHA
			}
		}
		if next == "" {
			return ""
		}
		sha = next
	}
	return sha
}

// wantsRaw says the client asked for the raw media type
// (application/vnd.github.raw or .v3.raw), which blobs and contents honour.
func (c *call) wantsRaw() bool {
	accept := c.r.Header.Get("Accept")
	return strings.Contains(accept, "application/vnd.github.raw") || strings.Contains(accept, "application/vnd.github.v3.raw")
}

// wrapBase64 encodes as GitHub does: base64 with a newline every 60 chars.
func wrapBase64(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60])
		b.WriteByte('\n')
		enc = enc[60:]
	}
	b.WriteString(enc)
	if b.Len() > 0 {
		b.WriteByte('\n')
	}
	return b.String()
}

// putContentRequest is the part of the body the emulator uses; the
// commit is always attributed to the caller (the App's bot).
type putContentRequest struct {
	Message string `json:"message"`
	Content string `json:"content"`
	SHA     string `json:"sha"`
	Branch  string `json:"branch"`
}

// handlePutContent commits one file to a branch (an autofix uses it).
func handlePutContent(c *call) {
	var req putContentRequest
	if !c.decode(&req) {
		return
	}
	data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(req.Content, "\n", ""))
	if err != nil {
		c.invalid("Commit", "content", "invalid", "content is not valid Base64")
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	branch := req.Branch
	if branch == "" {
		branch = r.DefaultBranch
	}
	tip := r.Refs["refs/heads/"+branch]
	if tip == "" {
		c.fail(http.StatusNotFound, "Branch "+branch+" not found")
		return
	}
	p := strings.Trim(c.param("path"), "/")
	existing, exists := s.objects.flatten(s.objects.commits[tip].Tree)[p]
	switch {
	case exists && req.SHA == "":
		c.fail(http.StatusUnprocessableEntity, "Invalid request.\n\n\"sha\" wasn't supplied.")
		return
	case exists && req.SHA != existing.SHA:
		c.fail(http.StatusConflict, fmt.Sprintf("%s does not match %s", p, req.SHA))
		return
	}
	author := c.actorLogin()
	sha := s.createCommitLocked(NewCommit{
		Parents: []string{tip},
		Files:   map[string]string{p: string(data)},
		Modes:   map[string]string{p: modeOr(existing.Mode)},
		Message: req.Message,
		Author:  author,
	})
	r.Refs["refs/heads/"+branch] = sha
	commit := s.objects.commits[sha]
	f := s.objects.flatten(commit.Tree)[p]
	status := http.StatusCreated
	if exists {
		status = http.StatusOK
	}
	content := c.contentEntry(r, branch, p, f, false)
	c.json(status, obj{"content": content, "commit": c.rd().gitCommit(r, commit)})
}

func modeOr(m string) string {
	if m == "" {
		return ModeFile
	}
	return m
}

// actorLogin is who a write is attributed to: the App's bot for an
// installation token.
func (c *call) actorLogin() string {
	if c.cred.kind == credInstallation {
		return c.s.BotLogin()
	}
	return "octocat"
}

// ---- commits and compare ----

const (
	compareMaxCommits = 250
	compareMaxFiles   = 300
	commitMaxFiles    = 3000
)

func handleGetCommit(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	ref := c.param("ref")
	sha := c.resolveRef(r, ref)
	if sha == "" {
		c.fail(http.StatusUnprocessableEntity, "No commit found for SHA: "+ref)
		return
	}
	commit := s.objects.commits[sha]
	parent := ""
	if len(commit.Parents) > 0 {
		parent = commit.Parents[0]
	}
	files := s.diffCommitsLocked(parent, sha)
	files = files[:min(len(files), commitMaxFiles)]
	// The commit API pages its files, 300 per page by default.
	from, to := c.pageWith(len(files), 300, 300)
	out := c.rd().commit(r, commit, files[from:to])
	// Stats cover the whole commit, not the page.
	adds, dels := 0, 0
	for _, f := range files {
		adds, dels = adds+f.Additions, dels+f.Deletions
	}
	out["stats"] = obj{"additions": adds, "deletions": dels, "total": adds + dels}
	c.json(http.StatusOK, out)
}

// resolveCompareSide resolves "ref" or "owner:ref" (a fork in the network).
func (c *call) resolveCompareSide(r *repoState, side string) (*repoState, string) {
	if owner, ref, ok := strings.Cut(side, ":"); ok {
		for _, other := range c.s.repos {
			if strings.EqualFold(other.Owner.Login, owner) && sameNetwork(other, r) {
				return other, c.s.resolveLocked(other, ref)
			}
		}
		return nil, ""
	}
	return r, c.s.resolveLocked(r, side)
}

func sameNetwork(a, b *repoState) bool {
	root := func(r *repoState) *repoState {
		for r.Parent != nil {
			r = r.Parent
		}
		return r
	}
	return root(a) == root(b)
}

func handleCompare(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	baseRef, headRef, ok := strings.Cut(c.param("basehead"), "...")
	if !ok {
		c.notFound()
		return
	}
	_, base := c.resolveCompareSide(r, baseRef)
	_, head := c.resolveCompareSide(r, headRef)
	if base == "" || head == "" {
		c.notFound()
		return
	}
	mb := s.objects.mergeBase(base, head)
	if mb == "" {
		c.notFound() // GitHub: no common ancestor
		return
	}
	ahead := s.objects.commitsBetween(mb, head)
	behind := s.objects.commitsBetween(mb, base)
	status := "diverged"
	switch {
	case base == head:
		status = "identical"
	case len(behind) == 0:
		status = "ahead"
	case len(ahead) == 0:
		status = "behind"
	}
	rd := c.rd()
	api := c.apiBase() + "/repos/" + r.fullName()
	html := s.URL + "/" + r.fullName() + "/compare/" + baseRef + "..." + headRef
	out := obj{
		"url":               api + "/compare/" + baseRef + "..." + headRef,
		"html_url":          html,
		"permalink_url":     s.URL + "/" + r.fullName() + "/compare/" + r.Owner.Login + ":" + base[:7] + "..." + r.Owner.Login + ":" + head[:7],
		"diff_url":          html + ".diff",
		"patch_url":         html + ".patch",
		"base_commit":       rd.commit(r, s.objects.commits[base], nil),
		"merge_base_commit": rd.commit(r, s.objects.commits[mb], nil),
		"status":            status,
		"ahead_by":          len(ahead),
		"behind_by":         len(behind),
		"total_commits":     len(ahead),
	}
	commits := ahead
	withFiles := true
	if c.query("page") != "" || c.query("per_page") != "" {
		// Paginated: pages of commits, files on the first page only.
		from, to := c.page(len(commits))
		commits = commits[from:to]
		_, page := c.pageSize(30, 100)
		withFiles = page == 1
	} else if len(commits) > compareMaxCommits {
		commits = commits[len(commits)-compareMaxCommits:]
	}
	list := make([]obj, 0, len(commits))
	for _, cm := range commits {
		list = append(list, rd.commit(r, cm, nil))
	}
	out["commits"] = list
	if withFiles {
		files := s.diffCommitsLocked(mb, head)
		entries := make([]obj, 0, min(len(files), compareMaxFiles))
		for _, f := range files[:min(len(files), compareMaxFiles)] {
			entries = append(entries, rd.diffEntry(r, head, f))
		}
		out["files"] = entries
	}
	c.json(http.StatusOK, out)
}

func handleCommitPulls(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	sha := c.resolveRef(r, c.param("commit_sha"))
	var found []*prState
	if sha != "" {
		for _, pr := range s.sortedPullsLocked() {
			if pr.base != r {
				continue
			}
			s.refreshPRLocked(pr)
			if pr.HeadSHA == sha || pr.MergeCommitSHA == sha {
				found = append(found, pr)
				continue
			}
			mb := s.objects.mergeBase(pr.BaseSHA, pr.HeadSHA)
			for _, cm := range s.objects.commitsBetween(mb, pr.HeadSHA) {
				if cm.SHA == sha {
					found = append(found, pr)
					break
				}
			}
		}
	}
	from, to := c.page(len(found))
	out := []obj{}
	for _, pr := range found[from:to] {
		out = append(out, c.rd().pullRequestSimple(pr))
	}
	c.json(http.StatusOK, out)
}

// MergePullRequest merges an open pull request into its base branch with a
// merge commit (the PR's changes laid over the base tip; conflicts are not
// modelled) and returns the merge commit's SHA.
func (s *Server) MergePullRequest(owner, repo string, number int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.pulls[prKey(owner+"/"+repo, number)]
	if pr == nil {
		s.fatalf("MergePullRequest: no pull request %s/%s#%d", owner, repo, number)
		return ""
	}
	s.refreshPRLocked(pr)
	baseTip := pr.base.Refs["refs/heads/"+pr.Base]
	mb := s.objects.mergeBase(baseTip, pr.HeadSHA)
	files := map[string]string{}
	modes := map[string]string{}
	var del []string
	headFiles := s.objects.flatten(s.objects.commits[pr.HeadSHA].Tree)
	for _, f := range s.diffCommitsLocked(mb, pr.HeadSHA) {
		if f.PrevPath != "" {
			del = append(del, f.PrevPath)
		}
		if f.Status == "removed" {
			del = append(del, f.Path)
			continue
		}
		hf := headFiles[f.Path]
		files[f.Path] = string(s.objects.blobs[hf.SHA])
		modes[f.Path] = hf.Mode
	}
	sha := s.createCommitLocked(NewCommit{
		Parents: []string{baseTip, pr.HeadSHA},
		Files:   files,
		Modes:   modes,
		Delete:  del,
		Message: fmt.Sprintf("Merge pull request #%d from %s:%s\n\n%s", pr.Number, pr.head.Owner.Login, pr.Head, pr.Title),
	})
	pr.base.Refs["refs/heads/"+pr.Base] = sha
	pr.State, pr.Merged, pr.MergeCommitSHA, pr.Updated = "closed", true, sha, s.now()
	return sha
}

// handleListOrgRepos lists an organisation's repositories by name.
func handleListOrgRepos(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*repoState
	for _, r := range s.repos {
		if strings.EqualFold(r.Owner.Login, c.param("org")) {
			list = append(list, r)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	from, to := c.page(len(list))
	out := make([]obj, 0, to-from)
	for _, r := range list[from:to] {
		out = append(out, c.rd().repo(r, false))
	}
	c.json(http.StatusOK, out)
}
