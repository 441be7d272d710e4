package handlers_test

import (
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

// Files whose patch GitHub omits are streamed from their blob and scanned
// whole up to max_file_size (100 MiB by default); a text file that is not
// scanned fails the run, in the run's title, summary and annotations; a
// binary file is counted, and does not fail it (issue 10, items 1–2).
func TestForkPRFilesWithoutPatch(t *testing.T) {
	tok := fakeGitHubTok(11)
	big := strings.Repeat("INSERT INTO t VALUES (1, 'row of an ordinary dump');\n", 12<<20/52) + "-- " + tok + "\n"
	lines := strings.Count(big, "\n")
	tests := map[string]struct {
		config     string // the base's .github/housekeeper.yml
		files      map[string]string
		then       map[string]string // a second commit
		conclusion string
		annotation string // "path:line:title" of the one failing annotation
		summary    []string
	}{
		"12 MiB dump ending in a token is scanned": {
			files:      map[string]string{"apps/web/dump.sql": big},
			conclusion: "failure",
			annotation: "apps/web/dump.sql:" + itoa(lines) + ":github-pat (bootstrap)",
		},
		"found in an earlier commit, located at the head": {
			files:      map[string]string{"apps/web/dump.sql": big},
			then:       map[string]string{"apps/web/main.go": "package main // v2\n"},
			conclusion: "failure",
			annotation: "apps/web/dump.sql:" + itoa(lines) + ":github-pat (bootstrap)",
		},
		"over max_file_size: not scanned, failing": {
			config:     "version: 1\nsecrets:\n  max_file_size: 1MiB\n",
			files:      map[string]string{"apps/web/dump.sql": big},
			conclusion: "failure",
			annotation: "apps/web/dump.sql:1:not-scanned",
			summary:    []string{"### Not scanned", `larger than max\_file\_size (1MiB)`},
		},
		"over max_file_size but excluded": {
			config:     "version: 1\nsecrets:\n  max_file_size: 1MiB\n  exclude_paths: [\"**/*.sql\"]\n",
			files:      map[string]string{"apps/web/dump.sql": big},
			conclusion: "success",
		},
		"binary file: counted, not failing": {
			files:      map[string]string{"apps/web/logo.png": "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + strings.Repeat("\x00x", 300<<10) + tok},
			conclusion: "success",
			summary:    []string{"1 binary file was not content-scanned"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			if tc.config != "" {
				f.gh.Push("acme", "infra", "main", map[string]string{".github/housekeeper.yml": tc.config})
			}
			f.gh.AddRepo(githubtest.Repo{Owner: "outsider", Name: "infra", ForkOf: "acme/infra"})
			f.gh.SetBranch("outsider", "infra", "feature", f.gh.Branch("acme", "infra", "main"))
			f.gh.Push("outsider", "infra", "feature", tc.files)
			if tc.then != nil {
				f.gh.Push("outsider", "infra", "feature", tc.then)
			}
			pr := f.gh.OpenPullRequest(githubtest.PullRequest{Owner: "acme", Repo: "infra", Head: "feature", HeadRepo: "outsider/infra"})
			if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, pr.Number)); err != nil {
				t.Fatal(err)
			}
			run := f.runs(pr.HeadSHA)["housekeeper/secrets"]
			if run.Conclusion != tc.conclusion {
				t.Fatalf("conclusion %s, want %s: %s\n%s", run.Conclusion, tc.conclusion, run.Output.Title, run.Output.Summary)
			}
			var failing []string
			for _, a := range run.Output.Annotations {
				if a.AnnotationLevel == "failure" {
					failing = append(failing, a.Path+":"+itoa(a.StartLine)+":"+a.Title)
				}
			}
			if want := tc.annotation; (want == "" && len(failing) > 0) || (want != "" && (len(failing) != 1 || failing[0] != want)) {
				t.Errorf("failing annotations %q, want %q\n%s", failing, want, run.Output.Summary)
			}
			for _, s := range tc.summary {
				if !strings.Contains(run.Output.Summary, s) {
					t.Errorf("summary lacks %q:\n%s", s, run.Output.Summary)
				}
			}
			if strings.Contains(run.Output.Summary, tok[4:]) {
				t.Error("the summary shows the token")
			}
		})
	}
}

func fakeGitHubTok(seed int64) string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := []byte("gh" + "p_")
	x := uint64(seed)*0x9E3779B97F4A7C15 + 1
	for range 36 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b = append(b, alnum[x%uint64(len(alnum))])
	}
	return string(b)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
