package dirmap

import (
	"context"
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
		res, err := Check(context.Background(), in, Options{MapPath: "docs/dir.md"})
		if err != nil {
			b.Fatal(err)
		}
		if res.Dirs != 5000 || len(res.Map.Entries) != 10000 {
			b.Fatalf("dirs %d entries %d", res.Dirs, len(res.Map.Entries))
		}
	}
}

// BenchmarkNamespaceDrift audits a 10,000-entry map against a
// 5,000-directory tree holding 20,000 manifests (four per directory) with namespace
// verification on (target: under a second per check). One manifest in 100
// drifts; a quarter set no namespace and are skipped before decoding.
func BenchmarkNamespaceDrift(b *testing.B) {
	var m strings.Builder
	m.WriteString("| Path | Function | Layer | Namespace |\n|---|---|---|---|\n")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&m, "| `svc%03d/` | Service %d | L2 | ns%d |\n", i, i, i)
		for j := 0; j < 99; j++ {
			fmt.Fprintf(&m, "| `svc%03d/mod%02d/` | Module | L2 | ns%d |\n", i, j, i)
		}
	}
	var files []string
	var manifests []Manifest
	drifting := 0
	for i := 0; i < 100; i++ {
		for j := -1; j < 49; j++ {
			for k := 0; k < 4; k++ {
				p := fmt.Sprintf("svc%03d/mod%02d/m%d.yaml", i, j, k)
				if j < 0 {
					p = fmt.Sprintf("svc%03d/m%d.yaml", i, k)
				}
				files = append(files, p)
				ns := fmt.Sprintf("ns%d", i)
				if (i*200+j*4+k)%100 == 0 {
					ns, drifting = "elsewhere", drifting+1
				}
				doc := fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d%d\n  namespace: %s\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: app\n          image: example/app:1\n", k, ns)
				if k == 3 && ns != "elsewhere" {
					doc = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%d\ndata:\n  key: value\n", k)
				}
				manifests = append(manifests, Manifest{Path: p, Data: []byte(doc)})
			}
		}
	}
	opts := Options{MapPath: "docs/dir.md", Annotations: []AnnotationRule{{Key: "Namespace", VerifyManifests: true}}}
	byPath := make(map[string]Manifest, len(manifests))
	for _, mf := range manifests {
		byPath[mf.Path] = mf
	}
	asked := 0
	in := Input{Head: &Side{HasMap: true, Map: []byte(m.String()), Files: files},
		ReadManifests: func(paths []string) ([]Manifest, error) {
			asked = len(paths)
			out := make([]Manifest, len(paths))
			for i, p := range paths {
				out[i] = byPath[p]
			}
			return out, nil
		}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Check(context.Background(), in, opts)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, f := range res.Findings {
			if f.Kind == KindNamespaceDrift {
				n++
			}
		}
		if res.Dirs != 5000 || n != drifting || asked != len(manifests) {
			b.Fatalf("dirs %d, drift findings %d, want %d; %d of %d manifests read", res.Dirs, n, drifting, asked, len(manifests))
		}
	}
}

// BenchmarkParseNestedLists parses 1 MiB lists nested by indentation, the
// costliest map shape for goldmark's block parser (it visits every open
// block on every line): 32 levels are refused before goldmark runs, 16 are
// read. Figures through the server: scripts/load.sh -phases hostile-map.
func BenchmarkParseNestedLists(b *testing.B) {
	pad := strings.Repeat("y", 40)
	for _, depth := range []int{4, 16, 32} {
		var m strings.Builder
		for i := 0; m.Len() < 1<<20; i++ {
			m.WriteString(strings.Repeat("  ", i%depth) + "- `x/` — " + pad + "\n")
		}
		src := []byte(m.String())
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for i := 0; i < b.N; i++ {
				if m := Parse(src, ParseOptions{}); m.Unread != (depth > maxNesting) {
					b.Fatalf("unread %v: %v", m.Unread, m.Problems)
				}
			}
		})
	}
}
