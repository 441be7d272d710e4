package githubtest

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"
)

// The state below is what a user would see on GitHub. Everything is guarded
// by Server.mu; exported methods copy values out so tests never share
// memory with request handlers.

type account struct {
	ID    int64
	Login string
	Type  string // User, Organization or Bot
}

type repoState struct {
	ID            int64
	Owner         *account
	Name          string
	DefaultBranch string
	Private       bool
	Parent        *repoState // fork source
	Archived      bool
	Refs          map[string]string
	Perms         map[string]Permission
	Created       time.Time
}

func (r *repoState) fullName() string { return r.Owner.Login + "/" + r.Name }

type installationState struct {
	ID          int64
	Account     *account
	All         bool
	Repos       map[int64]bool
	Suspended   bool
	Permissions map[string]string
	Events      []string
	Created     time.Time
}

// Repo describes a repository to create with AddRepo.
type Repo struct {
	Owner         string // a user, or an organisation added with AddOrg
	Name          string
	DefaultBranch string // "main" when empty
	Private       bool
	ForkOf        string // "owner/name" of the repository this one forks
	Archived      bool
	ID            int64 // assigned when zero
}

// FullName is "owner/name".
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

// Installation describes an installation of the App under test.
type Installation struct {
	ID          int64  // assigned when zero
	Account     string // the user or organisation it is installed on
	Repos       []string
	All         bool // repository_selection "all": every repository of Account
	Suspended   bool
	Permissions map[string]string // default: checks, contents, issues and pull_requests write, metadata read
	Events      []string          // default: the events Housekeeper subscribes to
}

// Permission is a collaborator's access as the permission API reports it.
type Permission struct {
	Permission string // admin, write, read or none (maintain reports as write, triage as read)
	RoleName   string // admin, maintain, write, triage, read or a custom role
}

// PullRequest is a pull request, as set up by OpenPullRequest and as seen
// through the API.
type PullRequest struct {
	Owner, Repo    string // the base repository
	Number         int    // assigned when zero
	Title, Body    string
	User           string // author login; "octocat" when empty
	Base           string // base branch; the repository's default branch when empty
	Head           string // head branch, in HeadRepo
	HeadRepo       string // "owner/name" of the head repository; the base repository when empty (a fork otherwise)
	Draft          bool
	State          string // open or closed
	Merged         bool
	MergeCommitSHA string
	HeadSHA        string // filled in: the head branch's tip
	BaseSHA        string // filled in: the base branch's tip
	ID             int64
	Created        time.Time
	Updated        time.Time
}

type prState struct {
	PullRequest
	base *repoState
	head *repoState
}

// CheckRun is a check run as the App left it.
type CheckRun struct {
	ID          int64
	Owner, Repo string
	HeadSHA     string
	Name        string
	Status      string
	Conclusion  string
	ExternalID  string
	DetailsURL  string
	StartedAt   time.Time
	CompletedAt time.Time
	Output      CheckRunOutput
	Actions     []CheckRunAction
	SuiteID     int64
	AppID       int64
	// Requests counts the create and update requests that touched the run.
	Requests int
}

// CheckRunOutput accumulates annotations across updates, as GitHub does;
// title, summary and text are replaced by each update that gives them.
type CheckRunOutput struct {
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
}

// Annotation is one line annotation of a check run.
type Annotation struct {
	Path            string `json:"path"`
	StartLine       int    `json:"start_line"`
	EndLine         int    `json:"end_line"`
	StartColumn     *int   `json:"start_column,omitempty"`
	EndColumn       *int   `json:"end_column,omitempty"`
	AnnotationLevel string `json:"annotation_level"`
	Message         string `json:"message"`
	Title           string `json:"title,omitempty"`
	RawDetails      string `json:"raw_details,omitempty"`
}

// CheckRunAction is a button on a check run.
type CheckRunAction struct {
	Label       string `json:"label"`
	Description string `json:"description"`
	Identifier  string `json:"identifier"`
}

// CheckSuite groups an App's check runs for one commit.
type CheckSuite struct {
	ID          int64
	Owner, Repo string
	HeadSHA     string
	HeadBranch  string
	Status      string
	Conclusion  string
	AppID       int64
	Rerequests  int
	Created     time.Time
}

// Comment is an issue or pull request comment.
type Comment struct {
	ID          int64
	Owner, Repo string
	Number      int
	User        string // login; the App's "<slug>[bot]" when it posted
	Body        string
	ViaApp      bool // performed_via_github_app is the App under test
	Reactions   []Reaction
	Created     time.Time
	Updated     time.Time
}

// Reaction is an emoji reaction on a comment.
type Reaction struct {
	ID      int64
	User    string
	Content string
	Created time.Time
}

// NewCommit describes a commit built by CreateCommit.
type NewCommit struct {
	Parents []string          // the first parent's tree is the starting point; none makes a root commit
	Files   map[string]string // path → content, added or replaced
	Delete  []string          // paths removed
	Modes   map[string]string // optional mode per path: ModeExecutable, or ModeSymlink (content is the target)
	Message string            // a default is made up when empty
	Author  string            // login; "octocat" when empty
	Time    time.Time         // the emulator's commit clock when zero (one minute apart, from 2024-01-01)
}

// ---- identifiers ----

// stableID derives a stable positive ID from a name so that users and
// accounts get the same IDs across runs (golden files stay stable).
func stableID(kind, name string) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s", kind, strings.ToLower(name))
	return int64(h.Sum64()%90_000_000) + 10_000_000
}

func (s *Server) nextID() int64 {
	s.idSeq++
	return s.idSeq
}

// accountLocked returns the account for login, creating a user on first use.
func (s *Server) accountLocked(login string) *account {
	key := strings.ToLower(login)
	if a := s.accounts[key]; a != nil {
		return a
	}
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	a := &account{ID: stableID("account", login), Login: login, Type: typ}
	s.accounts[key] = a
	return a
}

// ---- setup ----

// AddOrg registers an organisation account (accounts are users otherwise).
func (s *Server) AddOrg(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accountLocked(login).Type = "Organization"
}

// AddRepo creates a repository. A fork starts with its parent's branches.
func (s *Server) AddRepo(r Repo) Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	if r.ID == 0 {
		r.ID = stableID("repo", r.FullName())
	}
	rs := &repoState{
		ID:            r.ID,
		Owner:         s.accountLocked(r.Owner),
		Name:          r.Name,
		DefaultBranch: r.DefaultBranch,
		Private:       r.Private,
		Archived:      r.Archived,
		Refs:          map[string]string{},
		Perms:         map[string]Permission{},
		Created:       s.now(),
	}
	if r.ForkOf != "" {
		parent := s.repos[strings.ToLower(r.ForkOf)]
		if parent == nil {
			s.fatalf("AddRepo %s: fork parent %s does not exist", r.FullName(), r.ForkOf)
			return r
		}
		rs.Parent = parent
		for ref, sha := range parent.Refs {
			rs.Refs[ref] = sha
		}
	}
	s.repos[strings.ToLower(r.FullName())] = rs
	return r
}

// AddInstallation installs the App on an account and returns its ID.
func (s *Server) AddInstallation(in Installation) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.ID == 0 {
		in.ID = stableID("installation", in.Account)
	}
	if in.Permissions == nil {
		in.Permissions = map[string]string{
			"checks": "write", "contents": "write", "issues": "write",
			"pull_requests": "write", "metadata": "read",
		}
	}
	if in.Events == nil {
		in.Events = []string{"check_run", "check_suite", "issue_comment", "issues", "merge_group", "pull_request", "push"}
	}
	st := &installationState{
		ID:          in.ID,
		Account:     s.accountLocked(in.Account),
		All:         in.All,
		Repos:       map[int64]bool{},
		Suspended:   in.Suspended,
		Permissions: in.Permissions,
		Events:      in.Events,
		Created:     s.now(),
	}
	for _, full := range in.Repos {
		r := s.repos[strings.ToLower(full)]
		if r == nil {
			s.fatalf("AddInstallation %d: repository %s does not exist", in.ID, full)
			continue
		}
		st.Repos[r.ID] = true
	}
	s.installations[in.ID] = st
	return in.ID
}

// SetInstallationRepos replaces the repositories of a selected-repositories
// installation (as installation_repositories added/removed would).
func (s *Server) SetInstallationRepos(id int64, repos ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.installations[id]
	if inst == nil {
		s.fatalf("SetInstallationRepos: no installation %d", id)
		return
	}
	inst.Repos = map[int64]bool{}
	for _, full := range repos {
		if r := s.repos[strings.ToLower(full)]; r != nil {
			inst.Repos[r.ID] = true
		}
	}
}

// SuspendInstallation suspends or unsuspends an installation: a suspended
// one gets no tokens and its tokens stop working.
func (s *Server) SuspendInstallation(id int64, suspended bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inst := s.installations[id]; inst != nil {
		inst.Suspended = suspended
	}
}

// SetPermission sets a user's access to a repository. permission is
// admin/write/read/none; roleName defaults from it (write → write, …).
func (s *Server) SetPermission(owner, repo, user, permission, roleName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(owner, repo)
	if r == nil {
		s.fatalf("SetPermission: no repository %s/%s", owner, repo)
		return
	}
	if roleName == "" {
		roleName = permission
	}
	s.accountLocked(user)
	r.Perms[strings.ToLower(user)] = Permission{Permission: permission, RoleName: roleName}
}

// CreateCommit writes a commit (blobs, trees, commit object) and returns
// its SHA. It moves no branch: see Push and SetBranch.
func (s *Server) CreateCommit(c NewCommit) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createCommitLocked(c)
}

func (s *Server) createCommitLocked(c NewCommit) string {
	files := map[string]fileEntry{}
	if len(c.Parents) > 0 {
		parent := s.objects.commits[c.Parents[0]]
		if parent == nil {
			s.fatalf("CreateCommit: parent %s does not exist", c.Parents[0])
			return ""
		}
		files = s.objects.flatten(parent.Tree)
	}
	paths := make([]string, 0, len(c.Files))
	for p := range c.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		mode := ModeFile
		if m := c.Modes[p]; m != "" {
			mode = m
		}
		clean := strings.Trim(p, "/")
		// A file replacing a directory (or the reverse) drops the other.
		for existing := range files {
			if strings.HasPrefix(existing, clean+"/") || strings.HasPrefix(clean, existing+"/") {
				delete(files, existing)
			}
		}
		files[clean] = fileEntry{SHA: s.objects.putBlob([]byte(c.Files[p])), Mode: mode}
	}
	for _, p := range c.Delete {
		delete(files, strings.Trim(p, "/"))
	}
	when := c.Time
	if when.IsZero() {
		s.commitClock = s.commitClock.Add(time.Minute)
		when = s.commitClock
	}
	author := c.Author
	if author == "" {
		author = "octocat"
	}
	msg := c.Message
	if msg == "" {
		msg = fmt.Sprintf("Change %s", strings.Join(append(paths, c.Delete...), ", "))
		if len(msg) > 72 {
			msg = msg[:72]
		}
	}
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	sig := signature{Name: author, Email: author + "@users.noreply.github.com", When: when.UTC()}
	return s.objects.putCommit(commitObject{
		Tree:      s.objects.buildTree(files),
		Parents:   append([]string(nil), c.Parents...),
		Author:    sig,
		Committer: sig,
		Message:   msg,
	})
}

// Push commits files on top of a branch (creating it from nothing when it
// does not exist yet), moves the branch and returns the new SHA. Paths in
// del are removed.
func (s *Server) Push(owner, repo, branch string, files map[string]string, del ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(owner, repo)
	if r == nil {
		s.fatalf("Push: no repository %s/%s", owner, repo)
		return ""
	}
	var parents []string
	if tip := r.Refs["refs/heads/"+branch]; tip != "" {
		parents = []string{tip}
	}
	sha := s.createCommitLocked(NewCommit{Parents: parents, Files: files, Delete: del})
	r.Refs["refs/heads/"+branch] = sha
	return sha
}

// SetBranch points a branch at a commit (creating the branch).
func (s *Server) SetBranch(owner, repo, branch, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(owner, repo)
	if r == nil {
		s.fatalf("SetBranch: no repository %s/%s", owner, repo)
		return
	}
	r.Refs["refs/heads/"+branch] = sha
}

// Branch returns the SHA a branch points at, "" when it does not exist.
func (s *Server) Branch(owner, repo, branch string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.repoLocked(owner, repo); r != nil {
		return r.Refs["refs/heads/"+branch]
	}
	return ""
}

// File returns a file's content at a commit, and whether it exists.
func (s *Server) File(sha, path string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.objects.commits[sha]
	if c == nil {
		return "", false
	}
	f, ok := s.objects.flatten(c.Tree)[path]
	if !ok {
		return "", false
	}
	return string(s.objects.blobs[f.SHA]), true
}

// OpenPullRequest opens a pull request and returns it with its number and
// SHAs filled in.
func (s *Server) OpenPullRequest(pr PullRequest) PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	base := s.repoLocked(pr.Owner, pr.Repo)
	if base == nil {
		s.fatalf("OpenPullRequest: no repository %s/%s", pr.Owner, pr.Repo)
		return pr
	}
	head := base
	if pr.HeadRepo != "" {
		head = s.repos[strings.ToLower(pr.HeadRepo)]
		if head == nil {
			s.fatalf("OpenPullRequest: no head repository %s", pr.HeadRepo)
			return pr
		}
	}
	if pr.Base == "" {
		pr.Base = base.DefaultBranch
	}
	if pr.User == "" {
		pr.User = "octocat"
	}
	if pr.State == "" {
		pr.State = "open"
	}
	if pr.Title == "" {
		pr.Title = "Update " + pr.Head
	}
	if pr.Number == 0 {
		s.issueSeq[base.ID]++
		pr.Number = s.issueSeq[base.ID]
	}
	pr.ID = stableID("pull", fmt.Sprintf("%s#%d", base.fullName(), pr.Number))
	pr.Created, pr.Updated = s.now(), s.now()
	st := &prState{PullRequest: pr, base: base, head: head}
	s.refreshPRLocked(st)
	if st.HeadSHA == "" {
		s.fatalf("OpenPullRequest: head branch %s does not exist in %s", pr.Head, head.fullName())
	}
	s.pulls[prKey(base.fullName(), pr.Number)] = st
	s.accountLocked(pr.User)
	return st.PullRequest
}

// UpdatePullRequest edits a pull request (state, draft, title, base…) in
// place; head and base SHAs follow the branches anyway.
func (s *Server) UpdatePullRequest(owner, repo string, number int, edit func(*PullRequest)) PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.pulls[prKey(owner+"/"+repo, number)]
	if pr == nil {
		s.fatalf("UpdatePullRequest: no pull request %s/%s#%d", owner, repo, number)
		return PullRequest{}
	}
	edit(&pr.PullRequest)
	pr.Updated = s.now()
	s.refreshPRLocked(pr)
	return pr.PullRequest
}

// GetPullRequest returns a pull request as it is now.
func (s *Server) GetPullRequest(owner, repo string, number int) (PullRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.pulls[prKey(owner+"/"+repo, number)]
	if pr == nil {
		return PullRequest{}, false
	}
	s.refreshPRLocked(pr)
	return pr.PullRequest, true
}

func prKey(fullName string, number int) string {
	return fmt.Sprintf("%s#%d", strings.ToLower(fullName), number)
}

// refreshPRLocked makes the head and base SHAs follow their branches while
// the PR is open, as GitHub does.
func (s *Server) refreshPRLocked(pr *prState) {
	if pr.State != "open" && pr.HeadSHA != "" {
		return
	}
	if sha := pr.head.Refs["refs/heads/"+pr.Head]; sha != "" {
		pr.HeadSHA = sha
	}
	if sha := pr.base.Refs["refs/heads/"+pr.Base]; sha != "" {
		pr.BaseSHA = sha
	}
}

// AddIssue creates a plain issue number (so comments can be posted on it).
func (s *Server) AddIssue(owner, repo string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(owner, repo)
	if r == nil {
		s.fatalf("AddIssue: no repository %s/%s", owner, repo)
		return 0
	}
	s.issueSeq[r.ID]++
	n := s.issueSeq[r.ID]
	s.issues[prKey(r.fullName(), n)] = true
	s.issueData[prKey(r.fullName(), n)] = &Issue{Owner: r.Owner.Login, Repo: r.Name, Number: n, Title: fmt.Sprintf("Issue %d", n),
		User: "octocat", State: "open", ID: stableID("issue", prKey(r.fullName(), n)), Created: s.now(), Updated: s.now()}
	return n
}

// AddComment posts a comment as a user (for issue_comment events).
func (s *Server) AddComment(owner, repo string, number int, user, body string) Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &Comment{
		ID: s.nextID(), Owner: owner, Repo: repo, Number: number,
		User: user, Body: body, Created: s.now(), Updated: s.now(),
	}
	s.accountLocked(user)
	s.comments = append(s.comments, c)
	return *c
}

// ---- assertions ----

// CheckRuns returns the check runs on a commit, oldest first.
func (s *Server) CheckRuns(owner, repo, sha string) []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckRun
	for _, cr := range s.checkRuns {
		if strings.EqualFold(cr.Owner, owner) && strings.EqualFold(cr.Repo, repo) && cr.HeadSHA == sha {
			out = append(out, copyCheckRun(cr))
		}
	}
	return out
}

// CheckRun returns the latest check run with a name on a commit.
func (s *Server) CheckRun(owner, repo, sha, name string) (CheckRun, bool) {
	runs := s.CheckRuns(owner, repo, sha)
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].Name == name {
			return runs[i], true
		}
	}
	return CheckRun{}, false
}

func copyCheckRun(cr *CheckRun) CheckRun {
	c := *cr
	c.Output.Annotations = append([]Annotation(nil), cr.Output.Annotations...)
	c.Actions = append([]CheckRunAction(nil), cr.Actions...)
	return c
}

// CheckSuites returns the check suites on a commit.
func (s *Server) CheckSuites(owner, repo, sha string) []CheckSuite {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckSuite
	for _, cs := range s.checkSuites {
		if strings.EqualFold(cs.Owner, owner) && strings.EqualFold(cs.Repo, repo) && cs.HeadSHA == sha {
			out = append(out, *cs)
		}
	}
	return out
}

// Comments returns the comments on an issue or pull request, oldest first.
func (s *Server) Comments(owner, repo string, number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if strings.EqualFold(c.Owner, owner) && strings.EqualFold(c.Repo, repo) && c.Number == number {
			cp := *c
			cp.Reactions = append([]Reaction(nil), c.Reactions...)
			out = append(out, cp)
		}
	}
	return out
}

// ---- lookups (callers hold mu) ----

func (s *Server) repoLocked(owner, name string) *repoState {
	return s.repos[strings.ToLower(owner+"/"+name)]
}

// resolveLocked turns a ref (a full or abbreviated SHA, a branch name,
// "heads/x" or "refs/heads/x") into a commit SHA of the repository.
func (s *Server) resolveLocked(r *repoState, ref string) string {
	if ref == "" {
		ref = r.DefaultBranch
	}
	for _, candidate := range []string{ref, "refs/" + ref, "refs/heads/" + ref, "refs/tags/" + ref} {
		if sha := r.Refs[candidate]; sha != "" {
			return sha
		}
	}
	if len(ref) == 40 && s.objects.commits[strings.ToLower(ref)] != nil {
		return strings.ToLower(ref)
	}
	// Abbreviated SHAs, as GitHub accepts them (at least 7 hex digits).
	if len(ref) >= 7 && len(ref) < 40 && isHex(ref) {
		var found string
		for sha := range s.objects.commits {
			if strings.HasPrefix(sha, strings.ToLower(ref)) {
				if found != "" {
					return "" // ambiguous
				}
				found = sha
			}
		}
		return found
	}
	return ""
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// installationForRepoLocked finds the installation that covers a repository.
func (s *Server) installationForRepoLocked(r *repoState) *installationState {
	ids := make([]int64, 0, len(s.installations))
	for id := range s.installations {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if inst := s.installations[id]; inst.covers(r) {
			return inst
		}
	}
	return nil
}

func (inst *installationState) covers(r *repoState) bool {
	if inst.All {
		return strings.EqualFold(inst.Account.Login, r.Owner.Login)
	}
	return inst.Repos[r.ID]
}

func (s *Server) reposOfLocked(inst *installationState) []*repoState {
	var out []*repoState
	for _, r := range s.repos {
		if inst.covers(r) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].fullName() < out[j].fullName() })
	return out
}

func (s *Server) diffCommitsLocked(base, head string) []fileChange {
	return s.objects.diffCommits(base, head, s.cfg.maxPatch)
}

func (s *Server) sortedPullsLocked() []*prState {
	out := make([]*prState, 0, len(s.pulls))
	for _, pr := range s.pulls {
		out = append(out, pr)
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := out[i].base.fullName(), out[j].base.fullName(); a != b {
			return a < b
		}
		return out[i].Number < out[j].Number
	})
	return out
}

// Issue is an issue (not a pull request) as set up by AddIssue or created
// through the API.
type Issue struct {
	Owner, Repo string
	Number      int
	ID          int64
	Title, Body string
	User        string // author login; the App's "<slug>[bot]" when it created it
	ViaApp      bool
	State       string // open or closed
	StateReason string
	Created     time.Time
	Updated     time.Time
}

// Issues lists a repository's issues (not pull requests) in number order.
func (s *Server) Issues(owner, repo string) []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Issue
	for _, is := range s.issueData {
		if strings.EqualFold(is.Owner+"/"+is.Repo, owner+"/"+repo) {
			out = append(out, *is)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// EditIssue changes an issue as a user would in the web UI (body, state);
// the returned previous body is what an issues.edited event reports.
func (s *Server) EditIssue(owner, repo string, number int, edit func(*Issue)) (before Issue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.issueData[prKey(owner+"/"+repo, number)]
	if is == nil {
		s.fatalf("EditIssue: no issue %s/%s#%d", owner, repo, number)
		return Issue{}
	}
	before = *is
	edit(is)
	is.Updated = s.now()
	return before
}

// PullRequests lists a repository's pull requests in number order.
func (s *Server) PullRequests(owner, repo string) []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []PullRequest
	for _, pr := range s.sortedPullsLocked() {
		if strings.EqualFold(pr.base.fullName(), owner+"/"+repo) {
			s.refreshPRLocked(pr)
			out = append(out, pr.PullRequest)
		}
	}
	return out
}

// Commits lists the commits reachable from sha that are not reachable from
// base ("" for all), newest first: who wrote a branch.
func (s *Server) Commits(base, sha string) []NewCommit {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []NewCommit
	for _, c := range s.objects.commitsBetween(base, sha) {
		out = append(out, NewCommit{Parents: c.Parents, Message: c.Message, Author: c.Author.Name, Time: c.Author.When})
	}
	return out
}

// Repos lists the names of an account's repositories, sorted.
func (s *Server) Repos(owner string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.repos {
		if strings.EqualFold(r.Owner.Login, owner) {
			out = append(out, r.Name)
		}
	}
	sort.Strings(out)
	return out
}

// SetInstallationPermissions changes what an installation was granted (an
// owner accepting new permissions).
func (s *Server) SetInstallationPermissions(id int64, perms map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inst := s.installations[id]; inst != nil {
		inst.Permissions = perms
	}
}
