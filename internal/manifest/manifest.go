// Package manifest reads what Kubernetes-style YAML files say about
// namespaces, for the two places that need it: map generation (Inspect:
// which namespaces a directory's files name, and whether they are
// Kubernetes configuration at all) and the dirs check's namespace drift
// (Targets: where each object, kustomization or Helm values file deploys,
// with its line). Both share one reader: a stream cut at its "---" lines,
// each document read by a line scanner for the plain block style nearly
// every manifest has, and by the YAML decoder for anything else.
//
// It takes file bytes and returns plain values; every file is hostile
// (bounded size and document count, aliases never followed, templated
// values skipped, never guessed).
package manifest

import (
	"errors"
	"path"
	"sort"
	"strings"
)

// Limits on one file Inspect reads (map generation reads many files).
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

// isDNS1123Label reports whether s has the form of a Kubernetes namespace
// name, ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$; anything else (a Helm
// template, an injected string) is not a namespace. Checked by hand: the
// regex's bounded repetition compiles to a large program, and every
// process paid for it at start.
func isDNS1123Label(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

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
	docs := 0
	eachDocument(data, func(doc document) bool {
		docs++
		f, err := readFacts(doc.data)
		if err != nil {
			return false // the rest of the stream cannot be trusted to resync
		}
		add := func(fc *fact, src Source) {
			if fc != nil && isDNS1123Label(fc.value) {
				out = append(out, Namespace{Name: fc.value, Source: src, Line: doc.line + fc.line - 1})
			}
		}
		switch {
		case !f.mapping:
		case kind == fileKustomization:
			add(f.ns, SourceKustomization)
		case kind == fileValues:
			add(f.ns, SourceHelmValues)
			add(f.nsOverride, SourceHelmValues)
		default:
			switch {
			case f.kind == "Kustomization" && strings.HasPrefix(f.api, "kustomize.config.k8s.io/"):
				add(f.ns, SourceKustomization)
			case f.kind == "Application" && strings.HasPrefix(f.api, "argoproj.io/"):
				// The Application object lives in Argo CD's namespace; what
				// it deploys goes to its destination.
				add(decodePath(doc.data, "spec", "destination", "namespace"), SourceArgoCD)
			case f.api != "" && f.kind != "":
				add(f.metaNS, SourceMetadata)
			}
			if f.api != "" && f.kind != "" {
				info.Kubernetes = true
			}
		}
		return docs < MaxDocs
	})
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
