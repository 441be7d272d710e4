package dirmap

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFixesInEachFormat(t *testing.T) {
	tests := map[string]struct {
		src   string
		files []string
		want  string
	}{
		"table row after the last row": {
			src:   "| Path | Function | Layer | Status |\n|---|---|---|---|\n| `apps/` | Apps | L1 | |\n\ntext\n",
			files: []string{"apps/a", "new/a"},
			want:  "| Path | Function | Layer | Status |\n|---|---|---|---|\n| `apps/` | Apps | L1 | |\n| `new/` | TODO | TODO |  |\n\ntext\n",
		},
		"tree child before existing children": {
			src:   "```tree\n.\n├── apps/   # Function: Apps\n│   └── web/   # Function: Web\n└── docs/   # Function: Docs\n```\n",
			files: []string{"apps/web/a", "apps/api/a", "docs/x"},
			want:  "```tree\n.\n├── apps/   # Function: Apps\n│   ├── api/  # Function: TODO\n│   └── web/   # Function: Web\n└── docs/   # Function: Docs\n```\n",
		},
		"tree children where there were none": {
			src:   "```tree\n.\n├── apps/   # Function: Apps\n└── docs/   # Function: Docs\n```\n",
			files: []string{"apps/a", "docs/x", "new1/a", "new2/a"},
			want:  "```tree\n.\n├── new1/  # Function: TODO\n├── new2/  # Function: TODO\n├── apps/   # Function: Apps\n└── docs/   # Function: Docs\n```\n",
		},
		"list nested relative item": {
			src:   "- `platform/` — Function: P\n  - `ingress/` — Function: I\n",
			files: []string{"platform/ingress/a", "platform/dns/a"},
			want:  "- `platform/` — Function: P\n  - `dns/` — Function: TODO\n  - `ingress/` — Function: I\n",
		},
		"list top level": {
			src:   "* `a/` — Function: A\n",
			files: []string{"a/x", "b/x"},
			want:  "* `b/` — Function: TODO\n* `a/` — Function: A\n",
		},
		"CRLF kept": {
			src:   "| Path | Function |\r\n|---|---|\r\n| a | A |\r\n",
			files: []string{"a/x", "b/x"},
			want:  "| Path | Function |\r\n|---|---|\r\n| a | A |\r\n| b | TODO |\r\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res, err := Check(context.Background(), Input{Head: &Side{HasMap: true, Map: []byte(tc.src), Files: tc.files}}, Options{MapPath: "docs/dir.md"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := ApplyFixes([]byte(tc.src), res.Fixes)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("fixed map:\n%s\nwant:\n%s", got, tc.want)
			}
			// Applied, nothing is unregistered any more.
			again, _ := Check(context.Background(), Input{Head: &Side{HasMap: true, Map: got, Files: tc.files}}, Options{MapPath: "docs/dir.md"})
			for _, f := range again.Findings {
				if f.Kind == KindUnregistered || f.Kind == KindMalformed {
					t.Errorf("after the fix: %s %s", f.Kind, f.Message)
				}
			}
		})
	}
}

func TestFixNewTableWhenNoBlock(t *testing.T) {
	src := "# Map\n\nNothing yet.\n"
	res, err := Check(context.Background(), Input{Head: &Side{HasMap: true, Map: []byte(src), Files: []string{"a/x"}}}, Options{MapPath: "docs/dir.md"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ApplyFixes([]byte(src), res.Fixes)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "| Path | Function |\n| --- | --- |\n| `a/` | TODO |\n") {
		t.Errorf("fixed map:\n%s", got)
	}
}

func TestFixPatchAppliesWithGit(t *testing.T) {
	src := "# Map\n\n| Path | Function |\n|---|---|\n| `a/` | A |\n\nsome\ntext\nhere\nand\nmore\n\n- `b/` — Function: B\n  - `x/` — Function: X\n"
	files := []string{"a/f", "b/x/f", "new/f", "b/y/f"}
	res, err := Check(context.Background(), Input{Head: &Side{HasMap: true, Map: []byte(src), Files: files}}, Options{MapPath: "docs/dir.md"})
	if err != nil {
		t.Fatal(err)
	}
	patch, err := FixPatch("docs/dir.md", []byte(src), res.Fixes)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ApplyFixes([]byte(src), res.Fixes)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "docs"), 0o755)
	os.WriteFile(filepath.Join(dir, "docs", "dir.md"), []byte(src), 0o644)
	os.WriteFile(filepath.Join(dir, "fix.patch"), []byte(patch), 0o644)
	cmd := exec.Command("git", "apply", "fix.patch")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git apply: %v\n%s\npatch:\n%s", err, out, patch)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "docs", "dir.md"))
	if string(got) != string(want) {
		t.Errorf("applied:\n%s\nwant:\n%s\npatch:\n%s", got, want, patch)
	}
}
