package githubtest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Issue comments and their reactions. Pull requests are issues: a PR's
// conversation is its issue comments.

// issueExistsLocked says whether a number is a PR or an issue of a repo.
func (s *Server) issueExistsLocked(r *repoState, n int) bool {
	key := prKey(r.fullName(), n)
	return s.pulls[key] != nil || s.issues[key]
}

func handleListComments(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	n, _ := strconv.Atoi(c.param("issue_number"))
	if !s.issueExistsLocked(r, n) {
		c.notFound()
		return
	}
	var since time.Time
	if v := c.query("since"); v != "" {
		since, _ = time.Parse(time.RFC3339, v)
	}
	var list []*Comment
	for _, cm := range s.comments {
		if cm.Number == n && strings.EqualFold(cm.Owner+"/"+cm.Repo, r.fullName()) && !cm.Updated.Before(since) {
			list = append(list, cm)
		}
	}
	from, to := c.page(len(list))
	out := make([]obj, 0, to-from)
	for _, cm := range list[from:to] {
		out = append(out, c.rd().comment(cm))
	}
	c.json(http.StatusOK, out)
}

func handleCreateComment(c *call) {
	var req struct {
		Body string `json:"body"`
	}
	if !c.decode(&req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	n, _ := strconv.Atoi(c.param("issue_number"))
	if !s.issueExistsLocked(r, n) {
		c.notFound()
		return
	}
	if len([]rune(req.Body)) > 65536 {
		c.invalid("IssueComment", "body", "custom", "Body is too long (maximum is 65536 characters)")
		return
	}
	cm := &Comment{
		ID: s.nextID(), Owner: r.Owner.Login, Repo: r.Name, Number: n,
		User: c.actorLogin(), Body: req.Body, ViaApp: c.cred.kind == credInstallation,
		Created: s.now(), Updated: s.now(),
	}
	s.comments = append(s.comments, cm)
	c.w.Header().Set("Location", c.rd().comment(cm)["url"].(string))
	c.json(http.StatusCreated, c.rd().comment(cm))
}

func (c *call) commentOf() *Comment {
	id := c.paramInt("comment_id")
	r := c.repoOf()
	for _, cm := range c.s.comments {
		if cm.ID == id && strings.EqualFold(cm.Owner+"/"+cm.Repo, r.fullName()) {
			return cm
		}
	}
	return nil
}

func handleGetComment(c *call) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	cm := c.commentOf()
	if cm == nil {
		c.notFound()
		return
	}
	c.json(http.StatusOK, c.rd().comment(cm))
}

func handleUpdateComment(c *call) {
	var req struct {
		Body string `json:"body"`
	}
	if !c.decode(&req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	cm := c.commentOf()
	if cm == nil {
		c.notFound()
		return
	}
	// Only the author may edit (a bot edits its own replies).
	if !strings.EqualFold(cm.User, c.actorLogin()) {
		c.fail(http.StatusForbidden, "Resource not accessible by integration")
		return
	}
	cm.Body, cm.Updated = req.Body, s.now()
	c.json(http.StatusOK, c.rd().comment(cm))
}

func handleCreateReaction(c *call) {
	var req struct {
		Content string `json:"content"`
	}
	if !c.decode(&req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	cm := c.commentOf()
	if cm == nil {
		c.notFound()
		return
	}
	user := c.actorLogin()
	// The same reaction by the same user is answered 200 with the
	// existing one, not duplicated.
	for i := range cm.Reactions {
		if cm.Reactions[i].User == user && cm.Reactions[i].Content == req.Content {
			c.json(http.StatusOK, c.rd().reaction(&cm.Reactions[i]))
			return
		}
	}
	cm.Reactions = append(cm.Reactions, Reaction{ID: s.nextID(), User: user, Content: req.Content, Created: s.now()})
	c.json(http.StatusCreated, c.rd().reaction(&cm.Reactions[len(cm.Reactions)-1]))
}

func (c *call) issueOf() *Issue {
	n, _ := strconv.Atoi(c.param("issue_number"))
	return c.s.issueData[prKey(c.repoOf().fullName(), n)]
}

// handleListIssues lists issues by state and creator. Pull requests are
// issues too on GitHub; they are listed as such (with pull_request).
func handleListIssues(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	state := c.query("state")
	if state == "" {
		state = "open"
	}
	creator := c.query("creator")
	type item struct {
		n int
		o obj
	}
	var list []item
	for _, is := range s.issueData {
		if !strings.EqualFold(is.Owner+"/"+is.Repo, r.fullName()) || (state != "all" && is.State != state) ||
			(creator != "" && !strings.EqualFold(creator, is.User)) {
			continue
		}
		list = append(list, item{is.Number, c.rd().issue(is)})
	}
	for _, pr := range s.sortedPullsLocked() {
		if pr.base != r || (state != "all" && pr.State != state) || (creator != "" && !strings.EqualFold(creator, pr.User)) {
			continue
		}
		o := c.rd().pullRequestSimple(pr)
		o["pull_request"] = obj{"url": o["url"], "html_url": o["html_url"], "diff_url": o["diff_url"], "patch_url": o["patch_url"], "merged_at": o["merged_at"]}
		o["url"] = o["issue_url"]
		o["repository_url"] = c.apiBase() + "/repos/" + r.fullName()
		o["labels_url"] = o["issue_url"].(string) + "/labels{/name}"
		o["events_url"] = o["issue_url"].(string) + "/events"
		o["comments"] = 0
		list = append(list, item{pr.Number, o})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].n > list[j].n })
	from, to := c.page(len(list))
	out := make([]obj, 0, to-from)
	for _, it := range list[from:to] {
		out = append(out, it.o)
	}
	c.json(http.StatusOK, out)
}

func handleCreateIssue(c *call) {
	var req struct {
		Title any    `json:"title"`
		Body  string `json:"body"`
	}
	if !c.decode(&req) {
		return
	}
	title := fmt.Sprint(req.Title)
	if strings.TrimSpace(title) == "" {
		c.invalid("Issue", "title", "missing_field", "")
		return
	}
	if len([]rune(req.Body)) > 65536 {
		c.invalid("Issue", "body", "custom", "Body is too long (maximum is 65536 characters)")
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	s.issueSeq[r.ID]++
	n := s.issueSeq[r.ID]
	key := prKey(r.fullName(), n)
	is := &Issue{Owner: r.Owner.Login, Repo: r.Name, Number: n, ID: stableID("issue", key), Title: title, Body: req.Body,
		User: c.actorLogin(), ViaApp: c.cred.kind == credInstallation, State: "open", Created: s.now(), Updated: s.now()}
	s.issues[key] = true
	s.issueData[key] = is
	c.json(http.StatusCreated, c.rd().issue(is))
}

func handleGetIssue(c *call) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	is := c.issueOf()
	if is == nil {
		c.notFound()
		return
	}
	c.json(http.StatusOK, c.rd().issue(is))
}

func handleUpdateIssue(c *call) {
	var req struct {
		Title       *string `json:"title"`
		Body        *string `json:"body"`
		State       *string `json:"state"`
		StateReason *string `json:"state_reason"`
	}
	if !c.decode(&req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	is := c.issueOf()
	if is == nil {
		c.notFound()
		return
	}
	if req.Body != nil && len([]rune(*req.Body)) > 65536 {
		c.invalid("Issue", "body", "custom", "Body is too long (maximum is 65536 characters)")
		return
	}
	if req.Title != nil {
		is.Title = *req.Title
	}
	if req.Body != nil {
		is.Body = *req.Body
	}
	if req.State != nil {
		is.State = *req.State
	}
	if req.StateReason != nil {
		is.StateReason = *req.StateReason
	}
	is.Updated = s.now()
	c.json(http.StatusOK, c.rd().issue(is))
}
