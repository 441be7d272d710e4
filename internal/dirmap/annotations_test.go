package dirmap

import (
	"context"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var layerRule = AnnotationRule{Key: "Layer", Values: []string{"L0", "L1", "L2", "L99", "-"}}

var namespaceRule = AnnotationRule{Key: "Namespace",
	Pattern:     regexp.MustCompile(`^(?:` + nsPattern + `)$`),
	PatternText: nsPattern}

const nsPattern = `^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?|-)$`

// The same three entries written in each map format.
var annotationMaps = map[string]string{
	"table": "| Path | Function | Layer | Namespace |\n|---|---|---|---|\n" +
		"| `apps/` | Apps | L99 | - |\n" +
		"| `apps/web/` | Web | L3 | Web_Prod |\n" +
		"| `infra/` | Terraform | l1 | TODO |\n",
	"tree": "```tree\n.\n" +
		"├── apps/   # Function: Apps | Layer: L99 | Namespace: -\n" +
		"│   └── web/  # Function: Web | Layer: L3 | Namespace: Web_Prod\n" +
		"└── infra/  # Function: Terraform | Layer: l1 | Namespace: TODO\n```\n",
	"list": "- `apps/` — Function: Apps | Layer: L99 | Namespace: -\n" +
		"  - `web/` — Function: Web | Layer: L3 | Namespace: Web_Prod\n" +
		"- `infra/` — Function: Terraform | Layer: l1 | Namespace: TODO\n",
}

func TestInvalidAnnotations(t *testing.T) {
	files := []string{"apps/web/main.go", "infra/main.tf"}
	for format, m := range annotationMaps {
		t.Run(format, func(t *testing.T) {
			lines := strings.Split(m, "\n")
			lineOf := func(s string) int {
				for i, l := range lines {
					if strings.Contains(l, s) {
						return i + 1
					}
				}
				t.Fatalf("no line with %q", s)
				return 0
			}
			opts := Options{MapPath: "docs/dir.md", Annotations: []AnnotationRule{layerRule, namespaceRule}}

			// Audit: every entry counts as added, so invalid values fail.
			res, err := Check(context.Background(), Input{Head: &Side{HasMap: true, Map: []byte(m), Files: files}}, opts)
			if err != nil {
				t.Fatal(err)
			}
			got := onlyKind(res.Findings, KindInvalidAnnotation)
			want := []string{
				"invalid-annotation apps/web failure docs/dir.md:" + strconv.Itoa(lineOf("Web")),
				"invalid-annotation apps/web failure docs/dir.md:" + strconv.Itoa(lineOf("Web")),
				"invalid-annotation infra failure docs/dir.md:" + strconv.Itoa(lineOf("Terraform")),
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("audit findings:\n got %v\nwant %v", got, want)
			}
			// TODO stays incomplete, never invalid.
			for _, f := range res.Findings {
				if f.Kind == KindInvalidAnnotation && strings.Contains(f.Message, "TODO") {
					t.Errorf("TODO reported as invalid: %s", f.Message)
				}
			}
			msgs := messages(res.Findings, KindInvalidAnnotation)
			for _, w := range []string{
				`apps/web has Layer "L3", which the config does not declare: use one of "L0", "L1", "L2", "L99", "-" (dirs.annotations.Layer).`,
				`apps/web has Namespace "Web_Prod", which the config does not declare: use a value matching the pattern "^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?|-)$" (dirs.annotations.Namespace).`,
				`infra has Layer "l1", which the config does not declare`, // values are case-sensitive
			} {
				if !strings.Contains(msgs, w) {
					t.Errorf("messages lack %q:\n%s", w, msgs)
				}
			}

			// A change that edits only infra: its finding fails, the older
			// ones are warnings.
			edited := strings.Replace(m, "Terraform", "Terraform modules", 1)
			res, err = Check(context.Background(), Input{
				Head: &Side{HasMap: true, Map: []byte(edited), Files: files},
				Base: &Side{HasMap: true, Map: []byte(m), Files: files},
			}, opts)
			if err != nil {
				t.Fatal(err)
			}
			got = onlyKind(res.Findings, KindInvalidAnnotation)
			want = []string{
				"invalid-annotation apps/web warning docs/dir.md:" + strconv.Itoa(lineOf("Web")),
				"invalid-annotation apps/web warning docs/dir.md:" + strconv.Itoa(lineOf("Web")),
				"invalid-annotation infra failure docs/dir.md:" + strconv.Itoa(lineOf("Terraform")),
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("change findings:\n got %v\nwant %v", got, want)
			}

			// Without declarations nothing is invalid.
			res, err = Check(context.Background(), Input{Head: &Side{HasMap: true, Map: []byte(m), Files: files}}, Options{MapPath: "docs/dir.md"})
			if err != nil {
				t.Fatal(err)
			}
			if got := onlyKind(res.Findings, KindInvalidAnnotation); len(got) != 0 {
				t.Errorf("undeclared annotations reported: %v", got)
			}
		})
	}
}

func onlyKind(fs []Finding, k Kind) []string {
	var out []string
	for _, s := range summarise(fs) {
		if strings.HasPrefix(s, string(k)+" ") {
			out = append(out, s)
		}
	}
	return out
}

func messages(fs []Finding, k Kind) string {
	var b strings.Builder
	for _, f := range fs {
		if f.Kind == k {
			b.WriteString(f.Message + "\n")
		}
	}
	return b.String()
}
