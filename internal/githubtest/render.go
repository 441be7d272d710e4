package githubtest

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// renderer turns state into GitHub's JSON shapes (field names as in the
// OpenAPI description, which go-github v66 decodes). Callers hold s.mu.
// api is the API base the client used (with or without /api/v3), so the
// URLs inside answers lead back the way the client came.
type renderer struct {
	s   *Server
	api string
	web string
}

func (s *Server) renderer(api string) renderer {
	return renderer{s: s, api: api, web: s.URL}
}

// apiBase is the API base of a request: GitHub Enterprise clients call
// under /api/v3 and get URLs under it.
func (c *call) apiBase() string {
	if strings.HasPrefix(c.r.URL.Path, "/api/v3/") {
		return c.s.URL + "/api/v3"
	}
	return c.s.URL
}

func (c *call) rd() renderer { return c.s.renderer(c.apiBase()) }

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func tsOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

func strOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nodeID mimics GitHub's legacy global IDs ("MDQ6VXNlcjE=" is "04:User1").
func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("0%d:%s%d", len(kind), kind, id)))
}

func esc(s string) string { return url.PathEscape(s) }

func (rd renderer) user(a *account) obj {
	if a == nil {
		return nil
	}
	u := rd.api + "/users/" + esc(a.Login)
	return obj{
		"login":               a.Login,
		"id":                  a.ID,
		"node_id":             nodeID(a.Type, a.ID),
		"avatar_url":          fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", a.ID),
		"gravatar_id":         "",
		"url":                 u,
		"html_url":            rd.web + "/" + esc(a.Login),
		"followers_url":       u + "/followers",
		"following_url":       u + "/following{/other_user}",
		"gists_url":           u + "/gists{/gist_id}",
		"starred_url":         u + "/starred{/owner}{/repo}",
		"subscriptions_url":   u + "/subscriptions",
		"organizations_url":   u + "/orgs",
		"repos_url":           u + "/repos",
		"events_url":          u + "/events{/privacy}",
		"received_events_url": u + "/received_events",
		"type":                a.Type,
		"user_view_type":      "public",
		"site_admin":          false,
	}
}

func (rd renderer) login(login string) obj { return rd.user(rd.s.accountLocked(login)) }

// repo renders the "repository" shape (full adds full-repository's fields).
func (rd renderer) repo(r *repoState, full bool) obj {
	u := rd.api + "/repos/" + esc(r.Owner.Login) + "/" + esc(r.Name)
	html := rd.web + "/" + esc(r.Owner.Login) + "/" + esc(r.Name)
	pushed := r.Created
	visibility := "public"
	if r.Private {
		visibility = "private"
	}
	o := obj{
		"id":                r.ID,
		"node_id":           nodeID("Repository", r.ID),
		"name":              r.Name,
		"full_name":         r.fullName(),
		"owner":             rd.user(r.Owner),
		"private":           r.Private,
		"visibility":        visibility,
		"html_url":          html,
		"description":       nil,
		"fork":              r.Parent != nil,
		"url":               u,
		"archive_url":       u + "/{archive_format}{/ref}",
		"assignees_url":     u + "/assignees{/user}",
		"blobs_url":         u + "/git/blobs{/sha}",
		"branches_url":      u + "/branches{/branch}",
		"collaborators_url": u + "/collaborators{/collaborator}",
		"comments_url":      u + "/comments{/number}",
		"commits_url":       u + "/commits{/sha}",
		"compare_url":       u + "/compare/{base}...{head}",
		"contents_url":      u + "/contents/{+path}",
		"contributors_url":  u + "/contributors",
		"deployments_url":   u + "/deployments",
		"downloads_url":     u + "/downloads",
		"events_url":        u + "/events",
		"forks_url":         u + "/forks",
		"git_commits_url":   u + "/git/commits{/sha}",
		"git_refs_url":      u + "/git/refs{/sha}",
		"git_tags_url":      u + "/git/tags{/sha}",
		"git_url":           "git:" + strings.TrimPrefix(html, "http:") + ".git",
		"issue_comment_url": u + "/issues/comments{/number}",
		"issue_events_url":  u + "/issues/events{/number}",
		"issues_url":        u + "/issues{/number}",
		"keys_url":          u + "/keys{/key_id}",
		"labels_url":        u + "/labels{/name}",
		"languages_url":     u + "/languages",
		"merges_url":        u + "/merges",
		"milestones_url":    u + "/milestones{/number}",
		"notifications_url": u + "/notifications{?since,all,participating}",
		"pulls_url":         u + "/pulls{/number}",
		"releases_url":      u + "/releases{/id}",
		"ssh_url":           "git@" + strings.TrimPrefix(strings.TrimPrefix(rd.web, "http://"), "https://") + ":" + r.fullName() + ".git",
		"stargazers_url":    u + "/stargazers",
		"statuses_url":      u + "/statuses/{sha}",
		"subscribers_url":   u + "/subscribers",
		"subscription_url":  u + "/subscription",
		"tags_url":          u + "/tags",
		"teams_url":         u + "/teams",
		"trees_url":         u + "/git/trees{/sha}",
		"clone_url":         html + ".git",
		"mirror_url":        nil,
		"hooks_url":         u + "/hooks",
		"svn_url":           html,
		"homepage":          nil,
		"language":          nil,
		"forks_count":       0,
		"forks":             0,
		"stargazers_count":  0,
		"watchers_count":    0,
		"watchers":          0,
		"size":              repoSize(r),
		"default_branch":    r.DefaultBranch,
		"open_issues_count": 0,
		"open_issues":       0,
		"is_template":       false,
		"topics":            []string{},
		"has_issues":        true,
		"has_projects":      true,
		"has_wiki":          true,
		"has_pages":         false,
		"has_downloads":     true,
		"has_discussions":   false,
		"archived":          r.Archived,
		"disabled":          false,
		"allow_forking":     true,
		"license":           nil,
		"pushed_at":         ts(pushed),
		"created_at":        ts(r.Created),
		"updated_at":        ts(r.Created),
	}
	if full {
		o["network_count"] = 0
		o["subscribers_count"] = 0
		o["temp_clone_token"] = nil
		if r.Owner.Type == "Organization" {
			o["organization"] = rd.user(r.Owner)
		}
		if r.Parent != nil {
			o["parent"] = rd.repo(r.Parent, false)
			src := r.Parent
			for src.Parent != nil {
				src = src.Parent
			}
			o["source"] = rd.repo(src, false)
		}
	}
	return o
}

// app renders the App under test ("integration").
func (rd renderer) app() obj {
	s := rd.s
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return obj{
		"id":           s.cfg.appID,
		"slug":         s.cfg.appSlug,
		"node_id":      nodeID("Integration", s.cfg.appID),
		"client_id":    fmt.Sprintf("Iv1.%016x", s.cfg.appID),
		"owner":        rd.login("housekeeper-app"),
		"name":         s.cfg.appName,
		"description":  "Keeps the directory map and secrets honest.",
		"external_url": "https://github.com/housekeeper-app/housekeeper",
		"html_url":     rd.web + "/apps/" + s.cfg.appSlug,
		"created_at":   ts(created),
		"updated_at":   ts(created),
		"permissions": obj{
			"checks": "write", "contents": "write", "issues": "write",
			"metadata": "read", "pull_requests": "write",
		},
		"events":              []string{"check_run", "check_suite", "issue_comment", "merge_group", "pull_request", "push"},
		"installations_count": len(s.installations),
	}
}

func (rd renderer) installation(inst *installationState) obj {
	selection := "selected"
	if inst.All {
		selection = "all"
	}
	suspendedAt, suspendedBy := any(nil), any(nil)
	if inst.Suspended {
		suspendedAt = ts(inst.Created)
		suspendedBy = rd.user(inst.Account)
	}
	// The description's list-installations answer requires the account to
	// be both a user and an enterprise (allOf, a quirk of GitHub's
	// description); the enterprise fields are added so it validates.
	account := rd.user(inst.Account)
	account["name"], account["slug"] = inst.Account.Login, strings.ToLower(inst.Account.Login)
	account["created_at"], account["updated_at"] = ts(inst.Created), ts(inst.Created)
	return obj{
		"id":                        inst.ID,
		"account":                   account,
		"repository_selection":      selection,
		"access_tokens_url":         fmt.Sprintf("%s/app/installations/%d/access_tokens", rd.api, inst.ID),
		"repositories_url":          rd.api + "/installation/repositories",
		"html_url":                  fmt.Sprintf("%s/settings/installations/%d", rd.web, inst.ID),
		"app_id":                    rd.s.cfg.appID,
		"app_slug":                  rd.s.cfg.appSlug,
		"client_id":                 fmt.Sprintf("Iv1.%016x", rd.s.cfg.appID),
		"target_id":                 inst.Account.ID,
		"target_type":               inst.Account.Type,
		"permissions":               inst.Permissions,
		"events":                    inst.Events,
		"created_at":                ts(inst.Created),
		"updated_at":                ts(inst.Created),
		"single_file_name":          nil,
		"has_multiple_single_files": false,
		"single_file_paths":         []string{},
		"suspended_by":              suspendedBy,
		"suspended_at":              suspendedAt,
	}
}

func (rd renderer) gitUser(sig signature) obj {
	return obj{"name": sig.Name, "email": sig.Email, "date": ts(sig.When)}
}

var unsignedVerification = obj{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil}

// gitCommit renders the git data API's commit ("git-commit").
func (rd renderer) gitCommit(r *repoState, c *commitObject) obj {
	base := rd.api + "/repos/" + esc(r.Owner.Login) + "/" + esc(r.Name)
	parents := make([]obj, 0, len(c.Parents))
	for _, p := range c.Parents {
		parents = append(parents, obj{"sha": p, "url": base + "/git/commits/" + p, "html_url": rd.web + "/" + r.fullName() + "/commit/" + p})
	}
	return obj{
		"sha":          c.SHA,
		"node_id":      nodeID("Commit", int64(stableID("commit", c.SHA))),
		"url":          base + "/git/commits/" + c.SHA,
		"html_url":     rd.web + "/" + r.fullName() + "/commit/" + c.SHA,
		"author":       rd.gitUser(c.Author),
		"committer":    rd.gitUser(c.Committer),
		"tree":         obj{"sha": c.Tree, "url": base + "/git/trees/" + c.Tree},
		"message":      strings.TrimSuffix(c.Message, "\n"),
		"parents":      parents,
		"verification": unsignedVerification,
	}
}

// commit renders the REST "commit" shape; files is nil to leave them out.
func (rd renderer) commit(r *repoState, c *commitObject, files []fileChange) obj {
	base := rd.api + "/repos/" + esc(r.Owner.Login) + "/" + esc(r.Name)
	parents := make([]obj, 0, len(c.Parents))
	for _, p := range c.Parents {
		parents = append(parents, obj{"sha": p, "url": base + "/commits/" + p, "html_url": rd.web + "/" + r.fullName() + "/commit/" + p})
	}
	o := obj{
		"sha":          c.SHA,
		"node_id":      nodeID("Commit", int64(stableID("commit", c.SHA))),
		"url":          base + "/commits/" + c.SHA,
		"html_url":     rd.web + "/" + r.fullName() + "/commit/" + c.SHA,
		"comments_url": base + "/commits/" + c.SHA + "/comments",
		"commit": obj{
			"url":           base + "/git/commits/" + c.SHA,
			"author":        rd.gitUser(c.Author),
			"committer":     rd.gitUser(c.Committer),
			"message":       strings.TrimSuffix(c.Message, "\n"),
			"tree":          obj{"sha": c.Tree, "url": base + "/git/trees/" + c.Tree},
			"comment_count": 0,
			"verification":  unsignedVerification,
		},
		"author":    rd.login(c.Author.Name),
		"committer": rd.login(c.Committer.Name),
		"parents":   parents,
	}
	if files != nil {
		adds, dels := 0, 0
		entries := make([]obj, 0, len(files))
		for _, f := range files {
			adds += f.Additions
			dels += f.Deletions
			entries = append(entries, rd.diffEntry(r, c.SHA, f))
		}
		o["stats"] = obj{"additions": adds, "deletions": dels, "total": adds + dels}
		o["files"] = entries
	}
	return o
}

// diffEntry renders one file of a diff; ref is the commit the blob/raw
// URLs point into.
func (rd renderer) diffEntry(r *repoState, ref string, f fileChange) obj {
	sha := f.NewSHA
	if f.Status == "removed" {
		sha = f.OldSHA
	}
	o := obj{
		"sha":          sha,
		"filename":     f.Path,
		"status":       f.Status,
		"additions":    f.Additions,
		"deletions":    f.Deletions,
		"changes":      f.Additions + f.Deletions,
		"blob_url":     rd.web + "/" + r.fullName() + "/blob/" + ref + "/" + f.Path,
		"raw_url":      rd.web + "/" + r.fullName() + "/raw/" + ref + "/" + f.Path,
		"contents_url": rd.api + "/repos/" + r.fullName() + "/contents/" + f.Path + "?ref=" + ref,
	}
	if f.HasPatch {
		o["patch"] = f.Patch
	}
	if f.PrevPath != "" {
		o["previous_filename"] = f.PrevPath
	}
	return o
}

// pullRequest renders the full "pull-request" shape.
func (rd renderer) pullRequest(pr *prState) obj {
	base := rd.api + "/repos/" + esc(pr.base.Owner.Login) + "/" + esc(pr.base.Name)
	html := rd.web + "/" + pr.base.fullName() + "/pull/" + fmt.Sprint(pr.Number)
	issue := base + "/issues/" + fmt.Sprint(pr.Number)
	self := base + "/pulls/" + fmt.Sprint(pr.Number)
	link := func(href string) obj { return obj{"href": href} }
	closedAt, mergedAt := any(nil), any(nil)
	if pr.State == "closed" {
		closedAt = ts(pr.Updated)
	}
	if pr.Merged {
		mergedAt = ts(pr.Updated)
	}
	side := func(repo *repoState, ref, sha string) obj {
		return obj{
			"label": repo.Owner.Login + ":" + ref,
			"ref":   ref,
			"sha":   sha,
			"user":  rd.user(repo.Owner),
			"repo":  rd.repo(repo, false),
		}
	}
	commits, adds, dels, changed := 0, 0, 0, 0
	if mb := rd.s.objects.mergeBase(pr.BaseSHA, pr.HeadSHA); mb != "" || pr.BaseSHA == "" {
		commits = len(rd.s.objects.commitsBetween(mb, pr.HeadSHA))
		files := rd.s.diffCommitsLocked(mb, pr.HeadSHA)
		changed = len(files)
		for _, f := range files {
			adds += f.Additions
			dels += f.Deletions
		}
	}
	comments := 0
	for _, c := range rd.s.comments {
		if c.Number == pr.Number && strings.EqualFold(c.Owner+"/"+c.Repo, pr.base.fullName()) {
			comments++
		}
	}
	return obj{
		"url":                 self,
		"id":                  pr.ID,
		"node_id":             nodeID("PullRequest", pr.ID),
		"html_url":            html,
		"diff_url":            html + ".diff",
		"patch_url":           html + ".patch",
		"issue_url":           issue,
		"commits_url":         self + "/commits",
		"review_comments_url": self + "/comments",
		"review_comment_url":  base + "/pulls/comments{/number}",
		"comments_url":        issue + "/comments",
		"statuses_url":        base + "/statuses/" + pr.HeadSHA,
		"number":              pr.Number,
		"state":               pr.State,
		"locked":              false,
		"title":               pr.Title,
		"user":                rd.login(pr.User),
		"body":                strOrNil(pr.Body),
		"labels":              []obj{},
		"milestone":           nil,
		"active_lock_reason":  nil,
		"created_at":          ts(pr.Created),
		"updated_at":          ts(pr.Updated),
		"closed_at":           closedAt,
		"merged_at":           mergedAt,
		"merge_commit_sha":    strOrNil(pr.MergeCommitSHA),
		"assignee":            nil,
		"assignees":           []obj{},
		"requested_reviewers": []obj{},
		"requested_teams":     []obj{},
		"head":                side(pr.head, pr.Head, pr.HeadSHA),
		"base":                side(pr.base, pr.Base, pr.BaseSHA),
		"_links": obj{
			"self":            link(self),
			"html":            link(html),
			"issue":           link(issue),
			"comments":        link(issue + "/comments"),
			"review_comments": link(self + "/comments"),
			"review_comment":  link(base + "/pulls/comments{/number}"),
			"commits":         link(self + "/commits"),
			"statuses":        link(base + "/statuses/" + pr.HeadSHA),
		},
		"author_association":    "CONTRIBUTOR",
		"auto_merge":            nil,
		"draft":                 pr.Draft,
		"merged":                pr.Merged,
		"mergeable":             nil,
		"rebaseable":            nil,
		"mergeable_state":       "unknown",
		"merged_by":             nil,
		"comments":              comments,
		"review_comments":       0,
		"maintainer_can_modify": false,
		"commits":               commits,
		"additions":             adds,
		"deletions":             dels,
		"changed_files":         changed,
	}
}

// pullRequestSimple renders the list shape ("pull-request-simple").
func (rd renderer) pullRequestSimple(pr *prState) obj {
	o := rd.pullRequest(pr)
	for _, k := range []string{"merged", "mergeable", "rebaseable", "mergeable_state", "merged_by", "comments",
		"review_comments", "maintainer_can_modify", "commits", "additions", "deletions", "changed_files"} {
		delete(o, k)
	}
	return o
}

// pullRequestMinimal is the shape inside check runs and suites.
func (rd renderer) pullRequestMinimal(pr *prState) obj {
	side := func(repo *repoState, ref, sha string) obj {
		return obj{"ref": ref, "sha": sha, "repo": obj{"id": repo.ID, "url": rd.api + "/repos/" + repo.fullName(), "name": repo.Name}}
	}
	return obj{
		"id":     pr.ID,
		"number": pr.Number,
		"url":    rd.api + "/repos/" + pr.base.fullName() + "/pulls/" + fmt.Sprint(pr.Number),
		"head":   side(pr.head, pr.Head, pr.HeadSHA),
		"base":   side(pr.base, pr.Base, pr.BaseSHA),
	}
}

// prsForHeadLocked lists the open PRs of a repository whose head is sha in
// the same repository: what GitHub puts in a check run's or suite's
// pull_requests (a fork's PRs are never listed there).
func (s *Server) prsForHeadLocked(r *repoState, sha string) []*prState {
	var out []*prState
	for _, pr := range s.sortedPullsLocked() {
		s.refreshPRLocked(pr)
		if pr.base == r && pr.head == r && pr.HeadSHA == sha && pr.State == "open" {
			out = append(out, pr)
		}
	}
	return out
}

func (rd renderer) checkRun(cr *CheckRun) obj {
	r := rd.s.repoLocked(cr.Owner, cr.Repo)
	base := rd.api + "/repos/" + esc(r.Owner.Login) + "/" + esc(r.Name)
	prs := []obj{}
	for _, pr := range rd.s.prsForHeadLocked(r, cr.HeadSHA) {
		prs = append(prs, rd.pullRequestMinimal(pr))
	}
	return obj{
		"id":           cr.ID,
		"node_id":      nodeID("CheckRun", cr.ID),
		"head_sha":     cr.HeadSHA,
		"external_id":  cr.ExternalID,
		"url":          fmt.Sprintf("%s/check-runs/%d", base, cr.ID),
		"html_url":     fmt.Sprintf("%s/%s/runs/%d", rd.web, r.fullName(), cr.ID),
		"details_url":  strOrNil(cr.DetailsURL),
		"status":       cr.Status,
		"conclusion":   strOrNil(cr.Conclusion),
		"started_at":   tsOrNil(cr.StartedAt),
		"completed_at": tsOrNil(cr.CompletedAt),
		"name":         cr.Name,
		"output": obj{
			"title":             strOrNil(cr.Output.Title),
			"summary":           strOrNil(cr.Output.Summary),
			"text":              strOrNil(cr.Output.Text),
			"annotations_count": len(cr.Output.Annotations),
			"annotations_url":   fmt.Sprintf("%s/check-runs/%d/annotations", base, cr.ID),
		},
		"check_suite":   obj{"id": cr.SuiteID},
		"app":           rd.app(),
		"pull_requests": prs,
	}
}

func (rd renderer) checkSuite(cs *CheckSuite) obj {
	r := rd.s.repoLocked(cs.Owner, cs.Repo)
	prs := []obj{}
	for _, pr := range rd.s.prsForHeadLocked(r, cs.HeadSHA) {
		prs = append(prs, rd.pullRequestMinimal(pr))
	}
	before := ""
	if c := rd.s.objects.commits[cs.HeadSHA]; c != nil && len(c.Parents) > 0 {
		before = c.Parents[0]
	}
	runs := 0
	for _, cr := range rd.s.checkRuns {
		if cr.SuiteID == cs.ID {
			runs++
		}
	}
	var headCommit obj
	if c := rd.s.objects.commits[cs.HeadSHA]; c != nil {
		headCommit = obj{
			"id": c.SHA, "tree_id": c.Tree, "message": strings.TrimSuffix(c.Message, "\n"), "timestamp": ts(c.Committer.When),
			"author":    obj{"name": c.Author.Name, "email": c.Author.Email},
			"committer": obj{"name": c.Committer.Name, "email": c.Committer.Email},
		}
	}
	return obj{
		"id":                      cs.ID,
		"node_id":                 nodeID("CheckSuite", cs.ID),
		"head_branch":             strOrNil(cs.HeadBranch),
		"head_sha":                cs.HeadSHA,
		"status":                  cs.Status,
		"conclusion":              strOrNil(cs.Conclusion),
		"url":                     fmt.Sprintf("%s/repos/%s/check-suites/%d", rd.api, r.fullName(), cs.ID),
		"before":                  strOrNil(before),
		"after":                   cs.HeadSHA,
		"pull_requests":           prs,
		"app":                     rd.app(),
		"created_at":              ts(cs.Created),
		"updated_at":              ts(cs.Created),
		"rerequestable":           true,
		"runs_rerequestable":      true,
		"latest_check_runs_count": runs,
		"check_runs_url":          fmt.Sprintf("%s/repos/%s/check-suites/%d/check-runs", rd.api, r.fullName(), cs.ID),
		"head_commit":             headCommit,
	}
}

func (rd renderer) comment(c *Comment) obj {
	r := rd.s.repoLocked(c.Owner, c.Repo)
	base := rd.api + "/repos/" + r.fullName()
	rollup := obj{"url": fmt.Sprintf("%s/issues/comments/%d/reactions", base, c.ID), "total_count": len(c.Reactions)}
	for _, k := range []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"} {
		rollup[k] = 0
	}
	for _, re := range c.Reactions {
		rollup[re.Content] = rollup[re.Content].(int) + 1
	}
	kind := "issues"
	if rd.s.pulls[prKey(r.fullName(), c.Number)] != nil {
		kind = "pull"
	}
	o := obj{
		"id":                       c.ID,
		"node_id":                  nodeID("IssueComment", c.ID),
		"url":                      fmt.Sprintf("%s/issues/comments/%d", base, c.ID),
		"html_url":                 fmt.Sprintf("%s/%s/%s/%d#issuecomment-%d", rd.web, r.fullName(), kind, c.Number, c.ID),
		"issue_url":                fmt.Sprintf("%s/issues/%d", base, c.Number),
		"body":                     c.Body,
		"user":                     rd.login(c.User),
		"created_at":               ts(c.Created),
		"updated_at":               ts(c.Updated),
		"author_association":       "NONE",
		"reactions":                rollup,
		"performed_via_github_app": nil,
	}
	if c.ViaApp {
		o["performed_via_github_app"] = rd.app()
	}
	return o
}

func (rd renderer) reaction(re *Reaction) obj {
	return obj{
		"id":         re.ID,
		"node_id":    nodeID("Reaction", re.ID),
		"user":       rd.login(re.User),
		"content":    re.Content,
		"created_at": ts(re.Created),
	}
}

// repoSize is 0 for an empty repository (no default branch yet), as
// GitHub reports it, and a token size otherwise.
func repoSize(r *repoState) int {
	if r.Refs["refs/heads/"+r.DefaultBranch] == "" {
		return 0
	}
	return 1
}

// issue renders an issue (a pull request's issue carries pull_request).
func (rd renderer) issue(is *Issue) obj {
	r := rd.s.repoLocked(is.Owner, is.Repo)
	base := rd.api + "/repos/" + r.fullName()
	u := fmt.Sprintf("%s/issues/%d", base, is.Number)
	closedAt := any(nil)
	if is.State == "closed" {
		closedAt = ts(is.Updated)
	}
	comments := 0
	for _, c := range rd.s.comments {
		if c.Number == is.Number && strings.EqualFold(c.Owner+"/"+c.Repo, r.fullName()) {
			comments++
		}
	}
	o := obj{
		"id":                       is.ID,
		"node_id":                  nodeID("Issue", is.ID),
		"url":                      u,
		"repository_url":           base,
		"labels_url":               u + "/labels{/name}",
		"comments_url":             u + "/comments",
		"events_url":               u + "/events",
		"html_url":                 fmt.Sprintf("%s/%s/issues/%d", rd.web, r.fullName(), is.Number),
		"number":                   is.Number,
		"state":                    is.State,
		"state_reason":             strOrNil(is.StateReason),
		"title":                    is.Title,
		"body":                     strOrNil(is.Body),
		"user":                     rd.login(is.User),
		"labels":                   []obj{},
		"assignee":                 nil,
		"assignees":                []obj{},
		"milestone":                nil,
		"locked":                   false,
		"active_lock_reason":       nil,
		"comments":                 comments,
		"closed_at":                closedAt,
		"created_at":               ts(is.Created),
		"updated_at":               ts(is.Updated),
		"author_association":       "NONE",
		"performed_via_github_app": nil,
	}
	if is.ViaApp {
		o["performed_via_github_app"] = rd.app()
	}
	return o
}
