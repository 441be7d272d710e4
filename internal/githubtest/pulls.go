package githubtest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// GitHub's caps on a pull request's lists.
const (
	pullMaxFiles   = 3000
	pullMaxCommits = 250
)

func (c *call) pullOf() *prState {
	n, _ := strconv.Atoi(c.param("pull_number"))
	pr := c.s.pulls[prKey(c.repoOf().fullName(), n)]
	if pr != nil {
		c.s.refreshPRLocked(pr)
	}
	return pr
}

func handleGetPull(c *call) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	pr := c.pullOf()
	if pr == nil {
		c.notFound()
		return
	}
	c.json(http.StatusOK, c.rd().pullRequest(pr))
}

// prDiffLocked is what GitHub's "Files changed" shows: the head against
// the merge base of base and head.
func (s *Server) prDiffLocked(pr *prState) (mergeBase string, files []fileChange) {
	mb := s.objects.mergeBase(pr.BaseSHA, pr.HeadSHA)
	return mb, s.diffCommitsLocked(mb, pr.HeadSHA)
}

func handlePullFiles(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := c.pullOf()
	if pr == nil {
		c.notFound()
		return
	}
	_, files := s.prDiffLocked(pr)
	files = files[:min(len(files), pullMaxFiles)]
	from, to := c.page(len(files))
	out := make([]obj, 0, to-from)
	for _, f := range files[from:to] {
		out = append(out, c.rd().diffEntry(pr.head, pr.HeadSHA, f))
	}
	c.json(http.StatusOK, out)
}

func handlePullCommits(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := c.pullOf()
	if pr == nil {
		c.notFound()
		return
	}
	mb := s.objects.mergeBase(pr.BaseSHA, pr.HeadSHA)
	commits := s.objects.commitsBetween(mb, pr.HeadSHA)
	commits = commits[:min(len(commits), pullMaxCommits)]
	from, to := c.page(len(commits))
	out := make([]obj, 0, to-from)
	for _, cm := range commits[from:to] {
		out = append(out, c.rd().commit(pr.base, cm, nil))
	}
	c.json(http.StatusOK, out)
}

// handleListPulls filters by state (open, closed, all), head
// ("owner:branch") and base, newest first as GitHub's default sort
// (created, desc).
func handleListPulls(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	state := c.query("state")
	if state == "" {
		state = "open"
	}
	head, base := c.query("head"), c.query("base")
	var list []*prState
	for _, pr := range s.sortedPullsLocked() {
		if pr.base != r {
			continue
		}
		s.refreshPRLocked(pr)
		if state != "all" && pr.State != state {
			continue
		}
		if head != "" {
			owner, branch, ok := strings.Cut(head, ":")
			if !ok {
				// GitHub ignores a head filter without an owner.
				owner, branch = pr.head.Owner.Login, head
			}
			if !strings.EqualFold(owner, pr.head.Owner.Login) || branch != pr.Head {
				continue
			}
		}
		if base != "" && pr.Base != base {
			continue
		}
		list = append(list, pr)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	from, to := c.page(len(list))
	out := make([]obj, 0, to-from)
	for _, pr := range list[from:to] {
		out = append(out, c.rd().pullRequestSimple(pr))
	}
	c.json(http.StatusOK, out)
}

func handleCreatePull(c *call) {
	var req struct {
		Title string `json:"title"`
		Body  string `json:"body"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Draft bool   `json:"draft"`
	}
	if !c.decode(&req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	branch := req.Head
	if owner, b, ok := strings.Cut(req.Head, ":"); ok {
		if !strings.EqualFold(owner, r.Owner.Login) {
			c.invalid("PullRequest", "head", "invalid", "head from another repository is not emulated")
			return
		}
		branch = b
	}
	if r.Refs["refs/heads/"+branch] == "" {
		c.invalid("PullRequest", "head", "invalid", "")
		return
	}
	if r.Refs["refs/heads/"+req.Base] == "" {
		c.invalid("PullRequest", "base", "invalid", "")
		return
	}
	for _, pr := range s.pulls {
		if pr.base == r && pr.head == r && pr.Head == branch && pr.Base == req.Base && pr.State == "open" {
			c.invalid("PullRequest", "", "custom", "A pull request already exists for "+r.Owner.Login+":"+branch+".")
			return
		}
	}
	if len([]rune(req.Body)) > 65536 {
		c.invalid("PullRequest", "body", "custom", "Body is too long (maximum is 65536 characters)")
		return
	}
	s.issueSeq[r.ID]++
	n := s.issueSeq[r.ID]
	pr := &prState{PullRequest: PullRequest{
		Owner: r.Owner.Login, Repo: r.Name, Number: n, Title: req.Title, Body: req.Body,
		User: c.actorLogin(), Base: req.Base, Head: branch, Draft: req.Draft, State: "open",
		ID: stableID("pull", fmt.Sprintf("%s#%d", r.fullName(), n)), Created: s.now(), Updated: s.now(),
	}, base: r, head: r}
	s.refreshPRLocked(pr)
	s.pulls[prKey(r.fullName(), n)] = pr
	c.json(http.StatusCreated, c.rd().pullRequest(pr))
}
