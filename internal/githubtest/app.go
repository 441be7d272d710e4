package githubtest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// handlers maps each implemented operationId to its handler. Every key is
// an operation of the embedded description (a test checks it); valid
// requests to other operations answer 501 and are recorded as violations.
var handlers = map[string]func(*call){}

func init() {
	for id, h := range map[string]func(*call){
		"apps/get-authenticated":                          handleGetApp,
		"apps/create-from-manifest":                       handleManifestConversion,
		"apps/list-webhook-deliveries":                    handleListDeliveries,
		"apps/get-webhook-delivery":                       handleGetDelivery,
		"apps/redeliver-webhook-delivery":                 handleRedeliver,
		"apps/list-installations":                         handleListInstallations,
		"apps/create-installation-access-token":           handleCreateToken,
		"apps/list-repos-accessible-to-installation":      handleInstallationRepos,
		"apps/get-org-installation":                       handleOrgInstallation,
		"apps/get-repo-installation":                      handleRepoInstallation,
		"rate-limit/get":                                  handleRateLimit,
		"repos/get":                                       handleGetRepo,
		"repos/get-branch":                                handleGetBranch,
		"repos/get-collaborator-permission-level":         handleCollaboratorPermission,
		"repos/get-content":                               handleGetContent,
		"repos/create-or-update-file-contents":            handlePutContent,
		"repos/get-commit":                                handleGetCommit,
		"repos/list-pull-requests-associated-with-commit": handleCommitPulls,
		"repos/compare-commits-with-basehead":             handleCompare,
		"repos/download-tarball-archive":                  handleTarball,
		"git/create-blob":                                 handleCreateBlob,
		"git/get-blob":                                    handleGetBlob,
		"git/create-tree":                                 handleCreateTree,
		"git/get-tree":                                    handleGetTree,
		"git/create-commit":                               handleCreateGitCommit,
		"git/update-ref":                                  handleUpdateRef,
		"git/get-ref":                                     handleGetRef,
		"git/create-ref":                                  handleCreateRef,
		"git/delete-ref":                                  handleDeleteRef,
		"pulls/list":                                      handleListPulls,
		"pulls/create":                                    handleCreatePull,
		"issues/list-for-repo":                            handleListIssues,
		"issues/create":                                   handleCreateIssue,
		"issues/get":                                      handleGetIssue,
		"issues/update":                                   handleUpdateIssue,
		"repos/list-for-org":                              handleListOrgRepos,
		"pulls/get":                                       handleGetPull,
		"pulls/list-commits":                              handlePullCommits,
		"pulls/list-files":                                handlePullFiles,
		"checks/create":                                   handleCreateCheckRun,
		"checks/get":                                      handleGetCheckRun,
		"checks/update":                                   handleUpdateCheckRun,
		"checks/list-annotations":                         handleListAnnotations,
		"checks/list-for-ref":                             handleListCheckRunsForRef,
		"checks/rerequest-suite":                          handleRerequestSuite,
		"issues/list-comments":                            handleListComments,
		"issues/create-comment":                           handleCreateComment,
		"issues/get-comment":                              handleGetComment,
		"issues/update-comment":                           handleUpdateComment,
		"reactions/create-for-issue-comment":              handleCreateReaction,
	} {
		handlers[id] = h
	}
}

// ImplementedOperations lists the operationIds the emulator answers.
func ImplementedOperations() []string {
	ids := make([]string, 0, len(handlers))
	for id := range handlers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func handleGetApp(c *call) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.json(http.StatusOK, c.rd().app())
}

// ManifestCode registers a one-time code for the App-manifest flow, as
// GitHub hands one to the setup callback; POST
// /app-manifests/{code}/conversions exchanges it for the App's credentials.
func (s *Server) ManifestCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := randomToken("", 20)
	s.manifestCodes[code] = true
	return code
}

func handleManifestConversion(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	code := c.param("code")
	if !s.manifestCodes[code] {
		c.notFound()
		return
	}
	delete(s.manifestCodes, code) // codes are single use
	app := c.rd().app()
	app["client_secret"] = randomToken("", 40)
	app["webhook_secret"] = s.webhookSecret
	app["pem"] = string(s.AppPrivateKeyPEM())
	c.json(http.StatusCreated, app)
}

func handleListInstallations(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, len(s.installations))
	for id := range s.installations {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	from, to := c.page(len(ids))
	out := []obj{}
	for _, id := range ids[from:to] {
		out = append(out, c.rd().installation(s.installations[id]))
	}
	c.json(http.StatusOK, out)
}

// tokenRequest is the optional body of an access token request.
type tokenRequest struct {
	Repositories  []string          `json:"repositories"`
	RepositoryIDs []int64           `json:"repository_ids"`
	Permissions   map[string]string `json:"permissions"`
}

func handleCreateToken(c *call) {
	var req tokenRequest
	if !c.decode(&req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.installations[c.paramInt("installation_id")]
	if inst == nil {
		c.notFound()
		return
	}
	if inst.Suspended {
		c.fail(http.StatusForbidden, "This installation has been suspended")
		return
	}
	repos := []obj{}
	for _, r := range s.reposOfLocked(inst) {
		repos = append(repos, c.rd().repo(r, false))
	}
	tok, exp := s.issueTokenLocked(inst)
	selection := "selected"
	if inst.All {
		selection = "all"
	}
	answer := obj{
		"token":                tok,
		"expires_at":           ts(exp),
		"permissions":          inst.Permissions,
		"repository_selection": selection,
	}
	if len(req.Repositories) > 0 || len(req.RepositoryIDs) > 0 || !inst.All {
		answer["repositories"] = repos
	}
	c.json(http.StatusCreated, answer)
}

func handleInstallationRepos(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	repos := s.reposOfLocked(c.cred.inst)
	from, to := c.page(len(repos))
	out := []obj{}
	for _, r := range repos[from:to] {
		out = append(out, c.rd().repo(r, false))
	}
	selection := "selected"
	if c.cred.inst.All {
		selection = "all"
	}
	c.json(http.StatusOK, obj{"total_count": len(repos), "repositories": out, "repository_selection": selection})
}

func handleOrgInstallation(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, inst := range s.installations {
		if strings.EqualFold(inst.Account.Login, c.param("org")) && inst.Account.Type == "Organization" {
			c.json(http.StatusOK, c.rd().installation(inst))
			return
		}
	}
	c.notFound()
}

func handleRepoInstallation(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(c.param("owner"), c.param("repo"))
	if r == nil {
		c.notFound()
		return
	}
	if inst := s.installationForRepoLocked(r); inst != nil {
		c.json(http.StatusOK, c.rd().installation(inst))
		return
	}
	c.notFound()
}

func handleRateLimit(c *call) {
	h := c.w.Header()
	limit, _ := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	used, _ := strconv.Atoi(h.Get("X-RateLimit-Used"))
	reset, _ := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	core := obj{"limit": limit, "used": used, "remaining": max(0, limit-used), "reset": reset, "resource": "core"}
	other := func(n int) obj {
		return obj{"limit": n, "used": 0, "remaining": n, "reset": reset}
	}
	c.json(http.StatusOK, obj{
		"resources": obj{
			"core":                 core,
			"search":               other(30),
			"graphql":              other(5000),
			"integration_manifest": other(5000),
			"code_search":          other(10),
		},
		"rate": core,
	})
}

func handleCollaboratorPermission(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(c.param("owner"), c.param("repo"))
	login := c.param("username")
	a := s.accounts[strings.ToLower(login)]
	if a == nil {
		c.fail(http.StatusNotFound, fmt.Sprintf("%s is not a user", login))
		return
	}
	p, ok := r.Perms[strings.ToLower(login)]
	if !ok {
		// Not a collaborator: anyone can read a public repository.
		p = Permission{Permission: "none", RoleName: "none"}
		if !r.Private {
			p = Permission{Permission: "read", RoleName: "read"}
		}
	}
	u := c.rd().user(a)
	u["role_name"] = p.RoleName
	u["permissions"] = obj{
		"admin":    p.Permission == "admin",
		"maintain": p.RoleName == "maintain" || p.Permission == "admin",
		"push":     p.Permission == "admin" || p.Permission == "write",
		"triage":   p.Permission != "none" && p.RoleName != "read",
		"pull":     p.Permission != "none",
	}
	c.json(http.StatusOK, obj{"permission": p.Permission, "role_name": p.RoleName, "user": u})
}
