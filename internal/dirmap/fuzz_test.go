package dirmap

import (
	"context"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(baseMap))
	f.Add([]byte(tableMap))
	f.Add([]byte("```tree\n.\n├── a/\n│       └── deep/\n└── b\n    └── c/\n```\n"))
	f.Add([]byte("- `a/` — x\n  - `b` : Function: y (planned)\n    - `../c`\n"))
	f.Add([]byte("| Dir |\n|---|\n| `/abs` |\n| `x/**/y` |\n"))
	f.Add([]byte("```\n├──\n└── `sp ace/` # K: v; L: w\n```"))
	f.Fuzz(func(t *testing.T, src []byte) {
		m := Parse(src, ParseOptions{RootNames: []string{"repo"}})
		lines := strings.Count(string(src), "\n") + 1
		for _, e := range m.Entries {
			if e.Path == "" || strings.HasPrefix(e.Path, "/") || strings.HasSuffix(e.Path, "/") {
				t.Fatalf("entry path %q not normalised", e.Path)
			}
			for _, c := range strings.Split(e.Path, "/") {
				if c == ".." {
					t.Fatalf("entry path %q escapes the repository", e.Path)
				}
			}
			if e.Line < 1 || e.Line > lines {
				t.Fatalf("entry %q on line %d of %d", e.Path, e.Line, lines)
			}
		}
		for _, p := range m.Problems {
			if p.Line < 1 || p.Line > lines {
				t.Fatalf("problem %q on line %d of %d", p.Message, p.Line, lines)
			}
		}
		res, err := Check(context.Background(), Input{Head: &Side{HasMap: true, Map: src, Files: []string{"x/y/z", "a/b"}}}, Options{MapPath: "m.md"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ApplyFixes(src, res.Fixes); err != nil {
			t.Fatal(err)
		}
	})
}
