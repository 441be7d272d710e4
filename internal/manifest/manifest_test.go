package manifest

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// namespaceCases are map generation's readings; the fuzz target also
// takes their files as seeds.
var namespaceCases = map[string]struct {
	name, data string
	want       []Namespace
}{
	"manifests, several documents": {"deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: web\n---\napiVersion: v1\nkind: Service\nmetadata:\n  namespace: web-2\n",
		[]Namespace{{"web", SourceMetadata, 5}, {"web-2", SourceMetadata, 10}}},
	"kustomization file": {"overlays/prod/kustomization.yaml", "resources: [../../base]\nnamespace: shop\n",
		[]Namespace{{"shop", SourceKustomization, 2}}},
	"Argo CD Application destination, not its own namespace": {"apps/web.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  namespace: argocd\nspec:\n  destination:\n    namespace: web\n",
		[]Namespace{{"web", SourceArgoCD, 7}}},
	"Helm values": {"charts/x/values.yaml", "namespaceOverride: monitoring\nnamespace: other\n",
		[]Namespace{{"other", SourceHelmValues, 2}, {"monitoring", SourceHelmValues, 1}}},
	"Helm template is skipped":  {"charts/x/templates/d.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: {{ .Release.Namespace }}\n", nil},
	"invalid name is not taken": {"x.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: \"Web | Layer: L0\"\n", nil},
	"not a manifest":            {"config.yaml", "metadata:\n  namespace: web\n", nil},
	"alias not followed":        {"x.yaml", "a: &a web\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: *a\n", nil},
	"scalar document":           {"x.yaml", "just text\n", nil},
	"null is no namespace":      {"kustomization.yaml", "namespace: null\n", nil},
	"flow document on the marker line": {"x.yaml", "--- {apiVersion: v1, kind: ConfigMap, metadata: {namespace: a}}\n",
		[]Namespace{{"a", SourceMetadata, 1}}},
	"stops at a broken document": {"x.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: a\n---\nkind: [\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: b\n",
		[]Namespace{{"a", SourceMetadata, 4}}},
}

func TestNamespaces(t *testing.T) {
	for name, tc := range namespaceCases {
		t.Run(name, func(t *testing.T) {
			got, err := Namespaces(tc.name, []byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestNamespacesBounded(t *testing.T) {
	if _, err := Namespaces("big.yaml", make([]byte, MaxSize+1)); err != ErrTooLarge {
		t.Errorf("oversized file: err %v, want ErrTooLarge", err)
	}
	many := strings.Repeat("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: a\n---\n", MaxDocs+50)
	got, err := Namespaces("many.yaml", []byte(many))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != MaxDocs {
		t.Errorf("read %d documents, want at most %d", len(got), MaxDocs)
	}
}

func TestInspectKubernetes(t *testing.T) {
	for name, tc := range map[string]struct {
		file, data string
		want       bool
	}{
		"manifest":      {"a.yaml", "apiVersion: v1\nkind: ConfigMap\n", true},
		"kustomization": {"kustomization.yaml", "resources: []\n", true},
		"values":        {"values-prod.yaml", "replicas: 1\n", true},
		"chart":         {"Chart.yaml", "name: x\n", true},
		"workflow":      {"ci.yml", "on: push\njobs: {}\n", false},
		"rules":         {"rules.yaml", "rules:\n  - id: x\n", false},
		"compose":       {"docker-compose.yml", "services:\n  web: {}\n", false},
	} {
		t.Run(name, func(t *testing.T) {
			info, err := Inspect(tc.file, []byte(tc.data))
			if err != nil || info.Kubernetes != tc.want {
				t.Errorf("Kubernetes = %v (%v), want %v", info.Kubernetes, err, tc.want)
			}
		})
	}
}

// TestDNS1123LabelMatchesTheRegex: the hand-written check accepts exactly
// what ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ accepts.
func TestDNS1123LabelMatchesTheRegex(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	cases := []string{"", "a", "-", "a-", "-a", "a-b", "a--b", "0", "A", "aB", "a.b", "a_b", "ä", "a\n", "{{ .Release.Namespace }}",
		strings.Repeat("a", 63), strings.Repeat("a", 64), "a" + strings.Repeat("-", 61) + "b", "a" + strings.Repeat("-", 62) + "b"}
	// Every string of up to three bytes over an alphabet with each class.
	alpha := "a9-.A\x00"
	for _, a := range alpha {
		cases = append(cases, string(a))
		for _, b := range alpha {
			cases = append(cases, string(a)+string(b))
			for _, c := range alpha {
				cases = append(cases, string(a)+string(b)+string(c))
			}
		}
	}
	for _, s := range cases {
		if got, want := isDNS1123Label(s), re.MatchString(s); got != want {
			t.Errorf("isDNS1123Label(%q) = %v, want %v", s, got, want)
		}
	}
}
