package main

import (
	"encoding/json"
	"fmt"
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

// TestCheckRefusesALargeMapSayingItsSize: a map over the engine's limit
// is one malformed-map finding that gives its whole size, in each mode,
// and no more of it than the limit is kept: a map 31 MiB larger costs no
// more than a few MiB more.
func TestCheckRefusesALargeMapSayingItsSize(t *testing.T) {
	alloc := map[string][]uint64{}
	sizes := []int{9, 40}
	if raceEnabled {
		sizes = sizes[:1] // no allocation bound under the race detector
	}
	for _, mib := range sizes {
		r := newRepo(t)
		r.commit("base", map[string]string{"docs/dir.md": baseMap, "apps/web/main.go": "package main\n"})
		r.git("checkout", "-q", "-b", "change")
		r.write(map[string]string{"docs/dir.md": baseMap + strings.Repeat("x", mib<<20) + "\n"})
		r.git("add", "-A")
		want := fmt.Sprintf("the map is %d.0 MiB, over the 4 MiB limit", mib)
		check := func(mode string, args ...string) {
			t.Helper()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			out, errOut, code := runCLI(t, append([]string{"check", "--only", "dirs", "--format", "text"}, append(args, r.dir)...)...)
			runtime.ReadMemStats(&after)
			alloc[mode] = append(alloc[mode], after.TotalAlloc-before.TotalAlloc)
			if code != 1 || !strings.Contains(out, want) {
				t.Errorf("%d MiB, %s: exit %d\n%s\n%s", mib, mode, code, out, errOut)
			}
		}
		check("staged", "--staged")
		check("audit")
		r.git("commit", "-q", "-m", "big map")
		check("base", "--base", "main")
	}
	for mode, a := range alloc {
		if len(a) == 2 && a[1] > a[0]+8<<20 {
			t.Errorf("%s: a 9 MiB map allocated %d MiB, a 40 MiB one %d MiB", mode, a[0]>>20, a[1]>>20)
		}
	}
}
