package main

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// --base and --staged stream git's diff: a file whose diff is larger than
// the 4 MiB held per file is scanned whole from its blob, so a token on its
// last line is found at that line; and what a check allocates does not grow
// with the change (the patch used to be read whole, then split): 24 MiB
// more of diff cost less than 8 MiB more.
func TestCheckStreamsLargeDiffs(t *testing.T) {
	p := plant(11)
	row := "INSERT INTO t VALUES (42, 'an ordinary row', 'nothing to see');\n"
	sizes := []int{5 << 20, 29 << 20} // both over the 4 MiB held per file
	if raceEnabled {
		sizes = sizes[:1] // no allocation bound under the race detector
	}
	alloc := map[string][]uint64{}
	for _, size := range sizes {
		rows := size / len(row)
		r := newRepo(t)
		r.commit("base", map[string]string{"docs/dir.md": baseMap, "apps/web/main.go": "package main\n", "apps/web/app.env": "A=1\n"})
		r.git("checkout", "-q", "-b", "change")
		r.write(map[string]string{
			"apps/web/dump.sql": strings.Repeat(row, rows) + "-- " + p.ghToken + "\n",
			"apps/web/app.env":  "A=1\nSLACK=" + p.slackHook + "\n",
		})
		r.git("add", "-A")
		check := func(mode string, args ...string) {
			t.Helper()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			out, errOut, code := runCLI(t, append([]string{"check", "--only", "secrets", "--format", "json"}, append(args, r.dir)...)...)
			runtime.ReadMemStats(&after)
			alloc[mode] = append(alloc[mode], after.TotalAlloc-before.TotalAlloc)
			var rep struct {
				Checks []struct {
					Findings []struct {
						Kind, Rule, Path string
						Line             int
					}
				}
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 {
				t.Fatalf("%s: exit %d, %v\n%s\n%s", mode, code, err, out, errOut)
			}
			got := map[string]int{}
			for _, f := range rep.Checks[0].Findings {
				got[f.Kind+" "+f.Rule+" "+f.Path] = f.Line
			}
			want := map[string]int{
				"secret github-pat apps/web/dump.sql":   rows + 1,
				"secret slack-webhook apps/web/app.env": 2,
			}
			for k, line := range want {
				if got[k] != line {
					t.Errorf("%s, %d MiB: %s on line %d, want %d (findings %v)", mode, size>>20, k, got[k], line, got)
				}
			}
		}
		check("staged", "--staged")
		r.git("commit", "-q", "-m", "add data")
		check("base", "--base", "main")
	}
	if len(sizes) < 2 {
		return
	}
	for mode, a := range alloc {
		grew := int64(a[1]) - int64(a[0])
		t.Logf("%s: %d MiB of diff allocated %.1f MiB, %d MiB %.1f MiB", mode, sizes[0]>>20, float64(a[0])/(1<<20), sizes[1]>>20, float64(a[1])/(1<<20))
		if grew > 8<<20 {
			t.Errorf("%s: %d MiB more of diff allocated %.1f MiB more", mode, (sizes[1]-sizes[0])>>20, float64(grew)/(1<<20))
		}
	}
}
