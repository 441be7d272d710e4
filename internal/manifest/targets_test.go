package manifest

import (
	"fmt"
	"strings"
	"testing"
)

// targetCases are the drift check's readings; the fuzz target also takes
// their files as seeds.
var targetCases = map[string]struct {
	path   string
	data   string
	values bool
	want   string
}{
	"no namespace word": {"a.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n", false, ""},
	"object":            {"a.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  namespace: a\n", false, "a@5"},
	"no apiVersion":     {"a.yaml", "kind: Pod\nmetadata:\n  namespace: a\n", false, ""},
	"list of docs":      {"a.yaml", "---\napiVersion: v1\nkind: Pod\nmetadata: {namespace: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {namespace: b}\n", false, "a@4 b@8"},
	"cluster scoped":    {"a.yaml", "apiVersion: v1\nkind: PersistentVolume\nmetadata: {namespace: a}\n", false, ""},
	"flux kustomization by file name": {"kustomization.yaml",
		"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {namespace: flux-system}\nnamespace: not-read\n", false, "flux-system@3"},
	"kustomize":                    {"kustomization.yaml", "namespace: k\n", false, "k@1"},
	"values override first":        {"values.yaml", "namespace: a\nnamespaceOverride: b\n", true, "b@2"},
	"values namespace":             {"values.yaml", "namespace: a\nnamespaceOverride: \"\"\n", true, "a@1"},
	"values nested not read":       {"values.yaml", "sub:\n  namespace: a\n", true, ""},
	"templated":                    {"a.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {namespace: '{{ .Values.ns }}'}\n", false, ""},
	"CRLF":                         {"a.yaml", "apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  namespace: a\r\n", false, "a@4"},
	"document marker with comment": {"a.yaml", "--- # first\napiVersion: v1\nkind: Pod\nmetadata: {namespace: a}\n", false, "a@4"},
	"content on the marker line":   {"a.yaml", "--- {apiVersion: v1, kind: Pod, metadata: {namespace: a}}\n--- {apiVersion: v1, kind: Pod,\n  metadata: {namespace: b}}\n", false, "a@1 b@3"},
}

func TestTargets(t *testing.T) {
	for name, tc := range targetCases {
		t.Run(name, func(t *testing.T) {
			uses, err := Targets(tc.path, []byte(tc.data), tc.values)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range uses {
				got = append(got, fmt.Sprintf("%s@%d", u.Namespace, u.Line))
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got %q, want %q", g, tc.want)
			}
		})
	}
}

func TestTargetsRefuses(t *testing.T) {
	if _, err := Targets("big.yaml", make([]byte, MaxTargetSize+1), false); err != ErrTargetTooLarge {
		t.Errorf("oversized manifest: err %v, want ErrTargetTooLarge", err)
	}
	// The error names the broken document's line, not the file's first.
	_, err := Targets("a.yaml", []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: a\n---\nmetadata:\n  namespace: [unclosed\n"), false)
	if err == nil || err.Error() != "it is not valid YAML near line 6" {
		t.Errorf("broken second document: err %v", err)
	}
}

func TestRoleInChart(t *testing.T) {
	tree := map[string]bool{"charts/web/Chart.yaml": true}
	exists := func(p string) bool { return tree[p] }
	for p, want := range map[string]ChartRole{
		"charts/web/values.yaml":                ChartValues,
		"charts/web/values-prod.yml":            ChartValues,
		"charts/web/other.yaml":                 NotInChart,
		"charts/web/templates/deployment.yaml":  ChartTemplate,
		"charts/web/templates/sub/service.yaml": ChartTemplate,
		"other/values.yaml":                     NotInChart,
		"other/templates/deployment.yaml":       NotInChart,
		"charts/web/crds/templates/values.yaml": NotInChart,
	} {
		if got := RoleInChart(p, exists); got != want {
			t.Errorf("%s: role %d, want %d", p, got, want)
		}
	}
}
