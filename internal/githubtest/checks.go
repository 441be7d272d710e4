package githubtest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// GitHub's limits on check runs (also in the OpenAPI schema; checked here
// too so the answer is GitHub's 422 whatever validation says).
const (
	maxAnnotationsPerRequest = 50
	maxOutputField           = 65535
	maxActions               = 3
	maxActionIdentifier      = 20
)

type checkRunOutputRequest struct {
	Title       *string      `json:"title"`
	Summary     *string      `json:"summary"`
	Text        *string      `json:"text"`
	Annotations []Annotation `json:"annotations"`
}

type checkRunRequest struct {
	Name        *string                `json:"name"`
	HeadSHA     string                 `json:"head_sha"`
	DetailsURL  *string                `json:"details_url"`
	ExternalID  *string                `json:"external_id"`
	Status      *string                `json:"status"`
	Conclusion  *string                `json:"conclusion"`
	StartedAt   *time.Time             `json:"started_at"`
	CompletedAt *time.Time             `json:"completed_at"`
	Output      *checkRunOutputRequest `json:"output"`
	Actions     []CheckRunAction       `json:"actions"`
}

// checkLimits applies GitHub's semantic rules; it answers 422 and returns
// false on the first one broken.
func (c *call) checkLimits(req *checkRunRequest, create bool) bool {
	if o := req.Output; o != nil {
		if create && (o.Title == nil || *o.Title == "") {
			c.violation("invalid-request", "check run output without a title")
			c.invalid("CheckRun", "output.title", "missing_field", "")
			return false
		}
		if len(o.Annotations) > maxAnnotationsPerRequest {
			c.violation("invalid-request", fmt.Sprintf("%d annotations in one request (GitHub accepts %d)", len(o.Annotations), maxAnnotationsPerRequest))
			c.invalid("CheckRun", "output.annotations", "too_long", "Only 50 annotations are allowed per request")
			return false
		}
		for name, v := range map[string]*string{"title": o.Title, "summary": o.Summary, "text": o.Text} {
			if v != nil && len([]rune(*v)) > maxOutputField {
				c.violation("invalid-request", fmt.Sprintf("output.%s has %d characters (GitHub accepts %d)", name, len([]rune(*v)), maxOutputField))
				c.invalid("CheckRun", "output."+name, "too_long", fmt.Sprintf("output.%s is too long (maximum is %d characters)", name, maxOutputField))
				return false
			}
		}
	}
	if len(req.Actions) > maxActions {
		c.violation("invalid-request", fmt.Sprintf("%d actions (GitHub accepts %d)", len(req.Actions), maxActions))
		c.invalid("CheckRun", "actions", "too_long", "")
		return false
	}
	for _, a := range req.Actions {
		if len(a.Identifier) > maxActionIdentifier {
			c.violation("invalid-request", fmt.Sprintf("action identifier %q is longer than %d characters", a.Identifier, maxActionIdentifier))
			c.invalid("CheckRun", "actions.identifier", "too_long", "")
			return false
		}
	}
	if req.Name != nil && *req.Name == "" {
		c.violation("invalid-request", "check run name is empty (go-github's UpdateCheckRunOptions.Name is not omitempty: always set it)")
		c.invalid("CheckRun", "name", "missing_field", "")
		return false
	}
	if req.Status != nil && *req.Status == "completed" && req.Conclusion == nil {
		c.violation("invalid-request", "status completed without a conclusion")
		c.invalid("CheckRun", "conclusion", "missing_field", "")
		return false
	}
	return true
}

// apply copies a create/update request onto a run, as GitHub does:
// annotations append, other output fields replace.
func (s *Server) applyCheckRun(cr *CheckRun, req *checkRunRequest) {
	now := s.now()
	if req.Name != nil {
		cr.Name = *req.Name
	}
	if req.DetailsURL != nil {
		cr.DetailsURL = *req.DetailsURL
	}
	if req.ExternalID != nil {
		cr.ExternalID = *req.ExternalID
	}
	if req.StartedAt != nil {
		cr.StartedAt = *req.StartedAt
	}
	if req.Status != nil {
		cr.Status = *req.Status
	}
	if req.Conclusion != nil {
		// A conclusion completes the run.
		cr.Conclusion = *req.Conclusion
		cr.Status = "completed"
	}
	if cr.Status == "completed" {
		if req.CompletedAt != nil {
			cr.CompletedAt = *req.CompletedAt
		} else if cr.CompletedAt.IsZero() {
			cr.CompletedAt = now
		}
	}
	if o := req.Output; o != nil {
		if o.Title != nil {
			cr.Output.Title = *o.Title
		}
		if o.Summary != nil {
			cr.Output.Summary = *o.Summary
		}
		if o.Text != nil {
			cr.Output.Text = *o.Text
		}
		cr.Output.Annotations = append(cr.Output.Annotations, o.Annotations...)
	}
	if req.Actions != nil {
		cr.Actions = append([]CheckRunAction(nil), req.Actions...)
	}
	cr.Requests++
}

// suiteForLocked finds or creates the App's check suite for a commit.
func (s *Server) suiteForLocked(r *repoState, sha string) *CheckSuite {
	for _, cs := range s.checkSuites {
		if cs.HeadSHA == sha && strings.EqualFold(cs.Owner+"/"+cs.Repo, r.fullName()) {
			return cs
		}
	}
	branch := ""
	for ref, tip := range r.Refs {
		if tip == sha && strings.HasPrefix(ref, "refs/heads/") {
			branch = strings.TrimPrefix(ref, "refs/heads/")
			if branch == r.DefaultBranch {
				break
			}
		}
	}
	cs := &CheckSuite{
		ID: s.nextID(), Owner: r.Owner.Login, Repo: r.Name, HeadSHA: sha, HeadBranch: branch,
		Status: "queued", AppID: s.cfg.appID, Created: s.now(),
	}
	s.checkSuites = append(s.checkSuites, cs)
	return cs
}

// AddCheckSuite creates the App's check suite for a commit (GitHub makes
// one when a commit is pushed) and returns its ID.
func (s *Server) AddCheckSuite(owner, repo, sha string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(owner, repo)
	if r == nil {
		s.fatalf("AddCheckSuite: no repository %s/%s", owner, repo)
		return 0
	}
	return s.suiteForLocked(r, sha).ID
}

func handleCreateCheckRun(c *call) {
	var req checkRunRequest
	if !c.decode(&req) || !c.checkLimits(&req, true) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	if s.objects.commits[req.HeadSHA] == nil {
		c.invalid("CheckRun", "head_sha", "invalid", "No commit found for SHA: "+req.HeadSHA)
		return
	}
	suite := s.suiteForLocked(r, req.HeadSHA)
	cr := &CheckRun{
		ID: s.nextID(), Owner: r.Owner.Login, Repo: r.Name, HeadSHA: req.HeadSHA,
		Status: "queued", StartedAt: s.now(), SuiteID: suite.ID, AppID: s.cfg.appID,
	}
	s.applyCheckRun(cr, &req)
	s.checkRuns = append(s.checkRuns, cr)
	s.refreshSuiteLocked(suite)
	c.json(http.StatusCreated, c.rd().checkRun(cr))
}

// refreshSuiteLocked derives a suite's status from its runs.
func (s *Server) refreshSuiteLocked(cs *CheckSuite) {
	status, conclusion := "completed", "success"
	seen := false
	for _, cr := range s.checkRuns {
		if cr.SuiteID != cs.ID {
			continue
		}
		seen = true
		if cr.Status != "completed" {
			status = "in_progress"
		}
		if cr.Conclusion == "failure" || cr.Conclusion == "cancelled" || cr.Conclusion == "timed_out" || cr.Conclusion == "action_required" {
			conclusion = "failure"
		}
	}
	if !seen {
		return
	}
	cs.Status = status
	cs.Conclusion = ""
	if status == "completed" {
		cs.Conclusion = conclusion
	}
}

func (c *call) checkRunOf() *CheckRun {
	id := c.paramInt("check_run_id")
	r := c.repoOf()
	for _, cr := range c.s.checkRuns {
		if cr.ID == id && strings.EqualFold(cr.Owner+"/"+cr.Repo, r.fullName()) {
			return cr
		}
	}
	return nil
}

func handleGetCheckRun(c *call) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	cr := c.checkRunOf()
	if cr == nil {
		c.notFound()
		return
	}
	c.json(http.StatusOK, c.rd().checkRun(cr))
}

func handleUpdateCheckRun(c *call) {
	var req checkRunRequest
	if !c.decode(&req) || !c.checkLimits(&req, false) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := c.checkRunOf()
	if cr == nil {
		c.notFound()
		return
	}
	s.applyCheckRun(cr, &req)
	for _, cs := range s.checkSuites {
		if cs.ID == cr.SuiteID {
			s.refreshSuiteLocked(cs)
		}
	}
	c.json(http.StatusOK, c.rd().checkRun(cr))
}

func handleListAnnotations(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := c.checkRunOf()
	if cr == nil {
		c.notFound()
		return
	}
	anns := cr.Output.Annotations
	from, to := c.page(len(anns))
	out := make([]obj, 0, to-from)
	for _, a := range anns[from:to] {
		out = append(out, obj{
			"path":             a.Path,
			"start_line":       a.StartLine,
			"end_line":         a.EndLine,
			"start_column":     intOrNil(a.StartColumn),
			"end_column":       intOrNil(a.EndColumn),
			"annotation_level": a.AnnotationLevel,
			"title":            strOrNil(a.Title),
			"message":          a.Message,
			"raw_details":      strOrNil(a.RawDetails),
			"blob_href":        fmt.Sprintf("%s/%s/%s/blob/%s/%s", s.URL, cr.Owner, cr.Repo, cr.HeadSHA, a.Path),
		})
	}
	c.json(http.StatusOK, out)
}

func intOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func handleListCheckRunsForRef(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repoOf()
	sha := s.resolveLocked(r, c.param("ref"))
	if sha == "" {
		c.fail(http.StatusNotFound, "No commit found for SHA: "+c.param("ref"))
		return
	}
	name, status := c.query("check_name"), c.query("status")
	appID, _ := strconv.ParseInt(c.query("app_id"), 10, 64)
	latestOnly := c.query("filter") != "all"
	var runs []*CheckRun
	for i := len(s.checkRuns) - 1; i >= 0; i-- { // newest first, as GitHub lists them
		cr := s.checkRuns[i]
		if cr.HeadSHA != sha || !strings.EqualFold(cr.Owner+"/"+cr.Repo, r.fullName()) {
			continue
		}
		if (name != "" && cr.Name != name) || (status != "" && cr.Status != status) || (appID != 0 && cr.AppID != appID) {
			continue
		}
		if latestOnly {
			dup := false
			for _, seen := range runs {
				if seen.Name == cr.Name && seen.SuiteID == cr.SuiteID {
					dup = true
				}
			}
			if dup {
				continue
			}
		}
		runs = append(runs, cr)
	}
	from, to := c.page(len(runs))
	out := make([]obj, 0, to-from)
	for _, cr := range runs[from:to] {
		out = append(out, c.rd().checkRun(cr))
	}
	c.json(http.StatusOK, obj{"total_count": len(runs), "check_runs": out})
}

func handleRerequestSuite(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	id := c.paramInt("check_suite_id")
	r := c.repoOf()
	for _, cs := range s.checkSuites {
		if cs.ID == id && strings.EqualFold(cs.Owner+"/"+cs.Repo, r.fullName()) {
			cs.Rerequests++
			cs.Status, cs.Conclusion = "queued", ""
			c.json(http.StatusCreated, obj{})
			return
		}
	}
	c.notFound()
}
