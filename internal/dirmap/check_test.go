package dirmap

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// baseMap combines the three formats, as the acceptance scenario asks.
const baseMap = `# Directory map

| Path | Function | Layer | Namespace |
|------|----------|-------|-----------|
| ` + "`apps/`" + ` | Applications | L99 | - |
| ` + "`apps/web/`" + ` | Web frontend | L99 | web |
| ` + "`apps/api/`" + ` | API | L99 | api |

` + "```tree" + `
.
├── infra/          # Function: Terraform | Layer: L1 | Namespace: -
│   ├── modules/    # Function: Modules | Layer: L1 | Namespace: -
│   └── envs/       # Function: Environments | Layer: L1 | Namespace: -
└── charts/         # Function: Helm charts | Layer: L2 | Namespace: - (planned)
` + "```" + `

- ` + "`docs/`" + ` — Function: Documentation | Layer: - | Namespace: -
- ` + "`platform/`" + ` — Function: Platform | Layer: L2 | Namespace: platform
  - ` + "`ingress/`" + ` — Function: Ingress | Layer: L2 | Namespace: ingress
`

var baseFiles = []string{
	"apps/web/main.go", "apps/api/main.go",
	"infra/modules/vpc/main.tf", "infra/envs/prod/main.tf",
	"docs/dir.md", "platform/ingress/values.yaml", "platform/README.md",
	".github/workflows/ci.yml", "README.md",
}

func TestScenario(t *testing.T) {
	headMap := strings.Replace(baseMap, "  - `ingress/`", "  - `dns/` — Function: DNS | Layer: L2 | Namespace:\n  - `ingress/`", 1)
	added := []string{
		"apps/worker/main.go",           // under an enumerated parent: unregistered
		"infra/modules/vpc/sub/x.tf",    // under a leaf: free
		"tools/lint/run.sh",             // new top-level directory: unregistered (only tools)
		".devcontainer/setup/init.sh",   // dot directory: ignored
		"charts/housekeeper/Chart.yaml", // realises the planned charts entry
		"platform/dns/zone.tf",          // registered by the added entry with an empty annotation
	}
	removed := []string{"apps/api/main.go"} // removes a listed directory
	head := without(append(append([]string{}, baseFiles...), added...), removed)
	res, err := Check(context.Background(), Input{
		Head:  &Side{HasMap: true, Map: []byte(headMap), Files: head},
		Base:  &Side{HasMap: true, Map: []byte(baseMap), Files: baseFiles},
		Added: added,
	}, Options{MapPath: "docs/dir.md"})
	if err != nil {
		t.Fatal(err)
	}
	got := summarise(res.Findings)
	want := []string{
		"unregistered apps/worker failure apps/worker/main.go:1",
		"stale apps/api failure docs/dir.md:7",
		"realised charts notice docs/dir.md:14",
		"incomplete platform/dns failure docs/dir.md:19",
		"unregistered tools failure tools/lint/run.sh:1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	// The clean base audited as a whole tree has nothing at failure level.
	audit, err := Check(context.Background(), Input{Head: &Side{HasMap: true, Map: []byte(baseMap), Files: baseFiles}}, Options{MapPath: "docs/dir.md"})
	if err != nil {
		t.Fatal(err)
	}
	if audit.Failed() {
		t.Errorf("audit of the clean base fails: %v", summarise(audit.Findings))
	}
	// The fix registers both directories; applied, only incomplete findings
	// for its TODO annotations remain.
	fixed, err := ApplyFixes([]byte(headMap), res.Fixes)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Check(context.Background(), Input{
		Head:  &Side{HasMap: true, Map: fixed, Files: head},
		Base:  &Side{HasMap: true, Map: []byte(baseMap), Files: baseFiles},
		Added: added,
	}, Options{MapPath: "docs/dir.md"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range again.Findings {
		if f.Kind == KindUnregistered || f.Kind == KindMalformed {
			t.Errorf("after the fix: %s %s: %s\nmap:\n%s", f.Kind, f.Path, f.Message, fixed)
		}
	}
	var todo []string
	for _, f := range again.Findings {
		if f.Kind == KindIncomplete && f.Path != "platform/dns" {
			todo = append(todo, f.Path)
		}
	}
	if !reflect.DeepEqual(todo, []string{"tools", "apps/worker"}) && !reflect.DeepEqual(todo, []string{"apps/worker", "tools"}) {
		t.Errorf("incomplete after fix = %v, want apps/worker and tools", todo)
	}
}

func without(files, drop []string) []string {
	var out []string
	for _, f := range files {
		keep := true
		for _, d := range drop {
			if f == d {
				keep = false
			}
		}
		if keep {
			out = append(out, f)
		}
	}
	return out
}

func summarise(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s %s %s:%d", f.Kind, f.Path, f.Level, f.File, f.Line))
	}
	return out
}

const tableMap = "| Path | Function | Layer |\n|---|---|---|\n| `apps/` | Apps | L1 |\n| `apps/web/` | Web | L1 |\n| `old/` | Old | L1 |\n| `todo/` | TODO | L1 |\n"

func TestFindingsAndLevels(t *testing.T) {
	files := []string{"apps/web/a", "old/a", "todo/a"}
	tests := map[string]struct {
		head, base *Side
		added      []string
		opts       Options
		want       []string
	}{
		"missing map, not required: notice": {
			head: &Side{Files: files},
			base: &Side{Files: files},
			want: []string{"missing-map docs/dir.md notice docs/dir.md:0"},
		},
		"missing map, required: failure": {
			head: &Side{Files: files},
			base: &Side{Files: files},
			opts: Options{Required: true},
			want: []string{"missing-map docs/dir.md failure docs/dir.md:0"},
		},
		"map deleted by the change: failure": {
			head: &Side{Files: files},
			base: &Side{HasMap: true, Map: []byte(tableMap), Files: files},
			want: []string{"missing-map docs/dir.md failure docs/dir.md:0"},
		},
		"older drift is a warning": {
			head: &Side{HasMap: true, Map: []byte(tableMap), Files: []string{"apps/web/a", "todo/a"}},
			base: &Side{HasMap: true, Map: []byte(tableMap), Files: []string{"apps/web/a", "todo/a"}},
			want: []string{"stale old warning docs/dir.md:5", "incomplete todo warning docs/dir.md:6"},
		},
		"stale entry added by the change: failure": {
			head: &Side{HasMap: true, Map: []byte(tableMap + "| `new/` | New | L1 |\n"), Files: files},
			base: &Side{HasMap: true, Map: []byte(tableMap), Files: files},
			want: []string{"incomplete todo warning docs/dir.md:6", "stale new failure docs/dir.md:7"},
		},
		"edited entry missing an annotation: failure": {
			head: &Side{HasMap: true, Map: []byte(strings.Replace(tableMap, "| `apps/web/` | Web | L1 |", "| `apps/web/` | Web site |  |", 1)), Files: files},
			base: &Side{HasMap: true, Map: []byte(tableMap), Files: files},
			want: []string{"incomplete apps/web failure docs/dir.md:4", "incomplete todo warning docs/dir.md:6"},
		},
		"moved lines are not an edit": {
			head: &Side{HasMap: true, Map: []byte("| Path | Layer | Function |\n|---|---|---|\n| `todo/` | L1 | TODO |\n| `apps/` | L1 | Apps |\n| `apps/web/` | L1 | Web |\n| `old/` | L1 | Old |\n"), Files: files},
			base: &Side{HasMap: true, Map: []byte(tableMap), Files: files},
			want: []string{"incomplete todo warning docs/dir.md:3"},
		},
		"malformed map: failure with line": {
			head: &Side{HasMap: true, Map: []byte(tableMap + "| `../x` | X | L1 |\n"), Files: files},
			base: &Side{HasMap: true, Map: []byte(tableMap), Files: files},
			want: []string{"incomplete todo warning docs/dir.md:6", "malformed-map docs/dir.md failure docs/dir.md:7"},
		},
		"max_depth frees deeper directories": {
			head:  &Side{HasMap: true, Map: []byte(tableMap), Files: append([]string{"apps/mobile/a", "zz/a"}, files...)},
			base:  &Side{HasMap: true, Map: []byte(tableMap), Files: files},
			added: []string{"apps/mobile/a", "zz/a"},
			opts:  Options{MaxDepth: 1},
			want:  []string{"incomplete todo warning docs/dir.md:6", "unregistered zz failure zz/a:1"},
		},
		"configured ignore replaces the default": {
			head:  &Side{HasMap: true, Map: []byte(tableMap), Files: append([]string{".hidden/a", "vendor/x/a"}, files...)},
			base:  &Side{HasMap: true, Map: []byte(tableMap), Files: files},
			added: []string{".hidden/a", "vendor/x/a"},
			opts:  Options{Ignore: []string{"vendor"}},
			want:  []string{"unregistered .hidden failure .hidden/a:1", "incomplete todo warning docs/dir.md:6"},
		},
		"required annotations from config": {
			head: &Side{HasMap: true, Map: []byte(tableMap), Files: files},
			base: &Side{HasMap: true, Map: []byte(tableMap), Files: files},
			opts: Options{RequiredAnnotations: []string{"Owner"}},
			want: []string{"incomplete apps warning docs/dir.md:3", "incomplete apps/web warning docs/dir.md:4", "incomplete old warning docs/dir.md:5", "incomplete todo warning docs/dir.md:6"},
		},
		"glob entry registers children and is never stale": {
			head:  &Side{HasMap: true, Map: []byte("| Path | Function |\n|---|---|\n| `apps/*/` | App |\n| `none/*/` | Nothing yet |\n"), Files: []string{"apps/a/x", "apps/b/y"}},
			base:  &Side{HasMap: true, Map: []byte("| Path | Function |\n|---|---|\n| `apps/*/` | App |\n| `none/*/` | Nothing yet |\n"), Files: []string{"apps/a/x"}},
			added: []string{"apps/b/y"},
			want:  nil,
		},
		"whole-tree audit: every entry counts as added": {
			head: &Side{HasMap: true, Map: []byte(tableMap), Files: []string{"apps/web/a", "todo/a", "new/a"}},
			want: []string{"stale old failure docs/dir.md:5", "incomplete todo failure docs/dir.md:6", "unregistered new failure new/a:1"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.opts.MapPath = "docs/dir.md"
			in := Input{Head: tc.head, Base: tc.base, Added: tc.added}
			res, err := Check(context.Background(), in, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := summarise(res.Findings)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("findings:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
			}
		})
	}
}
