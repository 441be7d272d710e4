// Package manifest reads what Kubernetes-style YAML files say about
// namespaces: manifests' metadata.namespace, a kustomization's namespace,
// an Argo CD Application's destination and Helm values' namespace or
// namespaceOverride. It takes file bytes and returns plain values, so that
// map generation and the dirs check can share it; every file is hostile
// (bounded size and document count, aliases never followed, only valid
// namespace names returned).
package manifest

import (
	"bytes"
	"errors"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits on one file.
const (
	MaxSize = 256 << 10
	MaxDocs = 100
)

// Source says which field named a namespace.
type Source string

// Sources.
const (
	SourceMetadata      Source = "metadata.namespace"
	SourceKustomization Source = "kustomization"
	SourceArgoCD        Source = "argocd-destination"
	SourceHelmValues    Source = "helm-values"
)

// Namespace is one namespace a file names.
type Namespace struct {
	Name   string
	Source Source
	Line   int // 1-based line in the file
}

// ErrTooLarge is returned for files over MaxSize (nothing is read).
var ErrTooLarge = errors.New("manifest: file too large")

// dns1123 is the form of a Kubernetes namespace name; anything else (a
// Helm template, an injected string) is not a namespace.
var dns1123 = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// IsYAML reports whether a path names a YAML file.
func IsYAML(p string) bool {
	ext := strings.ToLower(path.Ext(p))
	return ext == ".yaml" || ext == ".yml"
}

// Namespaces returns the namespaces a YAML file names, in file order.
// name is the file's path (its base name tells a kustomization or Helm
// values file from a manifest). Documents that do not parse are skipped: a
// Helm template is not YAML until rendered.
func Namespaces(name string, data []byte) ([]Namespace, error) {
	info, err := Inspect(name, data)
	return info.Namespaces, err
}

// Info is what a YAML file says.
type Info struct {
	Namespaces []Namespace
	// Kubernetes is set when the file is a Kubernetes object (apiVersion
	// and kind), a kustomization or Helm values: something deployed.
	Kubernetes bool
}

// Inspect reads a YAML file's namespaces and whether it is Kubernetes
// configuration at all.
func Inspect(name string, data []byte) (Info, error) {
	var info Info
	if len(data) > MaxSize {
		return info, ErrTooLarge
	}
	base := strings.ToLower(path.Base(name))
	kind := fileManifest
	switch {
	case base == "kustomization.yaml" || base == "kustomization.yml" || base == "kustomization":
		kind = fileKustomization
	case strings.HasPrefix(base, "values") && IsYAML(base):
		kind = fileValues
	case base == "chart.yaml":
		// A Helm chart deploys to the release's namespace, chosen at
		// install time: Kubernetes, with no namespace of its own.
		return Info{Kubernetes: true}, nil
	}
	var out []Namespace
	info.Kubernetes = kind != fileManifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; i < MaxDocs; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			break // the rest of the stream cannot be trusted to resync
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		root := doc.Content[0]
		switch kind {
		case fileKustomization:
			out = appendNS(out, lookup(root, "namespace"), SourceKustomization)
		case fileValues:
			out = appendNS(out, lookup(root, "namespace"), SourceHelmValues)
			out = appendNS(out, lookup(root, "namespaceOverride"), SourceHelmValues)
		default:
			apiVersion := scalar(lookup(root, "apiVersion"))
			k := scalar(lookup(root, "kind"))
			switch {
			case k == "Kustomization" && strings.HasPrefix(apiVersion, "kustomize.config.k8s.io/"):
				out = appendNS(out, lookup(root, "namespace"), SourceKustomization)
			case k == "Application" && strings.HasPrefix(apiVersion, "argoproj.io/"):
				// The Application object lives in Argo CD's namespace; what
				// it deploys goes to its destination.
				out = appendNS(out, lookup(root, "spec", "destination", "namespace"), SourceArgoCD)
			case apiVersion != "" && k != "":
				out = appendNS(out, lookup(root, "metadata", "namespace"), SourceMetadata)
			}
			if apiVersion != "" && k != "" {
				info.Kubernetes = true
			}
		}
	}
	info.Namespaces = out
	return info, nil
}

type fileKind int

const (
	fileManifest fileKind = iota
	fileKustomization
	fileValues
)

// Names returns the distinct namespace names, sorted.
func Names(ns []Namespace) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range ns {
		if !seen[n.Name] {
			seen[n.Name] = true
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out
}

func appendNS(out []Namespace, n *yaml.Node, src Source) []Namespace {
	if v := scalar(n); v != "" && dns1123.MatchString(v) {
		out = append(out, Namespace{Name: v, Source: src, Line: n.Line})
	}
	return out
}

// lookup follows mapping keys; aliases are never followed.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}
