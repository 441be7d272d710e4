package dirmap

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

type wantEntry struct {
	path    string
	line    int
	planned bool
	anns    map[string]string
}

func entriesOf(m *Map) []wantEntry {
	var out []wantEntry
	for _, e := range m.Entries {
		w := wantEntry{path: e.Path, line: e.Line, planned: e.Planned, anns: map[string]string{}}
		for _, a := range e.Annotations() {
			w.anns[a[0]] = a[1]
		}
		out = append(out, w)
	}
	return out
}

func TestParseFormats(t *testing.T) {
	tests := map[string]struct {
		src      string
		roots    []string
		want     []wantEntry
		problems []string // "line: message substring"
	}{
		"table": {
			src: "# Map\n\n| Path | Function | Layer | Namespace |\n|---|---|---|---|\n| `apps/` | Apps | L99 | - |\n| infra | Terraform | L1 | |\n",
			want: []wantEntry{
				{path: "apps", line: 5, anns: map[string]string{"Function": "Apps", "Layer": "L99", "Namespace": "-"}},
				{path: "infra", line: 6, anns: map[string]string{"Function": "Terraform", "Layer": "L1", "Namespace": ""}},
			},
		},
		"table header Directory any case and status planned": {
			src:  "| function | DIRECTORY | Status |\n|---|---|---|\n| Web | `apps/web/` | Planned |\n",
			want: []wantEntry{{path: "apps/web", line: 3, planned: true, anns: map[string]string{"function": "Web", "Status": "Planned"}}},
		},
		"table without a path column is not a map": {
			src:  "| Name | Value |\n|---|---|\n| a | b |\n",
			want: nil,
		},
		"table path with spaces and escaped pipe in annotation": {
			src:  "| Dir | Function |\n|---|---|\n| `my dir/` | a \\| b |\n",
			want: []wantEntry{{path: "my dir", line: 3, anns: map[string]string{"Function": "a | b"}}},
		},
		"tree with root marker": {
			src: "```tree\n.\n├── apps/            # Function: Apps | Layer: L99\n│   └── web/         # Web frontend\n└── infra            # Function: Infra; Layer: L1\n    ├── main.tf\n    └── modules/\n```\n",
			want: []wantEntry{
				{path: "apps", line: 3, anns: map[string]string{"Function": "Apps", "Layer": "L99"}},
				{path: "apps/web", line: 4, anns: map[string]string{"Function": "Web frontend"}},
				{path: "infra", line: 5, anns: map[string]string{"Function": "Infra", "Layer": "L1"}},
				{path: "infra/modules", line: 7, anns: map[string]string{}},
			},
		},
		"tree repository name as root and no info string": {
			src:   "```\nmyrepo/\n└── docs/   # (planned) Documentation\n```\n",
			roots: []string{"myrepo"},
			want:  []wantEntry{{path: "docs", line: 3, planned: true, anns: map[string]string{"Function": "Documentation"}}},
		},
		"tree first line is an entry": {
			src: "```text\ninfra/   # Function: Infra\n├── envs/\n│   └── prod/\n└── modules/\n```\n",
			want: []wantEntry{
				{path: "infra", line: 2, anns: map[string]string{"Function": "Infra"}},
				{path: "infra/envs", line: 3, anns: map[string]string{}},
				{path: "infra/envs/prod", line: 4, anns: map[string]string{}},
				{path: "infra/modules", line: 5, anns: map[string]string{}},
			},
		},
		"tree from tree(1) with no-break spaces": {
			src: "```\n.\n├── a\n│\u00a0\u00a0 └── b/\n└── c/\n```\n",
			want: []wantEntry{
				{path: "a", line: 3, anns: map[string]string{}},
				{path: "a/b", line: 4, anns: map[string]string{}},
				{path: "c", line: 5, anns: map[string]string{}},
			},
		},
		"tree in a go block is code": {
			src:  "```go\n// ├── apps/\n```\n",
			want: nil,
		},
		"tree depth jump is malformed and the rest is used": {
			src: "```tree\n.\n├── a/\n│       └── deep/\n│           └── deeper/\n└── b/\n```\n",
			want: []wantEntry{
				{path: "a", line: 3, anns: map[string]string{}},
				{path: "b", line: 6, anns: map[string]string{}},
			},
			problems: []string{"4: nested 2 levels"},
		},
		"list with nested relative and full paths": {
			src: "- `platform/` — Function: Platform | Layer: L2\n  - `ingress/` – Ingress controller\n  - `platform/dns` : Function: DNS\n- `apps/*/` - Function: each app\n- not an entry\n",
			want: []wantEntry{
				{path: "platform", line: 1, anns: map[string]string{"Function": "Platform", "Layer": "L2"}},
				{path: "platform/ingress", line: 2, anns: map[string]string{"Function": "Ingress controller"}},
				{path: "platform/dns", line: 3, anns: map[string]string{"Function": "DNS"}},
				{path: "apps/*", line: 4, anns: map[string]string{"Function": "each app"}},
			},
		},
		"list child named as its parent": {
			// a directory is not its own child: the nested `a0/` is a0/a0
			src: "- `a0/` — Function: Outer\n  - `a0/` — Function: Inner\n",
			want: []wantEntry{
				{path: "a0", line: 1, anns: map[string]string{"Function": "Outer"}},
				{path: "a0/a0", line: 2, anns: map[string]string{"Function": "Inner"}},
			},
		},
		"list planned and status key": {
			src: "* `future/` — Function: Later (planned)\n* `other/` — Status: planned | Function: x\n",
			want: []wantEntry{
				{path: "future", line: 1, planned: true, anns: map[string]string{"Function": "Later"}},
				{path: "other", line: 2, planned: true, anns: map[string]string{"Status": "planned", "Function": "x"}},
			},
		},
		"ordinary lists are not maps": {
			src:  "- one\n- two `code`\n",
			want: nil,
		},
		"malformed paths": {
			src:      "| Path | Function |\n|---|---|\n| /etc | x |\n| a/../b | y |\n| ok | z |\n|  | w |\n",
			want:     []wantEntry{{path: "ok", line: 5, anns: map[string]string{"Function": "z"}}},
			problems: []string{"3: absolute path", "4: contains \"..\"", "6: empty path"},
		},
		"blocks merge and conflict": {
			src: "| Path | Function | Layer |\n|---|---|---|\n| apps | Apps | |\n\n- `apps/` — Layer: L99\n- `apps/` — Function: Other\n",
			want: []wantEntry{
				{path: "apps", line: 3, anns: map[string]string{"Function": "Apps", "Layer": "L99"}},
			},
			problems: []string{"6: conflicting Function"},
		},
		"table headed Folder": {
			src:  "| Folder | Function |\n|---|---|\n| `apps/` | Apps |\n",
			want: []wantEntry{{path: "apps", line: 3, anns: map[string]string{"Function": "Apps"}}},
		},
		"table of backticked paths under another header": {
			src: "| Location | Function |\n|---|---|\n| `apps/` | Apps |\n| `infra/modules/` | Modules |\n",
			want: []wantEntry{
				{path: "apps", line: 3, anns: map[string]string{"Function": "Apps"}},
				{path: "infra/modules", line: 4, anns: map[string]string{"Function": "Modules"}},
			},
		},
		"legend of backticked layers is not a map": {
			src:  "| Layer | Meaning |\n|---|---|\n| `L1` | bootstrap |\n| `L2` | platform |\n",
			want: nil,
		},
		"delimiter row with too few cells": {
			src:      "# Map\n\n| Path | Function | Layer |\n|---|---|\n| `apps/` | Apps | L1 |\n",
			want:     nil,
			problems: []string{"3: header has 3 cells but the delimiter row below it has 2"},
		},
		"broken table of backticked paths": {
			src:      "| Where | Function |\n|---|\n| `apps/` | Apps |\n",
			want:     nil,
			problems: []string{"1: Path, Directory, Dir or Folder"},
		},
		"broken legend stays silent": {
			src:  "| Layer | Meaning |\n|---|\n| L1 | bootstrap |\n",
			want: nil,
		},
		"tree block without connectors": {
			src:      "text\n\n```tree\napps/\ninfra/\n```\n",
			want:     nil,
			problems: []string{"4: none of its lines has a"},
		},
		"list item with an unclosed backtick": {
			src:      "- `apps/` — Apps\n- `infra/ — Terraform\n",
			want:     []wantEntry{{path: "apps", line: 1, anns: map[string]string{"Function": "Apps"}}},
			problems: []string{"2: no closing backtick"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := Parse([]byte(tc.src), ParseOptions{RootNames: tc.roots})
			got := entriesOf(m)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("entries:\n got %+v\nwant %+v", got, tc.want)
			}
			if len(m.Problems) != len(tc.problems) {
				t.Fatalf("problems: got %+v, want %v", m.Problems, tc.problems)
			}
			for i, p := range tc.problems {
				line, msg, _ := strings.Cut(p, ": ")
				got := m.Problems[i]
				if strconv.Itoa(got.Line) != line || !strings.Contains(got.Message, msg) {
					t.Errorf("problem %d: got line %d %q, want line %s containing %q", i, got.Line, got.Message, line, msg)
				}
			}
		})
	}
}

func TestHasAnnotation(t *testing.T) {
	m := Parse([]byte("| Path | A | B | C | D |\n|---|---|---|---|---|\n| x | - | — | | TODO |\n"), ParseOptions{})
	e := m.Entry("x")
	for key, want := range map[string]bool{"A": true, "B": true, "C": false, "D": false, "E": false, "a": true} {
		if got := e.HasAnnotation(key); got != want {
			t.Errorf("HasAnnotation(%q) = %v, want %v", key, got, want)
		}
	}
}
