package main

import (
	"strings"
	"testing"
)

// annotationsConfig declares Layer values and verifies Namespace against
// the manifests.
const annotationsConfig = "version: 1\ndirs:\n  annotations:\n" +
	"    Layer: {values: [L1, L2, L99, \"-\"]}\n" +
	"    Namespace: {pattern: '[a-z0-9-]+|-', verify: manifests, level: failure}\n"

// TestCheckAnnotations: a pull request that moves a manifest to another
// namespace and adds an entry with an undeclared Layer, through --base,
// in every format.
func TestCheckAnnotations(t *testing.T) {
	r := newRepo(t)
	base := map[string]string{}
	for k, v := range baseFiles {
		base[k] = v
	}
	base[".github/housekeeper.yml"] = annotationsConfig
	base["platform/ingress/deploy.yaml"] = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ingress\n  namespace: ingress\n"
	r.commit("base", base)
	// The clean base passes its own audit.
	if out, stderr, code := runCLI(t, "check", "--only", "dirs", r.dir); code != exitOK {
		t.Fatalf("audit of the base: exit %d\n%s\n%s", code, out, stderr)
	}
	r.git("checkout", "-q", "-b", "change")
	headMap := strings.Replace(baseMap, "  - `ingress/`", "  - `dns/` — Function: DNS | Layer: L3 | Namespace: dns\n  - `ingress/`", 1)
	r.commit("move ingress", map[string]string{
		"docs/dir.md":                  headMap,
		"platform/dns/zone.yaml":       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: zone\n  namespace: dns\n",
		"platform/ingress/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ingress\n  namespace: ingress-nginx\n",
	})
	out, stderr, code := runCLI(t, "check", "--base", "main", "--only", "dirs", "--format", "json", r.dir)
	if code != exitFindings {
		t.Fatalf("exit %d, want 1; stderr: %s\n%s", code, stderr, out)
	}
	for _, want := range []string{`"kind": "invalid-annotation"`, `"kind": "namespace-drift"`, `"file": "platform/ingress/deploy.yaml"`, `"line": 5`} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON lacks %s:\n%s", want, out)
		}
	}
	for _, format := range []string{"json", "markdown", "text", "sarif"} {
		out, _, _ := runCLI(t, "check", "--base", "main", "--only", "dirs", "--format", format, r.dir)
		golden(t, "annotations."+format, out)
	}
}
