package githubtest_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

func TestEveryHandlerIsAnOperationOfTheDescription(t *testing.T) {
	ops, err := githubtest.Operations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 50 {
		t.Errorf("%d operations in the description, want 50", len(ops))
	}
	ids, err := githubtest.OperationIDs()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, id := range ids {
		known[id] = true
	}
	for _, id := range githubtest.ImplementedOperations() {
		if !known[id] {
			t.Errorf("handler for %s, which is not in the description", id)
		}
	}
	if len(githubtest.ImplementedOperations()) != len(ids) {
		t.Logf("implemented %d of %d operations", len(githubtest.ImplementedOperations()), len(ids))
	}
}

// do sends a raw request and returns the status.
func do(t *testing.T, s *githubtest.Server, method, path, auth, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestRequestsAreValidatedAgainstTheDescription(t *testing.T) {
	f := newFixture(t)
	s := f.s
	tok := "token " + s.InstallationToken(f.inst)
	jwt := "Bearer " + s.AppJWT()
	cases := []struct {
		name, method, path, auth, body string
		status                         int
		kind                           string // expected violation kind, "" for none
	}{
		{"unknown path", "GET", "/repos/acme/infra/pulls/1/reviews", tok, "", 404, "no-operation"},
		{"wrong method", "DELETE", "/repos/acme/infra/check-runs/1", tok, "", 404, "no-operation"},
		{"body missing name", "POST", "/repos/acme/infra/check-runs", tok, `{"head_sha":"` + f.head + `"}`, 422, "invalid-request"},
		{"invalid conclusion", "POST", "/repos/acme/infra/check-runs", tok, `{"name":"x","head_sha":"` + f.head + `","conclusion":"passed"}`, 422, "invalid-request"},
		{"bad query", "GET", "/repos/acme/infra/pulls/1/files?per_page=abc", tok, "", 422, "invalid-request"},
		{"no credentials", "GET", "/repos/acme/infra", "", "", 401, "auth"},
		{"token on an App endpoint", "GET", "/app/installations", tok, "", 401, "auth"},
		{"JWT on a repository endpoint", "GET", "/repos/acme/infra", jwt, "", 403, "auth"},
		{"forged JWT", "GET", "/app", "Bearer " + forgedJWT(t, s), "", 401, "auth"},
		{"unknown token", "GET", "/repos/acme/infra", "token ghs_nope", "", 401, ""},
		{"repository outside the installation", "GET", "/repos/acme/other", tok, "", 404, ""},
		{"GHE prefix", "GET", "/api/v3/repos/acme/infra", tok, "", 200, ""},
		{"manifest conversion needs no auth", "POST", "/app-manifests/nope/conversions", "", "", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := do(t, s, tc.method, tc.path, tc.auth, tc.body); got != tc.status {
				t.Errorf("status %d, want %d", got, tc.status)
			}
			v := s.TakeViolations()
			switch {
			case tc.kind == "" && len(v) != 0:
				t.Errorf("unexpected violations %v", v)
			case tc.kind != "" && (len(v) != 1 || v[0].Kind != tc.kind):
				t.Errorf("violations %v, want one %s", v, tc.kind)
			}
		})
	}
}

// forgedJWT is signed by another key.
func forgedJWT(t *testing.T, s *githubtest.Server) string {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	other := githubtest.New(t, githubtest.WithAppKey(key))
	return other.AppJWT()
}

func TestEnterpriseURLsAndInstallationEndpoints(t *testing.T) {
	f := newFixture(t)
	s := f.s
	itr, err := ghinstallation.New(http.DefaultTransport, s.AppID(), f.inst, s.AppPrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	itr.BaseURL = s.URL + "/api/v3"
	c, err := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(s.URL+"/api/v3/", s.URL+"/api/uploads/")
	if err != nil {
		t.Fatal(err)
	}
	pr := must[*github.PullRequest](t)(c.PullRequests.Get(ctx, "acme", "infra", f.prNum))
	if !strings.HasPrefix(pr.GetURL(), s.URL+"/api/v3/repos/") {
		t.Errorf("URLs inside answers keep the /api/v3 prefix: %s", pr.GetURL())
	}
	repos := must[*github.ListRepositories](t)(c.Apps.ListRepos(ctx, nil))
	if repos.GetTotalCount() != 1 || repos.Repositories[0].GetFullName() != "acme/infra" {
		t.Errorf("installation repositories: %v", repos)
	}

	app := appClient(t, s)
	insts := must[[]*github.Installation](t)(app.Apps.ListInstallations(ctx, nil))
	if len(insts) != 1 || insts[0].GetID() != f.inst || insts[0].GetAccount().GetLogin() != "acme" {
		t.Errorf("installations: %v", insts)
	}
	if got := must[*github.Installation](t)(app.Apps.FindRepositoryInstallation(ctx, "acme", "infra")); got.GetID() != f.inst {
		t.Errorf("repo installation %d", got.GetID())
	}
	if got := must[*github.Installation](t)(app.Apps.FindOrganizationInstallation(ctx, "acme")); got.GetID() != f.inst {
		t.Errorf("org installation %d", got.GetID())
	}
	if got := must[*github.App](t)(app.Apps.Get(ctx, "")); got.GetSlug() != "housekeeper" {
		t.Errorf("app %v", got)
	}

	calls := s.Calls()
	if calls.ByInstallation[f.inst] < 2 || calls.Count("POST /app/installations/{installation_id}/access_tokens") < 1 ||
		calls.Count("GET /app/installations") != 1 {
		t.Errorf("calls %v", calls.ByOperation)
	}
}

func TestRawRequestBodyNull(t *testing.T) {
	// ghinstallation posts "null" when it has no token options.
	s := githubtest.New(t)
	s.AddRepo(githubtest.Repo{Owner: "o", Name: "r"})
	inst := s.AddInstallation(githubtest.Installation{Account: "o", All: true})
	req, _ := http.NewRequest("POST", s.URL+"/app/installations/"+strconv.FormatInt(inst, 10)+"/access_tokens", bytes.NewReader([]byte("null")))
	req.Header.Set("Authorization", "Bearer "+s.AppJWT())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("%v %v", resp, err)
	}
	resp.Body.Close()
}
