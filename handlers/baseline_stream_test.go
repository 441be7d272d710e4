package handlers_test

import (
	"runtime"
	"strings"
	"testing"
)

// A baseline streams large tarball entries into the scanner as a pull
// request's tarball is streamed: a token on the last line of a file larger
// than what is held whole is found at its line, a file over max_file_size
// is a failing not-scanned finding (unless excluded), and a map too large
// to read is refused with its real size.
func TestBaselineStreamsLargeFiles(t *testing.T) {
	tok := fakeGitHubTok(21)
	row := "INSERT INTO t VALUES (1, 'row of an ordinary dump');\n"
	dump := strings.Repeat(row, 3<<20/len(row)) + "-- " + tok + "\n"
	big := strings.Repeat(row, 6<<20/len(row)) + "-- " + tok + "\n"
	f := newFixture(t)
	main := f.gh.Push("acme", "infra", "main", map[string]string{
		".github/housekeeper.yml": "version: 1\nsecrets:\n  max_file_size: 5MiB\n  exclude_paths: [\"vendor/**\"]\n",
		"apps/web/dump.sql":       dump,
		"apps/web/big.sql":        big,
		"vendor/big.sql":          big,
		"docs/dir.md":             mapMD + strings.Repeat("<!-- padding -->\n", 9<<19/17),
	})
	install(t, f, f.inst)
	runs := f.runs(main)
	sec, dirs := runs["housekeeper/secrets"], runs["housekeeper/dirs"]
	var failing []string
	for _, a := range sec.Output.Annotations {
		if a.AnnotationLevel == "failure" {
			failing = append(failing, a.Path+":"+itoa(a.StartLine)+":"+a.Title)
		}
	}
	want := []string{"apps/web/big.sql:1:not-scanned", "apps/web/dump.sql:" + itoa(strings.Count(dump, "\n")) + ":github-pat (bootstrap)"}
	if sec.Conclusion != "failure" || strings.Join(failing, " ") != strings.Join(want, " ") {
		t.Errorf("secrets %s, failing annotations %q, want %q\n%s", sec.Conclusion, failing, want, sec.Output.Summary)
	}
	if !strings.Contains(sec.Output.Summary, `larger than max\_file\_size (5MiB)`) || strings.Contains(sec.Output.Summary, "vendor/big.sql") {
		t.Errorf("secrets summary:\n%s", sec.Output.Summary)
	}
	if dirs.Conclusion != "failure" || !strings.Contains(dirs.Output.Summary, "over the 4 MiB limit") || !strings.Contains(dirs.Output.Summary, "the map is 4.5 MiB") {
		t.Errorf("dirs %s:\n%s", dirs.Conclusion, dirs.Output.Summary)
	}
}

// What a baseline allocates does not grow with a file's size: entries
// larger than 1 MiB are streamed (they used to be read whole, up to
// 64 MiB, and copied).
func TestBaselineMemoryDoesNotGrowWithFiles(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation figures are not comparable under the race detector")
	}
	tok := fakeGitHubTok(22)
	row := "INSERT INTO t VALUES (1, 'row of an ordinary dump');\n"
	var alloc []uint64
	sizes := []int{4 << 20, 28 << 20}
	for _, size := range sizes {
		f := newFixture(t)
		main := f.gh.Push("acme", "infra", "main", map[string]string{"apps/web/dump.sql": strings.Repeat(row, size/len(row)) + "-- " + tok + "\n"})
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		install(t, f, f.inst)
		runtime.ReadMemStats(&after)
		alloc = append(alloc, after.TotalAlloc-before.TotalAlloc)
		if sec := f.runs(main)["housekeeper/secrets"]; sec.Conclusion != "failure" || len(sec.Output.Annotations) == 0 {
			t.Fatalf("%d MiB: secrets %s\n%s", size>>20, sec.Conclusion, sec.Output.Summary)
		}
	}
	grew := int64(alloc[1]) - int64(alloc[0])
	t.Logf("baseline of a %d MiB file allocated %.1f MiB, of %d MiB %.1f MiB", sizes[0]>>20, float64(alloc[0])/(1<<20), sizes[1]>>20, float64(alloc[1])/(1<<20))
	if grew > 12<<20 {
		t.Errorf("a file %d MiB larger allocated %.1f MiB more", (sizes[1]-sizes[0])>>20, float64(grew)/(1<<20))
	}
}
