package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/reliability"
)

// Issue 10 item 5 and issue 11 problem 6, end to end: when the tarball
// download fails, the run fails closed saying why, and neither its summary
// nor a log line holds the pre-signed URL's token; the download never
// carries the installation token.
func TestTarballFailureShowsNoToken(t *testing.T) {
	gh := githubtest.New(t, githubtest.WithTreeLimit(50))
	f := reliability.NewFixture(gh, 0, 0)
	files := map[string]string{}
	for i := range 60 {
		files["apps/huge/f"+strconv.Itoa(i)+".txt"] = "x\n"
	}
	gh.Push("acme", "infra", "main", files)
	gh.SetBranch("acme", "infra", "big", gh.Branch("acme", "infra", "main"))
	gh.Push("acme", "infra", "big", map[string]string{"apps/new/main.go": "package main\n"})
	pr := gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: "big"})
	f.PRs = append(f.PRs, pr)

	// GitHub's API in front of the emulator; its download host (here the
	// same host, as on GitHub Enterprise Server) drops every connection.
	target, _ := url.Parse(gh.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	var front *httptest.Server
	var downloads, withAuth atomic.Int64
	rp.ModifyResponse = func(r *http.Response) error {
		if loc := r.Header.Get("Location"); loc != "" {
			r.Header.Set("Location", strings.Replace(loc, gh.URL, front.URL, 1))
		}
		return nil
	}
	front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_codeload/") {
			downloads.Add(1)
			if r.Header.Get("Authorization") != "" {
				withAuth.Add(1)
			}
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer front.Close()

	app := serveWith(t, reliability.Env(gh, front.URL, nil))
	gh.SetWebhook(app.base+"/api/github/hook", gh.WebhookSecret())
	sent := reliability.Send(context.Background(), gh, []reliability.Event{{Name: "pull_request", Body: gh.PullRequestEvent("opened", "acme/infra", pr.Number), SHA: pr.HeadSHA}}, 1)
	report(t, reliability.WaitSettled(context.Background(), f, sent, 30*time.Second), "tarball download fails")
	if downloads.Load() == 0 {
		t.Fatal("the tarball was never downloaded: the test does not exercise it")
	}
	if n := withAuth.Load(); n > 0 {
		t.Errorf("%d of %d downloads carried an Authorization header", n, downloads.Load())
	}
	runs := gh.CheckRuns("acme", "infra", pr.HeadSHA)
	if len(runs) == 0 {
		t.Fatal("no check run")
	}
	for _, r := range runs {
		text := r.Output.Title + r.Output.Summary + r.Output.Text
		if r.Conclusion != "failure" || !strings.Contains(text, "tarball") {
			t.Errorf("%s: %s %q, want a failure naming the tarball:\n%s", r.Name, r.Conclusion, r.Output.Title, r.Output.Summary)
		}
		if strings.Contains(text, "token=") || strings.Contains(text, "_codeload/acme/infra/legacy.tar.gz/big?") {
			t.Errorf("%s shows the download token:\n%s", r.Name, r.Output.Summary)
		}
	}
	if logs := app.stderr.String(); strings.Contains(logs, "token=") {
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, "token=") {
				t.Errorf("a log line shows the download token: %s", l)
			}
		}
	}
}
