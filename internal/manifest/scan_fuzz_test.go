package manifest

import (
	"reflect"
	"testing"
)

// FuzzScanFacts holds the line scanner to the YAML decoder: whenever the
// scanner answers and the decoder reads the document, both agree.
func FuzzScanFacts(f *testing.F) {
	for _, tc := range targetCases {
		f.Add(tc.data)
	}
	for _, tc := range namespaceCases {
		f.Add(tc.data)
	}
	for _, s := range []string{
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  namespace: a\n",
		"apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: a\n    b\n",
		"metadata:\n  labels:\n    namespace: inner\n  namespace: 'q'\n",
		"namespace: \"x\" # comment\nnamespaceOverride: ~\n",
		"kind: A\nkind: B\nmetadata:\n\n  namespace: a\n",
		"  apiVersion: v1\n  kind: Pod\n",
		"data: |\n  namespace: x\nmetadata:\n  namespace: y\n",
		"metadata: {namespace: a}\n",
		"apiVersion: v1\nkind: Pod\nmetadata:\n   namespace: a\n  name: b\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: ${NAMESPACE}\n",
		"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  targetNamespace: payments\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := scanFacts([]byte(s))
		if !ok {
			return
		}
		slow, err := decodeFacts([]byte(s))
		if err != nil {
			return // the scanner is lenient about broken YAML it does not need
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("scanner and decoder disagree on %q:\nscan   %+v %+v %+v %+v\ndecode %+v %+v %+v %+v", s, fast, fast.ns, fast.nsOverride, fast.metaNS, slow, slow.ns, slow.nsOverride, slow.metaNS)
		}
	})
}
