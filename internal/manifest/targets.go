package manifest

import (
	"bytes"
	"fmt"
	"path"
	"strings"
)

// MaxTargetSize bounds one file Targets reads; the drift check reads only
// the files in its scope, so it allows more than Inspect.
const MaxTargetSize = 1 << 20

// ErrTargetTooLarge is Targets' answer for a file over MaxTargetSize,
// worded for the drift check's notice.
var ErrTargetTooLarge = fmt.Errorf("it is larger than %d MiB", MaxTargetSize>>20)

// Target is one place a file sets the namespace it deploys into.
type Target struct {
	Namespace string
	Line      int    // 1-based line in the file
	What      string // "Service metadata.namespace", "kustomization namespace", …
}

// clusterScoped lists kinds that live in no namespace: their
// metadata.namespace, if any, is meaningless and not compared.
var clusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "StorageClass": true,
	"CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"PriorityClass": true, "IngressClass": true, "RuntimeClass": true, "CSIDriver": true,
	"CSINode": true, "VolumeSnapshotClass": true, "MutatingWebhookConfiguration": true,
	"ValidatingWebhookConfiguration": true, "ValidatingAdmissionPolicy": true,
	"ValidatingAdmissionPolicyBinding": true, "APIService": true, "ClusterIssuer": true,
	"ClusterSecretStore": true, "ClusterPolicy": true, "PodSecurityPolicy": true,
	"CertificateSigningRequest": true, "ClusterRoleTemplate": true, "GatewayClass": true,
}

// IsManifest reports whether a file is YAML the drift check reads (a
// chart's Chart.yaml names no namespace).
func IsManifest(p string) bool {
	return IsYAML(p) && path.Base(p) != "Chart.yaml"
}

// ChartRole says how a file relates to a Helm chart.
type ChartRole int

// Chart roles.
const (
	NotInChart    ChartRole = iota
	ChartValues             // values*.y(a)ml beside a Chart.yaml
	ChartTemplate           // under a chart's templates/: Go templates, not YAML
)

// RoleInChart tells a chart's values and templates from other files; exists
// reports whether a path is in the tree.
func RoleInChart(p string, exists func(string) bool) ChartRole {
	dir := path.Dir(p)
	if exists(path.Join(dir, "Chart.yaml")) {
		if strings.HasPrefix(path.Base(p), "values") {
			return ChartValues
		}
		return NotInChart
	}
	for d := dir; d != "." && d != "/"; d = path.Dir(d) {
		if path.Base(d) == "templates" && exists(path.Join(path.Dir(d), "Chart.yaml")) {
			return ChartTemplate
		}
	}
	return NotInChart
}

// Targets reads the namespaces a YAML file deploys into: a namespaced
// object's metadata.namespace (an Argo CD Application or a Flux
// Kustomization counts where it lives), a kustomization's namespace, and
// for Helm values (helmValues) namespaceOverride, else namespace. Files and
// documents that never mention "namespace" are skipped before any
// decoding; templated values ({{ … }}, ${…}) are skipped, not guessed. A
// document that is not valid YAML is an error naming its line.
func Targets(name string, data []byte, helmValues bool) ([]Target, error) {
	if len(data) > MaxTargetSize {
		return nil, ErrTargetTooLarge
	}
	if !bytes.Contains(data, []byte("namespace")) {
		return nil, nil
	}
	b := path.Base(name)
	kustomization := b == "kustomization.yaml" || b == "kustomization.yml"
	var out []Target
	var err error
	eachDocument(data, func(doc document) bool {
		if !bytes.Contains(doc.data, []byte("namespace")) {
			return true
		}
		facts, ferr := readFacts(doc.data)
		if ferr != nil {
			err = fmt.Errorf("it is not valid YAML near line %d", doc.line)
			return false
		}
		add := func(f *fact, what string) {
			if f == nil || f.value == "" || templated(f.value) {
				return
			}
			out = append(out, Target{Namespace: f.value, Line: doc.line + f.line - 1, What: what})
		}
		switch {
		case !facts.mapping:
		case helmValues:
			if facts.nsOverride != nil && facts.nsOverride.value != "" {
				add(facts.nsOverride, "Helm values namespaceOverride")
			} else {
				add(facts.ns, "Helm values namespace")
			}
		case kustomization && !strings.HasPrefix(facts.api, "kustomize.toolkit.fluxcd.io"):
			add(facts.ns, "kustomization namespace")
		case facts.api != "" && facts.kind != "" && facts.metaMapping && !clusterScoped[facts.kind]:
			add(facts.metaNS, facts.kind+" metadata.namespace")
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func templated(v string) bool { return strings.Contains(v, "{{") || strings.Contains(v, "${") }
