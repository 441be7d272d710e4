package githubtest

import (
	"net/http"
	"strconv"
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
