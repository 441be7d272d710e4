package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// limitsFiles: a text file over max_file_size (4 KiB here) with a token at
// its end, a binary file, and a file with more generic passwords than one
// file lists per rule.
func limitsFiles(p planted) map[string]string {
	var users strings.Builder
	for i := range 130 {
		users.WriteString("user" + string(rune('a'+i%26)) + "_password: '" + plant(int64(i)).dbPass + "'\n")
	}
	return map[string]string{
		"apps/web/dump.sql":  strings.Repeat("INSERT INTO t VALUES (1, 'an ordinary row');\n", 200) + "-- " + p.ghToken + "\n",
		"apps/web/logo.png":  "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR token: " + p.ghToken + "\n",
		"apps/web/users.yml": users.String(),
	}
}

const limitsConfig = "version: 1\nsecrets:\n  max_file_size: 4KiB\n"

// In every mode (--base, --staged, the whole tree) a text file that was not
// scanned fails the run as a not-scanned finding, a binary file is listed
// as a notice, and the matches past a file's per-rule cap are one finding
// that says how many; every format carries them (issue 10, item 2).
func TestCheckNotScannedInEveryMode(t *testing.T) {
	p := plant(9)
	r := newRepo(t)
	r.commit("base", map[string]string{"docs/dir.md": baseMap, "apps/web/main.go": "package main\n", ".github/housekeeper.yml": limitsConfig})
	r.git("checkout", "-q", "-b", "change")
	r.write(limitsFiles(p))
	r.git("add", "-A")
	modes := map[string][]string{"staged": {"--staged"}}
	stagedOut, _, _ := runCLI(t, append([]string{"check", "--only", "secrets", "--format", "json"}, append(modes["staged"], r.dir)...)...)
	r.git("commit", "-q", "-m", "add data")
	outs := map[string]string{"staged": stagedOut}
	outs["base"], _, _ = runCLI(t, "check", "--only", "secrets", "--format", "json", "--base", "main", r.dir)
	outs["tree"], _, _ = runCLI(t, "check", "--only", "secrets", "--format", "json", r.dir)
	// A plain directory's walk reads no sizes: the file over the limit is
	// found too large when opened.
	plain := &repo{t: t, dir: t.TempDir()}
	plain.write(limitsFiles(p))
	plain.write(map[string]string{".github/housekeeper.yml": limitsConfig})
	outs["plain"], _, _ = runCLI(t, "check", "--only", "secrets", "--format", "json", plain.dir)
	for mode, out := range outs {
		var rep struct {
			Checks []struct {
				Conclusion string
				Findings   []struct{ Kind, Rule, Path, File, Level, Message string }
			}
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, out)
		}
		got := map[string]string{}
		for _, f := range rep.Checks[0].Findings {
			if f.Kind == "not-scanned" || f.Kind == "capped" {
				got[f.Kind+" "+f.Path] = f.Level
			}
		}
		want := map[string]string{
			"not-scanned apps/web/dump.sql":  "failure",
			"not-scanned apps/web/logo.png":  "notice",
			"not-scanned apps/web/users.yml": "failure", // over 4 KiB too
		}
		if len(got) != len(want) || rep.Checks[0].Conclusion != "failure" {
			t.Errorf("%s: %s, %v", mode, rep.Checks[0].Conclusion, got)
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %s: %q, want %q", mode, k, got[k], w)
			}
		}
	}
}

// The per-rule cap and the not-scanned findings in every format, from the
// CLI as the App renders them.
func TestCheckLimitsGolden(t *testing.T) {
	p := plant(9)
	r := newRepo(t)
	r.commit("base", map[string]string{"docs/dir.md": baseMap, "apps/web/main.go": "package main\n", ".github/housekeeper.yml": "version: 1\nsecrets:\n  max_file_size: 6KiB\n"})
	r.git("checkout", "-q", "-b", "change")
	r.commit("add data", limitsFiles(p))
	for _, format := range []string{"json", "sarif", "markdown", "text"} {
		out, stderr, code := runCLI(t, "check", "--base", "main", "--only", "secrets", "--format", format, r.dir)
		if code != exitFindings {
			t.Fatalf("%s: exit %d; %s", format, code, stderr)
		}
		for _, v := range p.values() {
			if strings.Contains(out, v) {
				t.Errorf("%s shows a planted value", format)
			}
		}
		golden(t, "limits."+format, out)
	}
}
