package secrets_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

func TestParseDiff(t *testing.T) {
	diff := strings.Join([]string{
		"commit 0123456789abcdef0123456789abcdef01234567",
		"Author: A <a@example.com>",
		"",
		"    --- not a header",
		"",
		"diff --git a/app/config.yaml b/app/config.yaml",
		"index 1111111..2222222 100644",
		"--- a/app/config.yaml",
		"+++ b/app/config.yaml",
		"@@ -1,4 +1,4 @@",
		" server:",
		"-  password: old",
		"+  password: new",
		"-- - weird deleted line",
		"+-- added dashes",
		"@@ -10 +10,2 @@ section",
		" ctx",
		"+last",
		"\\ No newline at end of file",
		"diff --git a/old name.txt b/new name.txt",
		"similarity index 90%",
		"rename from old name.txt",
		"rename to new name.txt",
		"diff --git a/logo.png b/logo.png",
		"new file mode 100644",
		"index 0000000..3333333",
		"Binary files /dev/null and b/logo.png differ",
		"diff --git a/gone.env b/gone.env",
		"deleted file mode 100644",
		"--- a/gone.env",
		"+++ /dev/null",
		"@@ -1 +0,0 @@",
		"-A=1",
		`diff --git "a/sp\303\251cial.txt" "b/sp\303\251cial.txt"`,
		"new file mode 100644",
		"--- /dev/null",
		`+++ "b/sp\303\251cial.txt"`,
		"@@ -0,0 +1 @@",
		"+hi\r",
	}, "\n")
	got, err := secrets.ParseDiff([]byte(diff))
	if err != nil {
		t.Fatal(err)
	}
	want := []secrets.FileDiff{
		{OldPath: "app/config.yaml", NewPath: "app/config.yaml",
			Added:   []secrets.DiffLine{{Line: 2, Text: "  password: new"}, {Line: 3, Text: "-- added dashes"}, {Line: 11, Text: "last"}},
			Deleted: []secrets.DiffLine{{Line: 2, Text: "  password: old"}, {Line: 3, Text: "- - weird deleted line"}}},
		{OldPath: "old name.txt", NewPath: "new name.txt"},
		{OldPath: "", NewPath: "logo.png", Binary: true},
		{OldPath: "gone.env", NewPath: "", Deleted: []secrets.DiffLine{{Line: 1, Text: "A=1"}}},
		{OldPath: "", NewPath: "spécial.txt", Added: []secrets.DiffLine{{Line: 1, Text: "hi"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseDiff =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParsePatch(t *testing.T) {
	patch := "@@ -3,2 +3,3 @@ func x() {\r\n a\r\n-b\r\n+c\r\n+d\r\n"
	got, err := secrets.ParsePatch("x.go", patch)
	if err != nil {
		t.Fatal(err)
	}
	want := secrets.FileDiff{OldPath: "x.go", NewPath: "x.go",
		Added:   []secrets.DiffLine{{Line: 4, Text: "c"}, {Line: 5, Text: "d"}},
		Deleted: []secrets.DiffLine{{Line: 4, Text: "b"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParsePatch = %+v, want %+v", got, want)
	}
	if _, err := secrets.ParsePatch("x", "@@ -a +b @@\n"); err == nil {
		t.Error("malformed hunk header: no error")
	}
}

func TestScanChange(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	g := corpus.NewRand(11)
	tok := "gh" + "p_" + g.String(corpus.Alnum, 36)
	old := "st" + "ripe: sk" + "_live_" + g.String(corpus.Alnum, 24)
	secretYAML := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  a: one\n  b: two\n"

	tests := map[string]struct {
		diff    secrets.FileDiff
		content string
		want    []string // rule@line, "!" prefix for deleted notices
	}{
		"added line": {
			diff: secrets.FileDiff{OldPath: "ci.yml", NewPath: "ci.yml", Added: []secrets.DiffLine{{Line: 3, Text: "token: " + tok}}},
			want: []string{"github-pat@3"},
		},
		"secret only on a context line": {
			diff:    secrets.FileDiff{OldPath: "ci.yml", NewPath: "ci.yml", Added: []secrets.DiffLine{{Line: 2, Text: "x: 1"}}},
			content: "token: " + tok + "\nx: 1\n",
		},
		"deleted line is a notice": {
			diff: secrets.FileDiff{OldPath: "app.env.yaml", NewPath: "app.env.yaml", Deleted: []secrets.DiffLine{{Line: 7, Text: old}}},
			want: []string{"!stripe-secret-key@7"},
		},
		"structural rule needs the added key line": {
			diff:    secrets.FileDiff{OldPath: "k8s/s.yaml", NewPath: "k8s/s.yaml", Added: []secrets.DiffLine{{Line: 7, Text: "  b: two"}}},
			content: secretYAML,
			want:    []string{"k8s-secret-literal@7"},
		},
		"new file without content": {
			diff: secrets.FileDiff{NewPath: "k8s/s.yaml", Added: linesOf(secretYAML)},
			want: []string{"k8s-secret-literal@6", "k8s-secret-literal@7"},
		},
		"file rule on an added file": {
			diff: secrets.FileDiff{NewPath: "infra/terraform.tfstate", Added: []secrets.DiffLine{{Line: 1, Text: "{}"}}},
			want: []string{"terraform-state-file@0"},
		},
		"binary file by name": {
			diff: secrets.FileDiff{NewPath: "certs/client.p12", Binary: true},
			want: []string{"pkcs12-file@0"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var content []byte
			if tc.content != "" {
				content = []byte(tc.content)
			}
			var got []string
			fs, _, err := s.ScanChange(context.Background(), tc.diff, content)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				k := f.RuleID + "@" + itoa(f.Line)
				if f.Deleted {
					k = "!" + k
					if !strings.Contains(f.Message(), "does not remove it from history") {
						t.Errorf("deleted notice message %q", f.Message())
					}
				}
				got = append(got, k)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func linesOf(s string) []secrets.DiffLine {
	var out []secrets.DiffLine
	for i, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		out = append(out, secrets.DiffLine{Line: i + 1, Text: l})
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// FuzzParseDiff: no input makes the parser or a change scan panic, and
// parsed line numbers are positive.
func FuzzParseDiff(f *testing.F) {
	// The seed corpus is testdata/fuzz/FuzzParseDiff, run by plain go test.
	s := newScanner(f, secrets.Options{})
	f.Fuzz(func(t *testing.T, data []byte) {
		diffs, _ := secrets.ParseDiff(data)
		for _, d := range diffs {
			for _, l := range append(d.Added, d.Deleted...) {
				if l.Line < 0 {
					t.Fatalf("negative line %d", l.Line)
				}
			}
			s.ScanChange(context.Background(), d, nil)
		}
		d, _ := secrets.ParsePatch("p.yaml", string(data))
		s.ScanChange(context.Background(), d, data)
	})
}
