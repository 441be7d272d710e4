package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/app"
	"github.com/housekeeper-app/housekeeper/internal/githubtest"
	"github.com/housekeeper-app/housekeeper/internal/metrics"
	"github.com/housekeeper-app/housekeeper/internal/server"
)

// The sample repository and pull request.
const (
	owner, repo = "acme", "infra"
	branch      = "add-deploy-script"
	leakPath    = "tools/deploy.sh"
	leakLine    = 4 // the line of leakPath holding the token
)

// The two checks, in the order they are shown.
var checkNames = []string{"housekeeper/dirs", "housekeeper/secrets"}

// demoMap is the repository's directory map (docs/dir.md).
const demoMap = `# Directory map

| Path         | Function                   | Layer | Namespace |
|--------------|----------------------------|-------|-----------|
| ` + "`infra/`" + `     | Terraform for the platform | L1    | -         |
| ` + "`apps/`" + `      | Applications               | L99   | -         |
| ` + "`apps/api/`" + `  | Public API                 | L99   | api       |
| ` + "`docs/`" + `      | Documentation              | -     | -         |
`

// newToken makes the leaked token; tests wrap it to learn the value.
var newToken = fakeToken

// fakeToken builds a GitHub-token-shaped string from random bytes at run
// time, so nothing that looks like a real token is committed.
func fakeToken() (string, error) {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := []byte("gh" + "p_")
	for range 36 {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alnum))))
		if err != nil {
			return "", fmt.Errorf("random token: %w", err)
		}
		b = append(b, alnum[n.Int64()])
	}
	return string(b), nil
}

// runWith runs the demo; the server's logs go to logs.
func runWith(ctx context.Context, stdout, logs io.Writer) error {
	start := time.Now()
	token, err := newToken()
	if err != nil {
		return err
	}

	gh, err := githubtest.NewServer()
	if err != nil {
		return fmt.Errorf("start the GitHub emulator: %w", err)
	}
	defer gh.Close()

	// The real server, configured as an operator would, through settings.
	env := map[string]string{
		"GITHUB_APP_INTEGRATION_ID": strconv.FormatInt(gh.AppID(), 10),
		"GITHUB_APP_PRIVATE_KEY":    string(gh.AppPrivateKeyPEM()),
		"GITHUB_APP_WEBHOOK_SECRET": gh.WebhookSecret(),
		"GITHUB_V3_API_URL":         gh.URL + "/",
		"GITHUB_WEB_URL":            gh.URL + "/",
		"HOUSEKEEPER_ADDR":          "127.0.0.1:0",
		"HOUSEKEEPER_CONTENT_PACE":  "0",
		"HOUSEKEEPER_LOG_FORMAT":    "text",
	}
	cfg, err := server.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	logger := server.NewLogger(cfg, logs)
	m := metrics.New("demo")
	cc, err := server.NewClientCreator(cfg, m, "demo", nil)
	if err != nil {
		return err
	}
	hs := app.Handlers(server.Deps{
		Config: cfg, Logger: logger, Metrics: m, ClientCreator: cc,
		WebhookSecret: cfg.WebhookSecret.Bytes(), ContentPace: cfg.ContentPace,
	})
	srv, err := server.New(cfg, logger, m, hs...)
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Run(sctx) }()
	defer func() {
		stop()
		<-served
	}()
	base := "http://" + srv.Addr().String()

	// The repository: a map, and a pull request that breaks both rules.
	gh.AddOrg(owner)
	gh.AddRepo(githubtest.Repo{Owner: owner, Name: repo})
	gh.AddInstallation(githubtest.Installation{Account: owner, Repos: []string{owner + "/" + repo}})
	gh.Push(owner, repo, "main", map[string]string{
		"README.md":        "# infra\n",
		"docs/dir.md":      demoMap,
		"infra/main.tf":    "terraform {\n  required_version = \">= 1.6\"\n}\n",
		"apps/api/main.go": "package main\n\nfunc main() {}\n",
	})
	gh.SetBranch(owner, repo, branch, gh.Branch(owner, repo, "main"))
	gh.Push(owner, repo, branch, map[string]string{
		leakPath: "#!/bin/sh\n# Deploys the API.\nset -eu\nexport GITHUB_TOKEN=" + token + "\nkubectl apply -f apps/api/\n",
	})
	pr := gh.OpenPullRequest(githubtest.PullRequest{Owner: owner, Repo: repo, Head: branch, Title: "Add a deploy script"})

	gh.SetWebhook(base+server.HookPath, gh.WebhookSecret())
	d, err := gh.Send(ctx, "pull_request", gh.PullRequestEvent("opened", owner+"/"+repo, pr.Number))
	if err != nil {
		return fmt.Errorf("deliver pull_request: %w", err)
	}
	if d.StatusCode != http.StatusAccepted {
		return fmt.Errorf("deliver pull_request: the server answered %d, want 202", d.StatusCode)
	}

	runs, err := waitRuns(ctx, gh, pr.HeadSHA)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "Housekeeper demo: %s/%s pull request #%d %q (%s → main)\n", owner, repo, pr.Number, pr.Title, branch)
	fmt.Fprintf(stdout, "It adds %s: a directory the map does not list, and a GitHub token on line %d.\n", leakPath, leakLine)
	fmt.Fprintf(stdout, "GitHub emulated at %s; housekeeper serve at %s answered the signed pull_request event with %d.\n",
		gh.URL, base, d.StatusCode)
	failed := 0
	for _, name := range checkNames {
		r := runs[name]
		printRun(stdout, r)
		if r.Conclusion == "failure" {
			failed++
		}
	}
	fmt.Fprintln(stdout)
	if failed != len(checkNames) {
		return fmt.Errorf("%d of %d checks failed; the demo expects both to fail", failed, len(checkNames))
	}
	fmt.Fprintf(stdout, "Both checks failed, as expected (%.1fs).\n", time.Since(start).Seconds())
	return nil
}

// waitRuns waits until both check runs on sha are completed.
func waitRuns(ctx context.Context, gh *githubtest.Server, sha string) (map[string]githubtest.CheckRun, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		runs := map[string]githubtest.CheckRun{}
		done := 0
		for _, r := range gh.CheckRuns(owner, repo, sha) {
			runs[r.Name] = r
			if r.Status == "completed" {
				done++
			}
		}
		if done == len(checkNames) && len(runs) == len(checkNames) {
			return runs, nil
		}
		select {
		case <-ctx.Done():
			var states []string
			for _, r := range runs {
				states = append(states, r.Name+": "+r.Status)
			}
			sort.Strings(states)
			return nil, errors.Join(fmt.Errorf("the check runs did not complete (%s)", strings.Join(states, ", ")), ctx.Err())
		case <-tick.C:
		}
	}
}

// printRun shows a check run as GitHub's Checks tab does: name and
// conclusion, title, the summary, then the annotations.
func printRun(w io.Writer, r githubtest.CheckRun) {
	mark := "✓"
	if r.Conclusion != "success" {
		mark = "✗"
	}
	fmt.Fprintf(w, "\n%s %s — %s\n", mark, r.Name, r.Conclusion)
	fmt.Fprintf(w, "  %s\n\n", r.Output.Title)
	for _, line := range strings.Split(strings.TrimRight(markdownText(r.Output.Summary), "\n"), "\n") {
		if line == "" {
			fmt.Fprintln(w)
			continue
		}
		fmt.Fprintf(w, "    %s\n", line)
	}
	if len(r.Output.Annotations) == 0 {
		return
	}
	fmt.Fprintf(w, "\n  Annotations (%d):\n", len(r.Output.Annotations))
	for _, a := range r.Output.Annotations {
		title := ""
		if a.Title != "" {
			title = a.Title + ": "
		}
		fmt.Fprintf(w, "    %s:%d %s  %s%s\n", a.Path, a.StartLine, a.AnnotationLevel, title, oneLine(a.Message))
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
