package main

import (
	"encoding/json"
	"maps"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// planted builds fake credentials at run time from a fixed seed, so no
// real-looking secret is committed and golden files stay stable.
type planted struct {
	awsKey, ghToken, slackHook, dbPass, k8sValue string
}

func plant(seed int64) planted {
	r := rand.New(rand.NewSource(seed))
	pick := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.Intn(len(alphabet))]
		}
		return string(b)
	}
	const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	return planted{
		awsKey:    "AK" + "IA" + pick(upper, 16),
		ghToken:   "gh" + "p_" + pick(alnum, 36),
		slackHook: "https://hooks.slack.com/services/T" + pick(upper, 8) + "/B" + pick(upper, 8) + "/" + pick(alnum, 24),
		dbPass:    pick(alnum, 20),
		k8sValue:  pick(alnum, 24),
	}
}

// values are the secret parts (a Slack webhook's secret is its path).
func (p planted) values() []string {
	_, hook, _ := strings.Cut(p.slackHook, "/services/")
	return []string{p.awsKey, p.ghToken, hook, p.dbPass, p.k8sValue}
}

// secretsScenario commits a clean base, then a change whose first commit
// leaks what its second commit half removes.
func secretsScenario(t *testing.T, p planted) *repo {
	r := newRepo(t)
	r.commit("base", baseFiles)
	r.git("checkout", "-q", "-b", "change")
	r.commit("add config", map[string]string{
		"infra/envs/prod/creds.tf":     "provider \"aws\" {\n  access_key = \"" + p.awsKey + "\"\n}\n",
		"platform/ingress/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  api-key: " + p.k8sValue + "\n",
		"apps/web/deploy.sh":           "#!/bin/sh\nexport GITHUB_TOKEN=" + p.ghToken + "\ncurl " + p.slackHook + "\n",
	})
	r.commit("use a variable", map[string]string{
		"apps/web/deploy.sh": "#!/bin/sh\nexport GITHUB_TOKEN=\"${GITHUB_TOKEN}\"\ncurl " + p.slackHook + "\n",
		"apps/web/.env":      "DATABASE_URL=postgres://app:" + p.dbPass + "@db.internal:5432/app\n",
	})
	return r
}

func TestCheckSecretsBase(t *testing.T) {
	p := plant(42)
	r := secretsScenario(t, p)
	out, stderr, code := runCLI(t, "check", "--base", "main", "--only", "secrets", "--format", "json", r.dir)
	if code != exitFindings {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	var rep struct {
		Checks []struct {
			Conclusion string
			Findings   []struct {
				Kind, Rule, Tier, Path, File, Commit, Level string
				Line                                        int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range rep.Checks[0].Findings {
		where := f.File
		if where == "" {
			where = "(history) " + f.Path
		}
		got[f.Rule+" "+f.Level] = strings.Join([]string{f.Tier, where}, " ")
	}
	want := map[string]string{
		"aws-access-key-id failure":     "bootstrap infra/envs/prod/creds.tf",
		"k8s-secret-literal failure":    "runtime platform/ingress/secret.yaml",
		"github-pat failure":            "bootstrap (history) apps/web/deploy.sh",
		"github-pat notice":             "bootstrap apps/web/deploy.sh",
		"slack-webhook failure":         "runtime apps/web/deploy.sh",
		"database-url-password failure": "runtime apps/web/.env",
		"dotenv-file failure":           "runtime apps/web/.env",
	}
	if len(got) != len(want) {
		t.Errorf("findings: %v", got)
	}
	for rule, w := range want {
		if got[rule] != w {
			t.Errorf("%s: got %q, want %q", rule, got[rule], w)
		}
	}
	for _, format := range []string{"json", "sarif", "markdown", "text", "github"} {
		out, _, _ := runCLI(t, "check", "--base", "main", "--only", "secrets", "--format", format, r.dir)
		golden(t, "secrets."+format, out)
	}
}

// No output format, and no error, shows a planted value.
func TestPlantedValuesNeverShown(t *testing.T) {
	p := plant(7)
	r := secretsScenario(t, p)
	runs := [][]string{}
	for _, format := range []string{"json", "sarif", "markdown", "text", "github"} {
		runs = append(runs,
			[]string{"check", "--base", "main", "--format", format, r.dir},
			[]string{"check", "--format", format, r.dir},
		)
	}
	runs = append(runs, []string{"check", "--staged", r.dir}, []string{"check", "--config", "/nonexistent/" + p.ghToken, r.dir})
	for _, args := range runs {
		out, stderr, _ := runCLI(t, args...)
		for _, v := range p.values() {
			// Any 5 consecutive characters of the value (past its public
			// prefix) would be more than the 4 a redaction may show.
			for i := 4; i+5 <= len(v); i += 5 {
				if frag := v[i : i+5]; strings.Contains(out, frag) || (strings.Contains(stderr, frag) && !strings.Contains(strings.Join(args, " "), v)) {
					t.Fatalf("%v shows part of a planted value (%q…)", args[:3], v[:4])
				}
			}
		}
	}
}

// TestCheckSecretsImportFromBase: secrets.rules.import is read from the
// base like the config, so a change cannot allowlist its own leak by
// editing the imported file; its notices reach the output.
func TestCheckSecretsImportFromBase(t *testing.T) {
	const rules = "[extend]\nuseDefault = true\n\n[[rules]]\nid = \"acme-token\"\ndescription = \"ACME token\"\nregex = '''\\b(acme_[a-z0-9]{24})\\b'''\nkeywords = [\"acme_\"]\ntier = \"bootstrap\"\n"
	r := newRepo(t)
	files := map[string]string{
		".github/housekeeper.yml": "secrets:\n  rules:\n    import: [.gitleaks.toml]\n",
		".gitleaks.toml":          rules,
	}
	for k, v := range baseFiles {
		files[k] = v
	}
	r.commit("base", files)
	r.git("checkout", "-q", "-b", "change")
	r.commit("leak and allowlist it", map[string]string{
		"apps/acme/config.yaml": "acme: acme_k3j9v7q2m8w1z5r0t6y4u2p9\n",
		".gitleaks.toml":        rules + "\n[allowlist]\nregexes = ['''acme_''']\n",
	})
	out, stderr, code := runCLI(t, "check", "--base", "main", "--only", "secrets", "--format", "json", r.dir)
	if code != exitFindings {
		t.Fatalf("exit %d; stderr %s\n%s", code, stderr, out)
	}
	if !strings.Contains(out, `"rule": "acme-token"`) || !strings.Contains(out, `"tier": "bootstrap"`) {
		t.Errorf("the base's imported rule did not report the leak:\n%s", out)
	}
	md, _, _ := runCLI(t, "check", "--base", "main", "--only", "secrets", "--format", "markdown", r.dir)
	if !strings.Contains(md, "embedded rules stand in for gitleaks' default rules") {
		t.Errorf("useDefault notice missing:\n%s", md)
	}
	// A missing import is a config error naming it.
	r2 := newRepo(t)
	files2 := map[string]string{".github/housekeeper.yml": "secrets:\n  rules:\n    import: [rules/gitleaks.toml]\n"}
	for k, v := range baseFiles {
		files2[k] = v
	}
	r2.commit("base", files2)
	_, stderr, code = runCLI(t, "check", "--only", "secrets", r2.dir)
	if code == exitOK || code == exitFindings || !strings.Contains(stderr, "secrets.rules.import[0]: rules/gitleaks.toml not found") {
		t.Errorf("missing import: exit %d, stderr %s", code, stderr)
	}
}

// A token a change adds on two lines is reported on both, under one
// fingerprint, counted once; SARIF tells the copies apart, since code
// scanning merges results that share a fingerprint.
func TestRepeatedValueReportedOnEveryLine(t *testing.T) {
	p := plant(11)
	r := newRepo(t)
	r.commit("base", baseFiles)
	r.git("checkout", "-q", "-b", "change")
	r.commit("leak", map[string]string{
		"apps/web/deploy.sh": "#!/bin/sh\nexport GITHUB_TOKEN=" + p.ghToken + "\necho deploying\nexport GH_TOKEN=" + p.ghToken + "\n",
	})
	out, _, code := runCLI(t, "check", "--base", "main", "--only", "secrets", "--format", "json", r.dir)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var rep struct {
		Checks []struct {
			Title    string
			Findings []struct {
				Line        int
				Fingerprint string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	fs := rep.Checks[0].Findings
	if len(fs) != 2 || fs[0].Line != 2 || fs[1].Line != 4 || fs[0].Fingerprint != fs[1].Fingerprint {
		t.Errorf("findings %+v, want lines 2 and 4 under one fingerprint", fs)
	}
	if !strings.HasPrefix(rep.Checks[0].Title, "1 secret committed") {
		t.Errorf("title %q", rep.Checks[0].Title)
	}
	out, _, _ = runCLI(t, "check", "--base", "main", "--only", "secrets", "--format", "sarif", r.dir)
	var sarif struct {
		Runs []struct {
			Results []struct {
				PartialFingerprints map[string]string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &sarif); err != nil {
		t.Fatal(err)
	}
	res := sarif.Runs[0].Results
	if len(res) != 2 || res[0].PartialFingerprints["housekeeper/v1"] != fs[0].Fingerprint || res[1].PartialFingerprints["housekeeper/v1"] != fs[0].Fingerprint+"#2" {
		t.Errorf("SARIF results %+v", res)
	}
}

// The progress line of a long scan: nothing before 200 ms (a small tree
// never shows it), then at most one line every 200 ms with the files
// listed so far ("+" while the walk goes on), wiped at the end; nothing to
// wipe when nothing was shown.
func TestProgressLine(t *testing.T) {
	var out strings.Builder
	now := time.Unix(0, 0)
	clock := func() time.Time { return now }
	listed, done := 5000, false
	tick, clear := newProgress(&out, func() (int, bool) { return listed, done }, clock)
	tick()
	now = now.Add(100 * time.Millisecond)
	tick()
	now = now.Add(150 * time.Millisecond)
	tick() // 250 ms
	now = now.Add(100 * time.Millisecond)
	tick()
	listed, done = 9000, true
	now = now.Add(200 * time.Millisecond)
	tick() // 550 ms
	clear()
	if want := "\rscanning 3/5000+ files\rscanning 5/9000 files\r\033[K"; out.String() != want {
		t.Errorf("progress wrote %q, want %q", out.String(), want)
	}
	out.Reset()
	tick, clear = newProgress(&out, func() (int, bool) { return 10, true }, clock)
	tick()
	clear()
	if out.Len() != 0 {
		t.Errorf("a short scan wrote %q", out.String())
	}
}

// An audit honours inline allow comments (housekeeper:allow, and
// detect-secrets' pragma): the findings stay listed, suppressed by the
// marker their line carries, and only the other line fails.
func TestCheckAuditHonoursInlineAllow(t *testing.T) {
	p := plant(11)
	r := newRepo(t)
	r.commit("base", map[string]string{
		"apps/api/settings.py": "GITHUB_TOKEN = '" + p.ghToken + "'  # pragma: allowlist secret\n" +
			"AWS_KEY = '" + p.awsKey + "'  # housekeeper:allow\n" +
			"DB_PASSWORD = '" + p.dbPass + "'\n",
	})
	out, stderr, code := runCLI(t, "check", "--only", "secrets", "--format", "json", r.dir)
	if code != exitFindings {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	var rep struct {
		Checks []struct {
			Findings []struct {
				Line         int
				Suppressed   bool
				SuppressedBy string `json:"suppressed_by"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[int]string{} // line → suppressed by ("-" when not)
	for _, f := range rep.Checks[0].Findings {
		got[f.Line] = "-"
		if f.Suppressed {
			got[f.Line] = f.SuppressedBy
		}
	}
	if want := map[int]string{1: "inline pragma: allowlist secret", 2: "inline housekeeper:allow", 3: "-"}; !maps.Equal(got, want) {
		t.Errorf("line → suppressed by: got %v, want %v", got, want)
	}
	for _, format := range []string{"markdown", "text", "sarif"} {
		out, _, _ := runCLI(t, "check", "--only", "secrets", "--format", format, r.dir)
		golden(t, "inline-allow."+format, out)
	}
}
