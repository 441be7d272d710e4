package githubtest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Webhook payload builders. Each returns a body consistent with the
// emulator's state (the same PR, SHAs, check runs and installation the API
// shows) shaped like GitHub's App deliveries, which always carry an
// installation object. Deliver or Send them.

// EventOption adjusts a built payload.
type EventOption func(*eventOpts)

type eventOpts struct {
	sender          string
	before          string
	baseFrom        [2]string
	requestedAction string
	installationID  int64
}

// Sender sets who triggered the event (default: the PR author, the
// comment author or "octocat").
func Sender(login string) EventOption { return func(o *eventOpts) { o.sender = login } }

// Before sets a pull_request synchronize's "before" SHA.
func Before(sha string) EventOption { return func(o *eventOpts) { o.before = sha } }

// BaseChanged marks a pull_request edited event as a change of base
// branch (changes.base.ref.from / sha.from).
func BaseChanged(fromRef, fromSHA string) EventOption {
	return func(o *eventOpts) { o.baseFrom = [2]string{fromRef, fromSHA} }
}

// RequestedAction sets a check_run requested_action's identifier.
func RequestedAction(identifier string) EventOption {
	return func(o *eventOpts) { o.requestedAction = identifier }
}

// ViaInstallation sets the installation object's ID (default: the
// installation covering the repository).
func ViaInstallation(id int64) EventOption { return func(o *eventOpts) { o.installationID = id } }

func buildOpts(opts []EventOption) eventOpts {
	var o eventOpts
	for _, f := range opts {
		f(&o)
	}
	return o
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("githubtest: encode payload: %v", err))
	}
	return b
}

// envelopeLocked adds repository, organization, installation and sender.
func (s *Server) envelopeLocked(rd renderer, r *repoState, o eventOpts, defaultSender string, payload obj) []byte {
	if r != nil {
		payload["repository"] = rd.repo(r, false)
		if r.Owner.Type == "Organization" {
			payload["organization"] = orgJSON(rd, r.Owner)
		}
	}
	instID := o.installationID
	if instID == 0 && r != nil {
		if inst := s.installationForRepoLocked(r); inst != nil {
			instID = inst.ID
		}
	}
	if instID != 0 {
		payload["installation"] = obj{"id": instID, "node_id": nodeID("Integration::Installation", instID)}
	}
	sender := o.sender
	if sender == "" {
		sender = defaultSender
	}
	if sender == "" {
		sender = "octocat"
	}
	payload["sender"] = rd.login(sender)
	return mustJSON(payload)
}

func orgJSON(rd renderer, a *account) obj {
	u := rd.api + "/orgs/" + a.Login
	return obj{
		"login": a.Login, "id": a.ID, "node_id": nodeID("Organization", a.ID), "url": u,
		"repos_url": u + "/repos", "events_url": u + "/events", "hooks_url": u + "/hooks",
		"issues_url": u + "/issues", "members_url": u + "/members{/member}",
		"public_members_url": u + "/public_members{/member}",
		"avatar_url":         fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", a.ID),
		"description":        nil,
	}
}

func (s *Server) lookupLocked(fullName string) *repoState {
	r := s.repos[strings.ToLower(fullName)]
	if r == nil {
		s.fatalf("no repository %s", fullName)
	}
	return r
}

// PullRequestEvent builds a pull_request payload (opened, synchronize,
// reopened, ready_for_review, edited, closed…) for a PR of repo
// ("owner/name").
func (s *Server) PullRequestEvent(action, repo string, number int, opts ...EventOption) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := buildOpts(opts)
	r := s.lookupLocked(repo)
	pr := s.pulls[prKey(r.fullName(), number)]
	if pr == nil {
		s.fatalf("PullRequestEvent: no pull request %s#%d", repo, number)
		return nil
	}
	s.refreshPRLocked(pr)
	rd := s.renderer(s.URL)
	payload := obj{"action": action, "number": number, "pull_request": rd.pullRequest(pr)}
	if action == "synchronize" {
		before := o.before
		if before == "" {
			if c := s.objects.commits[pr.HeadSHA]; c != nil && len(c.Parents) > 0 {
				before = c.Parents[0]
			}
		}
		payload["before"], payload["after"] = before, pr.HeadSHA
	}
	if o.baseFrom[0] != "" {
		payload["changes"] = obj{"base": obj{"ref": obj{"from": o.baseFrom[0]}, "sha": obj{"from": o.baseFrom[1]}}}
	}
	return s.envelopeLocked(rd, r, o, pr.User, payload)
}

// CheckSuiteEvent builds a check_suite payload (requested, rerequested,
// completed) for the App's suite on a commit, creating the suite when
// needed. Its pull_requests list only same-repository PRs, as GitHub's do.
func (s *Server) CheckSuiteEvent(action, repo, sha string, opts ...EventOption) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := buildOpts(opts)
	r := s.lookupLocked(repo)
	cs := s.suiteForLocked(r, sha)
	rd := s.renderer(s.URL)
	return s.envelopeLocked(rd, r, o, "", obj{"action": action, "check_suite": rd.checkSuite(cs)})
}

// CheckRunEvent builds a check_run payload (created, completed,
// rerequested, requested_action) for a run the App created.
func (s *Server) CheckRunEvent(action string, checkRunID int64, opts ...EventOption) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := buildOpts(opts)
	var cr *CheckRun
	for _, c := range s.checkRuns {
		if c.ID == checkRunID {
			cr = c
		}
	}
	if cr == nil {
		s.fatalf("CheckRunEvent: no check run %d", checkRunID)
		return nil
	}
	r := s.repoLocked(cr.Owner, cr.Repo)
	rd := s.renderer(s.URL)
	run := rd.checkRun(cr)
	for _, cs := range s.checkSuites {
		if cs.ID == cr.SuiteID {
			run["check_suite"] = rd.checkSuite(cs)
		}
	}
	payload := obj{"action": action, "check_run": run}
	if action == "requested_action" {
		payload["requested_action"] = obj{"identifier": o.requestedAction}
	}
	return s.envelopeLocked(rd, r, o, "", payload)
}

// IssueCommentEvent builds an issue_comment payload (created, edited,
// deleted) for a comment; on a PR the issue has its pull_request object.
func (s *Server) IssueCommentEvent(action, repo string, commentID int64, opts ...EventOption) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := buildOpts(opts)
	r := s.lookupLocked(repo)
	var cm *Comment
	for _, c := range s.comments {
		if c.ID == commentID {
			cm = c
		}
	}
	if cm == nil {
		s.fatalf("IssueCommentEvent: no comment %d", commentID)
		return nil
	}
	rd := s.renderer(s.URL)
	return s.envelopeLocked(rd, r, o, cm.User, obj{
		"action":  action,
		"issue":   s.issueJSONLocked(rd, r, cm.Number),
		"comment": rd.comment(cm),
	})
}

func (s *Server) issueJSONLocked(rd renderer, r *repoState, n int) obj {
	api := fmt.Sprintf("%s/repos/%s/issues/%d", rd.api, r.fullName(), n)
	title, user, state, body := "Issue", "octocat", "open", ""
	pr := s.pulls[prKey(r.fullName(), n)]
	if pr != nil {
		title, user, state, body = pr.Title, pr.User, pr.State, pr.Body
	}
	comments := 0
	for _, c := range s.comments {
		if c.Number == n && strings.EqualFold(c.Owner+"/"+c.Repo, r.fullName()) {
			comments++
		}
	}
	issue := obj{
		"url": api, "repository_url": rd.api + "/repos/" + r.fullName(),
		"labels_url": api + "/labels{/name}", "comments_url": api + "/comments", "events_url": api + "/events",
		"html_url": fmt.Sprintf("%s/%s/issues/%d", rd.web, r.fullName(), n),
		"id":       stableID("issue", fmt.Sprintf("%s#%d", r.fullName(), n)), "number": n,
		"node_id": nodeID("Issue", stableID("issue", fmt.Sprintf("%s#%d", r.fullName(), n))),
		"title":   title, "user": rd.login(user), "labels": []obj{}, "state": state, "locked": false,
		"assignee": nil, "assignees": []obj{}, "milestone": nil, "comments": comments,
		"created_at": ts(s.now()), "updated_at": ts(s.now()), "closed_at": nil,
		"author_association": "CONTRIBUTOR", "active_lock_reason": nil, "body": strOrNil(body),
	}
	if pr != nil {
		html := fmt.Sprintf("%s/%s/pull/%d", rd.web, r.fullName(), n)
		issue["html_url"] = html
		issue["created_at"], issue["updated_at"] = ts(pr.Created), ts(pr.Updated)
		issue["pull_request"] = obj{
			"url":       fmt.Sprintf("%s/repos/%s/pulls/%d", rd.api, r.fullName(), n),
			"html_url":  html,
			"diff_url":  html + ".diff",
			"patch_url": html + ".patch",
			"merged_at": nil,
		}
	}
	return issue
}

func shortRepo(r *repoState) obj {
	return obj{"id": r.ID, "node_id": nodeID("Repository", r.ID), "name": r.Name, "full_name": r.fullName(), "private": r.Private}
}

// InstallationEvent builds an installation payload (created, deleted,
// suspend, unsuspend, new_permissions_accepted).
func (s *Server) InstallationEvent(action string, installationID int64, opts ...EventOption) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := buildOpts(opts)
	inst := s.installations[installationID]
	if inst == nil {
		s.fatalf("InstallationEvent: no installation %d", installationID)
		return nil
	}
	rd := s.renderer(s.URL)
	repos := []obj{}
	for _, r := range s.reposOfLocked(inst) {
		repos = append(repos, shortRepo(r))
	}
	payload := obj{"action": action, "installation": rd.installation(inst)}
	if action == "created" || action == "deleted" || action == "new_permissions_accepted" {
		payload["repositories"] = repos
	}
	if o.sender == "" {
		o.sender = inst.Account.Login
		if inst.Account.Type == "Organization" {
			o.sender = "octocat"
		}
	}
	return s.envelopeLocked(rd, nil, o, "", payload)
}

// InstallationRepositoriesEvent builds an installation_repositories
// payload (added or removed) naming repositories as "owner/name".
func (s *Server) InstallationRepositoriesEvent(action string, installationID int64, added, removed []string, opts ...EventOption) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := buildOpts(opts)
	inst := s.installations[installationID]
	if inst == nil {
		s.fatalf("InstallationRepositoriesEvent: no installation %d", installationID)
		return nil
	}
	rd := s.renderer(s.URL)
	list := func(names []string) []obj {
		out := []obj{}
		for _, n := range names {
			out = append(out, shortRepo(s.lookupLocked(n)))
		}
		return out
	}
	selection := "selected"
	if inst.All {
		selection = "all"
	}
	return s.envelopeLocked(rd, nil, o, "", obj{
		"action":               action,
		"installation":         rd.installation(inst),
		"repository_selection": selection,
		"repositories_added":   list(added),
		"repositories_removed": list(removed),
		"requester":            nil,
	})
}

// PushEvent builds a push payload for a branch moving from before to after
// (before "" or all zeros for a new branch); commits lists those between.
func (s *Server) PushEvent(repo, branch, before, after string, opts ...EventOption) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := buildOpts(opts)
	r := s.lookupLocked(repo)
	rd := s.renderer(s.URL)
	const zero = "0000000000000000000000000000000000000000"
	if before == "" {
		before = zero
	}
	base := before
	if base == zero {
		base = ""
	}
	commits := []obj{}
	var head obj
	for _, cm := range s.objects.commitsBetween(base, after) {
		commits = append(commits, s.pushCommitLocked(rd, r, cm))
	}
	if c := s.objects.commits[after]; c != nil {
		head = s.pushCommitLocked(rd, r, c)
	}
	forced := base != "" && after != zero && !s.objects.ancestors(after)[base]
	repoJSON := rd.repo(r, false)
	// Push payloads give the repository's timestamps as Unix seconds.
	repoJSON["created_at"] = r.Created.Unix()
	repoJSON["pushed_at"] = s.now().Unix()
	repoJSON["master_branch"] = r.DefaultBranch
	sender := o.sender
	if sender == "" {
		sender = "octocat"
	}
	payload := obj{
		"ref": "refs/heads/" + branch, "before": before, "after": after,
		"created": before == zero, "deleted": after == zero, "forced": forced, "base_ref": nil,
		"compare":     fmt.Sprintf("%s/%s/compare/%s...%s", rd.web, r.fullName(), before[:12], after[:min(12, len(after))]),
		"commits":     commits,
		"head_commit": head,
		"pusher":      obj{"name": sender, "email": sender + "@users.noreply.github.com"},
	}
	raw := s.envelopeLocked(rd, r, o, sender, payload)
	// Replace the repository with the push flavour.
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	m["repository"] = repoJSON
	return mustJSON(m)
}

func (s *Server) pushCommitLocked(rd renderer, r *repoState, c *commitObject) obj {
	var added, removed, modified []string
	parent := ""
	if len(c.Parents) > 0 {
		parent = c.Parents[0]
	}
	for _, f := range s.diffCommitsLocked(parent, c.SHA) {
		switch f.Status {
		case "added":
			added = append(added, f.Path)
		case "removed":
			removed = append(removed, f.Path)
		case "renamed":
			added = append(added, f.Path)
			removed = append(removed, f.PrevPath)
		default:
			modified = append(modified, f.Path)
		}
	}
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	person := func(sig signature) obj {
		return obj{"name": sig.Name, "email": sig.Email, "username": sig.Name}
	}
	return obj{
		"id": c.SHA, "tree_id": c.Tree, "distinct": true,
		"message":   strings.TrimSuffix(c.Message, "\n"),
		"timestamp": ts(c.Committer.When),
		"url":       fmt.Sprintf("%s/%s/commit/%s", rd.web, r.fullName(), c.SHA),
		"author":    person(c.Author), "committer": person(c.Committer),
		"added": nonNil(added), "removed": nonNil(removed), "modified": nonNil(modified),
	}
}

// MergeGroupEvent builds a merge_group checks_requested payload for a
// queue entry of PR number whose merge commit is headSHA on top of the
// base branch's tip. The head ref is GitHub's
// "refs/heads/gh-readonly-queue/<base>/pr-<n>-<base sha>".
func (s *Server) MergeGroupEvent(action, repo string, number int, headSHA string, opts ...EventOption) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := buildOpts(opts)
	r := s.lookupLocked(repo)
	pr := s.pulls[prKey(r.fullName(), number)]
	if pr == nil {
		s.fatalf("MergeGroupEvent: no pull request %s#%d", repo, number)
		return nil
	}
	rd := s.renderer(s.URL)
	baseSHA := r.Refs["refs/heads/"+pr.Base]
	var head obj
	if c := s.objects.commits[headSHA]; c != nil {
		head = obj{
			"id": c.SHA, "tree_id": c.Tree, "message": strings.TrimSuffix(c.Message, "\n"), "timestamp": ts(c.Committer.When),
			"author":    obj{"name": c.Author.Name, "email": c.Author.Email},
			"committer": obj{"name": c.Committer.Name, "email": c.Committer.Email},
		}
	}
	return s.envelopeLocked(rd, r, o, pr.User, obj{
		"action": action,
		"merge_group": obj{
			"head_sha":    headSHA,
			"head_ref":    fmt.Sprintf("refs/heads/gh-readonly-queue/%s/pr-%d-%s", pr.Base, number, baseSHA),
			"base_sha":    baseSHA,
			"base_ref":    "refs/heads/" + pr.Base,
			"head_commit": head,
		},
	})
}

// IssuesEvent builds an issues payload (opened, edited, closed, reopened)
// for an issue of repo ("owner/name"); for edited, BodyBefore gives
// changes.body.from.
func (s *Server) IssuesEvent(action, repo string, number int, bodyBefore string, opts ...EventOption) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := buildOpts(opts)
	r := s.lookupLocked(repo)
	is := s.issueData[prKey(r.fullName(), number)]
	if is == nil {
		s.fatalf("IssuesEvent: no issue %s#%d", repo, number)
		return nil
	}
	rd := s.renderer(s.URL)
	payload := obj{"action": action, "issue": rd.issue(is)}
	if action == "edited" {
		payload["changes"] = obj{"body": obj{"from": bodyBefore}}
	}
	return s.envelopeLocked(rd, r, o, is.User, payload)
}
