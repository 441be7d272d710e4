package dirmap

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// gitopsMap registers a GitOps layout: Argo CD applications, kustomize
// overlays, a Helm chart, Flux objects, cluster-wide objects.
const gitopsMap = "| Path | Function | Layer | Namespace |\n|---|---|---|---|\n" +
	"| `argocd/` | Argo CD | L2 | argocd |\n" + // 3
	"| `apps/` | Apps | L99 | - |\n" + // 4
	"| `apps/payments/` | Payments | L99 | payments |\n" + // 5
	"| `apps/payments/overlays/prod/` | Prod overlay | L99 | payments-prod |\n" + // 6
	"| `apps/payments/overlays/staging/` | Staging overlay | L99 | payments-staging |\n" + // 7
	"| `charts/web/` | Web chart | L99 | web |\n" + // 8
	"| `clusters/prod/` | Flux | L2 | flux-system |\n" + // 9
	"| `platform/crds/` | CRDs | L2 | - |\n" + // 10
	"| `apps/todo/` | Unknown | L99 | TODO |\n" // 11

var gitopsFiles = map[string]string{
	// An Application lives in argocd; where it points is not compared.
	"argocd/payments.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: payments\n  namespace: argocd\nspec:\n  destination:\n    namespace: payments-prod\n",
	// Two documents: the second drifts, on line 12 of the file.
	"apps/payments/base/app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: payments\n---\n# the service\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: payments-prod\n",
	// A Namespace object is not compared; nor is a document without one.
	"apps/payments/base/ns.yaml":      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments-anything\n",
	"apps/payments/base/cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  a: b\n",
	"apps/payments/README.md":         "namespace: not-yaml-anyway\n",
	"apps/payments/base/tests/t.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  namespace: test-only\n", // ignored by config
	// Overlays: kustomizations by file name.
	"apps/payments/overlays/prod/kustomization.yaml":   "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: payments-prod\nresources: [../../base]\n",
	"apps/payments/overlays/staging/kustomization.yml": "namespace: payments-stg\nresources: [../../base]\n",
	"apps/payments/overlays/staging/patch.yaml":        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: ${NAMESPACE}\n", // templated: skipped
	"charts/web/Chart.yaml":                            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
	"charts/web/values.yaml":                           "replicas: 2\nnamespace: web\nnamespaceOverride: web-x\n",
	"charts/web/values-prod.yaml":                      "namespace: \"{{ .Release.Namespace }}\"\n",
	"charts/web/templates/deployment.yaml":             "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  namespace: {{ .Release.Namespace }}\n  {{- include \"labels\" . }}\n",
	"clusters/prod/flux-system/kustomization.yaml":     "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  targetNamespace: payments\n",
	"clusters/prod/flux-system/gotk-sync.yaml":         "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\n",
	"platform/crds/crd.yaml":                           "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n",
	"platform/crds/role.yaml":                          "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n  namespace: ignored-for-cluster-scoped\n",
	"platform/crds/cm.yaml":                            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: kube-system\n",
	"apps/todo/x.yaml":                                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: anything\n",
	"argocd/broken.yaml":                               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: [unclosed\n",
}

func gitopsInput(files map[string]string) Input {
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	paths = append(paths, "docs/dir.md")
	sort.Strings(paths)
	return Input{Head: &Side{HasMap: true, Map: []byte(gitopsMap), Files: paths}}
}

var verifyOpts = Options{MapPath: "docs/dir.md", Ignore: []string{"**/.*", "**/tests"},
	Annotations: []AnnotationRule{{Key: "Namespace", VerifyManifests: true}}}

// readScope plays the caller: in.ReadManifests reads from files and
// records the paths Check asked for in *asked.
func readScope(t *testing.T, in Input, files map[string]string, asked *[]string) Input {
	t.Helper()
	in.ReadManifests = func(paths []string) ([]Manifest, error) {
		if asked != nil {
			*asked = append(*asked, paths...)
		}
		var out []Manifest
		for _, p := range paths {
			data, ok := files[p]
			if !ok {
				t.Fatalf("scope names %s, which is not in the tree", p)
			}
			out = append(out, Manifest{Path: p, Data: []byte(data)})
		}
		return out, nil
	}
	return in
}

func TestNamespaceDriftScenario(t *testing.T) {
	in := gitopsInput(gitopsFiles)
	var scope []string
	res, err := Check(context.Background(), readScope(t, in, gitopsFiles, &scope), verifyOpts)
	if err != nil {
		t.Fatal(err)
	}
	if len(scope) == 0 {
		t.Fatal("no manifest was read")
	}
	for _, p := range scope {
		if strings.Contains(p, "/templates/") || strings.Contains(p, "/tests/") || strings.HasSuffix(p, ".md") || strings.HasPrefix(p, "apps/todo/") {
			t.Errorf("scope reads %s", p)
		}
	}
	got := onlyKind(res.Findings, KindNamespaceDrift)
	want := []string{
		"namespace-drift apps/payments warning apps/payments/base/app.yaml:12",
		"namespace-drift apps/payments/overlays/staging warning apps/payments/overlays/staging/kustomization.yml:1",
		"namespace-drift argocd notice argocd/broken.yaml:1",
		"namespace-drift charts/web warning charts/web/values.yaml:3",
		"namespace-drift platform/crds warning platform/crds/cm.yaml:5",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	msgs := messages(res.Findings, KindNamespaceDrift)
	for _, w := range []string{
		`The map says "payments" for apps/payments, this manifest deploys into "payments-prod" (Service metadata.namespace). Change the manifest to deploy into "payments", or the entry to "Namespace: payments-prod" (docs/dir.md line 5).`,
		`this manifest deploys into "payments-stg" (kustomization namespace)`,
		`this manifest deploys into "web-x" (Helm values namespaceOverride)`,
		`The map says no namespace ("-") for platform/crds, this manifest deploys into "kube-system"`,
		"argocd/broken.yaml was not compared with the map's Namespace: it is not valid YAML near line 1.",
	} {
		if !strings.Contains(msgs, w) {
			t.Errorf("messages lack %q:\n%s", w, msgs)
		}
	}

	// Level is configurable.
	failing := verifyOpts
	failing.Annotations = []AnnotationRule{{Key: "Namespace", VerifyManifests: true, Level: LevelFailure}}
	res, err = Check(context.Background(), readScope(t, in, gitopsFiles, nil), failing)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed() {
		t.Errorf("level: failure did not fail: %v", summarise(res.Findings))
	}
	// Without verify nothing is read and nothing drifts.
	plain := verifyOpts
	plain.Annotations = nil
	var none []string
	if _, err := Check(context.Background(), readScope(t, in, gitopsFiles, &none), plain); err != nil || none != nil {
		t.Errorf("scope without verify: %v (%v)", none, err)
	}
}

func TestNamespaceDriftChangeScope(t *testing.T) {
	base := gitopsInput(gitopsFiles)
	head := gitopsInput(gitopsFiles)
	// The change edits one manifest and one entry; nothing else is read.
	changedFiles := map[string]string{}
	for k, v := range gitopsFiles {
		changedFiles[k] = v
	}
	changedFiles["apps/payments/overlays/prod/kustomization.yaml"] = strings.Replace(gitopsFiles["apps/payments/overlays/prod/kustomization.yaml"], "namespace: payments-prod", "namespace: payments-live", 1)
	headMap := strings.Replace(gitopsMap, "| Web chart | L99 | web |", "| Web chart | L99 | web-x |", 1)
	in := Input{
		Head:    &Side{HasMap: true, Map: []byte(headMap), Files: head.Head.Files},
		Base:    &Side{HasMap: true, Map: []byte(gitopsMap), Files: base.Head.Files},
		Changed: []string{"apps/payments/overlays/prod/kustomization.yaml"},
	}
	var scope []string
	res, err := Check(context.Background(), readScope(t, in, changedFiles, &scope), verifyOpts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"apps/payments/overlays/prod/kustomization.yaml", "charts/web/values-prod.yaml", "charts/web/values.yaml"}
	if !reflect.DeepEqual(scope, want) {
		t.Fatalf("scope:\n got %v\nwant %v", scope, want)
	}
	msgs := messages(res.Findings, KindNamespaceDrift)
	// The manifest side changed: the map is the source of truth.
	if !strings.Contains(msgs, `This change sets it and the map is the source of truth: deploy into "payments-prod", or if the move is intended change the entry to "Namespace: payments-live" (docs/dir.md line 6).`) {
		t.Errorf("manifest-side message missing:\n%s", msgs)
	}
	// The entry was edited to web-x and values.yaml says web-x: no drift
	// there any more; the edit made nothing else drift.
	if strings.Contains(msgs, "charts/web") {
		t.Errorf("charts/web drifts after the entry was fixed:\n%s", msgs)
	}
	headMap2 := strings.Replace(gitopsMap, "| Prod overlay | L99 | payments-prod |", "| Prod overlay | L99 | payments-eu |", 1)
	in.Head.Map = []byte(headMap2)
	in.Changed = nil
	res, err = Check(context.Background(), readScope(t, in, gitopsFiles, nil), verifyOpts)
	if err != nil {
		t.Fatal(err)
	}
	if msgs := messages(res.Findings, KindNamespaceDrift); !strings.Contains(msgs, "This change edits the entry's Namespace: update the manifests under apps/payments/overlays/prod to match") {
		t.Errorf("entry-side message missing:\n%s", msgs)
	}
}
