package githubtest

import (
	"encoding/base64"
	"net/http"
	"path"
	"strings"
	"time"
)

// Handlers of the git data API (blobs, trees, commits, refs).

func handleGetBlob(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sha := strings.ToLower(c.param("file_sha"))
	data, ok := s.objects.blobs[sha]
	if !ok {
		c.notFound()
		return
	}
	if c.wantsRaw() {
		c.send(http.StatusOK, "application/vnd.github.raw", data)
		return
	}
	c.json(http.StatusOK, obj{
		"sha":      sha,
		"node_id":  nodeID("Blob", stableID("blob", sha)),
		"size":     len(data),
		"url":      c.apiBase() + "/repos/" + c.repoOf().fullName() + "/git/blobs/" + sha,
		"content":  wrapBase64(data),
		"encoding": "base64",
	})
}

func handleCreateBlob(c *call) {
	var req struct {
		Content  string `json:"content"`
		Encoding string `json:"encoding"`
	}
	if !c.decode(&req) {
		return
	}
	data := []byte(req.Content)
	if req.Encoding == "base64" {
		var err error
		if data, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(req.Content, "\n", "")); err != nil {
			c.invalid("Blob", "content", "invalid", "content is not valid Base64")
			return
		}
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sha := s.objects.putBlob(data)
	c.json(http.StatusCreated, obj{"sha": sha, "url": c.apiBase() + "/repos/" + c.repoOf().fullName() + "/git/blobs/" + sha})
}

// treeOfLocked resolves a tree SHA, or a commit SHA or ref to its tree, as
// GitHub accepts both.
func (c *call) treeOfLocked(r *repoState, ref string) string {
	if _, ok := c.s.objects.trees[strings.ToLower(ref)]; ok {
		return strings.ToLower(ref)
	}
	if sha := c.s.resolveLocked(r, ref); sha != "" {
		return c.s.objects.commits[sha].Tree
	}
	return ""
}

func handleGetTree(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	sha := c.treeOfLocked(r, c.param("tree_sha"))
	if sha == "" {
		c.notFound()
		return
	}
	// GitHub lists recursively for any value of recursive, even "0" or
	// "false".
	_, recursive := c.r.URL.Query()["recursive"]
	c.json(http.StatusOK, c.treeJSON(r, sha, recursive))
}

func (c *call) treeJSON(r *repoState, sha string, recursive bool) obj {
	s := c.s
	api := c.apiBase() + "/repos/" + r.fullName()
	entries := []obj{}
	truncated := false
	var walk func(sha, prefix string)
	walk = func(sha, prefix string) {
		for _, e := range s.objects.trees[sha] {
			if len(entries) >= s.cfg.treeLimit {
				truncated = true
				return
			}
			p := path.Join(prefix, e.Name)
			mode := e.Mode
			entry := obj{"path": p, "mode": mode, "type": e.typ(), "sha": e.SHA}
			if e.isTree() {
				entry["url"] = api + "/git/trees/" + e.SHA
			} else {
				entry["size"] = len(s.objects.blobs[e.SHA])
				entry["url"] = api + "/git/blobs/" + e.SHA
			}
			entries = append(entries, entry)
			if recursive && e.isTree() {
				walk(e.SHA, p)
			}
		}
	}
	walk(sha, "")
	return obj{"sha": sha, "url": api + "/git/trees/" + sha, "tree": entries, "truncated": truncated}
}

type treeRequest struct {
	BaseTree string `json:"base_tree"`
	Tree     []struct {
		Path    string  `json:"path"`
		Mode    string  `json:"mode"`
		Type    string  `json:"type"`
		SHA     *string `json:"sha"`
		Content *string `json:"content"`
	} `json:"tree"`
}

func handleCreateTree(c *call) {
	var req treeRequest
	if !c.decode(&req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	files := map[string]fileEntry{}
	if req.BaseTree != "" {
		if _, ok := s.objects.trees[req.BaseTree]; !ok {
			c.invalid("Tree", "base_tree", "invalid", "base_tree is not a valid tree oid")
			return
		}
		files = s.objects.flatten(req.BaseTree)
	}
	for _, e := range req.Tree {
		p := strings.Trim(e.Path, "/")
		switch {
		case e.Content != nil:
			files[p] = fileEntry{SHA: s.objects.putBlob([]byte(*e.Content)), Mode: e.Mode}
		case e.SHA == nil:
			// A null SHA deletes the path (a file or a whole directory).
			delete(files, p)
			for fp := range files {
				if strings.HasPrefix(fp, p+"/") {
					delete(files, fp)
				}
			}
		case e.Type == "tree":
			if _, ok := s.objects.trees[*e.SHA]; !ok {
				c.invalid("Tree", "tree.sha", "invalid", *e.SHA+" is not a valid tree")
				return
			}
			for sub, f := range s.objects.flatten(*e.SHA) {
				files[p+"/"+sub] = f
			}
		default:
			if _, ok := s.objects.blobs[*e.SHA]; !ok {
				c.invalid("Tree", "tree.sha", "invalid", *e.SHA+" is not a valid blob")
				return
			}
			files[p] = fileEntry{SHA: *e.SHA, Mode: e.Mode}
		}
	}
	root := s.objects.buildTree(files)
	c.json(http.StatusCreated, c.treeJSON(c.repoOf(), root, false))
}

type gitCommitRequest struct {
	Message string   `json:"message"`
	Tree    string   `json:"tree"`
	Parents []string `json:"parents"`
	Author  *struct {
		Name  string    `json:"name"`
		Email string    `json:"email"`
		Date  time.Time `json:"date"`
	} `json:"author"`
}

func handleCreateGitCommit(c *call) {
	var req gitCommitRequest
	if !c.decode(&req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects.trees[req.Tree]; !ok {
		c.invalid("Commit", "tree", "invalid", "Tree SHA does not exist")
		return
	}
	for _, p := range req.Parents {
		if s.objects.commits[p] == nil {
			c.invalid("Commit", "parents", "invalid", "Parent SHA does not exist or is not a commit object")
			return
		}
	}
	login := c.actorLogin()
	sig := signature{Name: login, Email: login + "@users.noreply.github.com"}
	if req.Author != nil {
		sig.Name, sig.Email, sig.When = req.Author.Name, req.Author.Email, req.Author.Date
	}
	if sig.When.IsZero() {
		s.commitClock = s.commitClock.Add(time.Minute)
		sig.When = s.commitClock
	}
	sig.When = sig.When.UTC()
	sha := s.objects.putCommit(commitObject{Tree: req.Tree, Parents: req.Parents, Author: sig, Committer: sig, Message: req.Message})
	c.json(http.StatusCreated, c.rd().gitCommit(c.repoOf(), s.objects.commits[sha]))
}

func handleUpdateRef(c *call) {
	var req struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if !c.decode(&req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	ref := "refs/" + strings.TrimPrefix(c.param("ref"), "refs/")
	old, ok := r.Refs[ref]
	if !ok {
		c.fail(http.StatusUnprocessableEntity, "Reference does not exist")
		return
	}
	if s.objects.commits[req.SHA] == nil {
		c.fail(http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	if !req.Force && !s.objects.ancestors(req.SHA)[old] {
		c.fail(http.StatusUnprocessableEntity, "Update is not a fast forward")
		return
	}
	r.Refs[ref] = req.SHA
	api := c.apiBase() + "/repos/" + r.fullName()
	c.json(http.StatusOK, obj{
		"ref":     ref,
		"node_id": nodeID("Ref", stableID("ref", r.fullName()+ref)),
		"url":     api + "/git/" + ref,
		"object":  obj{"type": "commit", "sha": req.SHA, "url": api + "/git/commits/" + req.SHA},
	})
}

func (c *call) refJSON(r *repoState, ref, sha string) obj {
	api := c.apiBase() + "/repos/" + r.fullName()
	return obj{
		"ref":     ref,
		"node_id": nodeID("Ref", stableID("ref", r.fullName()+ref)),
		"url":     api + "/git/" + ref,
		"object":  obj{"type": "commit", "sha": sha, "url": api + "/git/commits/" + sha},
	}
}

func handleGetRef(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	ref := "refs/" + strings.TrimPrefix(c.param("ref"), "refs/")
	sha, ok := r.Refs[ref]
	if !ok {
		c.notFound()
		return
	}
	c.json(http.StatusOK, c.refJSON(r, ref, sha))
}

func handleCreateRef(c *call) {
	var req struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if !c.decode(&req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	if !strings.HasPrefix(req.Ref, "refs/") || strings.Count(req.Ref, "/") < 2 {
		c.fail(http.StatusUnprocessableEntity, "Reference name is not valid")
		return
	}
	if _, ok := r.Refs[req.Ref]; ok {
		c.fail(http.StatusUnprocessableEntity, "Reference already exists")
		return
	}
	if s.objects.commits[req.SHA] == nil {
		c.fail(http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	r.Refs[req.Ref] = req.SHA
	c.json(http.StatusCreated, c.refJSON(r, req.Ref, req.SHA))
}

func handleDeleteRef(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	ref := "refs/" + strings.TrimPrefix(c.param("ref"), "refs/")
	if _, ok := r.Refs[ref]; !ok {
		c.fail(http.StatusUnprocessableEntity, "Reference does not exist")
		return
	}
	delete(r.Refs, ref)
	c.send(http.StatusNoContent, "", nil)
}
