package secrets_test

import (
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// A patch far larger than the reader's budget passes through it: the big
// file comes back Truncated holding no more than the budget, the file after
// it whole, and reading allocates about the budget, not the patch.
func TestDiffReaderBoundsMemory(t *testing.T) {
	const limit = 1 << 20
	size := 64 << 20
	if raceEnabled {
		size = 16 << 20
	}
	after := "diff --git a/b.env b/b.env\nnew file mode 100644\n--- /dev/null\n+++ b/b.env\n@@ -0,0 +1,2 @@\n+A=1\n+B=2\n"
	for name, tc := range map[string]struct{ unit, head string }{
		"many lines":  {"+INSERT INTO t VALUES (42, 'an ordinary row');\n", "@@ -0,0 +1,1000000000 @@\n"},
		"empty lines": {"+\n", "@@ -0,0 +1,1000000000 @@\n"},
		"one line":    {"x", "@@ -0,0 +1 @@\n+"},
	} {
		t.Run(name, func(t *testing.T) {
			n := size / len(tc.unit) * len(tc.unit)
			head := "diff --git a/big.sql b/big.sql\nnew file mode 100644\n--- /dev/null\n+++ b/big.sql\n" + tc.head
			tail := after
			if tc.unit == "x" {
				tail = "\n" + after
			}
			r := io.MultiReader(strings.NewReader(head), &genReader{unit: []byte(tc.unit), n: n, tail: []byte(tail)})
			runtime.GC()
			var before, done runtime.MemStats
			runtime.ReadMemStats(&before)
			dr := secrets.NewDiffReader(r, limit)
			var got []secrets.FileDiff
			for {
				d, err := dr.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, d)
			}
			runtime.ReadMemStats(&done)
			if len(got) != 2 {
				t.Fatalf("%d files, want 2", len(got))
			}
			big := got[0]
			kept := 0
			for _, l := range big.Added {
				kept += len(l.Text) + 1
			}
			if big.NewPath != "big.sql" || !big.Truncated || kept > limit {
				t.Errorf("big file: path %q, truncated %v, %d bytes of %d lines kept (limit %d)", big.NewPath, big.Truncated, kept, len(big.Added), limit)
			}
			want := secrets.FileDiff{NewPath: "b.env", Added: []secrets.DiffLine{{Line: 1, Text: "A=1"}, {Line: 2, Text: "B=2"}}}
			if !reflect.DeepEqual(got[1], want) {
				t.Errorf("file after it: %+v", got[1])
			}
			alloc := done.TotalAlloc - before.TotalAlloc
			t.Logf("reading a %d MiB patch allocated %.1f MiB", size>>20, float64(alloc)/(1<<20))
			if alloc > 8*limit {
				t.Errorf("reading a %d MiB patch allocated %d MiB, budget %d MiB", size>>20, alloc>>20, limit>>20)
			}
		})
	}
}

// Within its budget the reader reads what ParseDiff reads.
func TestDiffReaderMatchesParseDiff(t *testing.T) {
	for _, diff := range diffSamples(t) {
		want, werr := secrets.ParseDiff([]byte(diff))
		got, gerr := readDiffs(diff, 1<<20)
		if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(got, want) {
			t.Fatalf("reader %+v (%v)\nParseDiff %+v (%v)", got, gerr, want, werr)
		}
	}
}

func readDiffs(diff string, limit int) ([]secrets.FileDiff, error) {
	dr := secrets.NewDiffReader(strings.NewReader(diff), limit)
	var out []secrets.FileDiff
	for {
		d, err := dr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
}

// FuzzDiffReader: the reader agrees with ParseDiff within its budget, and
// with a small budget keeps no more than it and truncates, never drops,
// a file it cannot hold.
func FuzzDiffReader(f *testing.F) {
	for _, s := range diffSamples(f) {
		f.Add([]byte(s), uint16(64))
	}
	f.Fuzz(func(t *testing.T, data []byte, small uint16) {
		want, werr := secrets.ParseDiff(data)
		got, gerr := readDiffs(string(data), len(data)*64+1024)
		if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(got, want) {
			t.Fatalf("reader %+v (%v)\nParseDiff %+v (%v)", got, gerr, want, werr)
		}
		limit := int(small) + 1
		cut, _ := readDiffs(string(data), limit)
		if len(cut) > len(got) && gerr == nil {
			t.Fatalf("%d files with budget %d, %d without", len(cut), limit, len(got))
		}
		for i, d := range cut {
			n := 0
			for _, l := range append(d.Added, d.Deleted...) {
				n += len(l.Text) + 1
			}
			if n > limit {
				t.Fatalf("file %d keeps %d bytes, budget %d", i, n, limit)
			}
			if i < len(got) && !d.Truncated && !reflect.DeepEqual(d, got[i]) {
				t.Fatalf("file %d not truncated but differs: %+v vs %+v", i, d, got[i])
			}
		}
	})
}

// diffSamples: the diffs of the parser's tests and a few more.
func diffSamples(tb testing.TB) []string {
	return []string{
		"diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1,2 +1,2 @@\n-x\n+y\n z\n\\ No newline at end of file\n",
		"commit 1\n\ndiff --cc m\n@@@ -1 -1 +1 @@@\n+ x\ndiff --git a/b b/b\nnew file mode 100644\n--- /dev/null\n+++ b/b\n@@ -0,0 +1 @@\n+k\r\n",
		"diff --git a/p.png b/p.png\nBinary files a/p.png and b/p.png differ\ndiff --git a/q b/q\ndeleted file mode 100644\n--- a/q\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\n",
		"diff --git a/r b/r\n@@ bad header\n+x\n",
		"diff --git \"a/sp\\303\\251\" \"b/sp\\303\\251\"\n--- \"a/sp\\303\\251\"\n+++ \"b/sp\\303\\251\"\n@@ -1 +1 @@\n--- dashes\n+++ plus\n",
	}
}
