package dirmap

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkCheckLargeMap checks a 10,000-entry map against a 5,000-directory
// tree (issue target: well under a second per check).
func BenchmarkCheckLargeMap(b *testing.B) {
	var m strings.Builder
	m.WriteString("| Path | Function | Layer | Namespace |\n|---|---|---|---|\n")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&m, "| `svc%03d/` | Service %d | L2 | ns%d |\n", i, i, i)
		for j := 0; j < 99; j++ {
			fmt.Fprintf(&m, "| `svc%03d/mod%02d/` | Module | L2 | ns%d |\n", i, j, i)
		}
	}
	var files []string
	for i := 0; i < 100; i++ {
		for j := 0; j < 49; j++ {
			files = append(files, fmt.Sprintf("svc%03d/mod%02d/main.tf", i, j))
		}
	}
	src := []byte(m.String())
	in := Input{
		Head: &Side{HasMap: true, Map: src, Files: files},
		Base: &Side{HasMap: true, Map: src, Files: files[:len(files)/2]},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Check(in, Options{MapPath: "docs/dir.md"})
		if err != nil {
			b.Fatal(err)
		}
		if res.Dirs != 5000 || len(res.Map.Entries) != 10000 {
			b.Fatalf("dirs %d entries %d", res.Dirs, len(res.Map.Entries))
		}
	}
}
