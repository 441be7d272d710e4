package secrets

import (
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// Helm values: any chart's literal value under a key that says password,
// token, secret or API key is a committed secret, whatever it looks like
// (the generic assignment rules need entropy; a chart's `password:
// hunter22` needs none to be wrong). Keys that hold the NAME of a Secret
// or of a key in it (existingSecret, secretName, *SecretName, *Ref, *Key
// naming a key) are not values.

var (
	helmSecretKey    = lazyRegexp(`(?i)passw(?:or)?d|passphrase|token|secret|api[_-]?key|access[_-]?key|private[_-]?key|credentials?$`)
	helmReferenceKey = lazyRegexp(`(?i)^existing|secret[_-]?name$|secret[_-]?names$|(?:name|ref|file|path|env|enabled|length|type|mount|dir|annotations?|labels?|policy|issuer|audience|header|endpoint|url|version|ttl)$|^(?:use|create|enable|generate)[A-Z_-]`)
	helmNameValue    = lazyRegexp(`^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$`)
	// helmKeyName: values that name a key, an env var or a file rather
	// than hold a secret (webhook-secret, GITHUB_APP_PRIVATE_KEY, key.pem).
	helmKeyName      = lazyRegexp(`^[a-z]+(?:[._-][a-z]+)+$|^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|\.(?:pem|key|crt|json|ya?ml|txt|p12|pfx|jks)$`)
	helmKeysGroup    = lazyRegexp(`(?i)(?:^|[_-])keys$|^secretkeys$|^existingsecret`)
	helmBootstrapKey = lazyRegexp(`(?i)aws|gcp|google|azure|cloudflare|hcloud|hetzner|digitalocean|github|gitlab|bitbucket|terraform|atlantis|vault|kube|ssh|registry|docker|deploy|infisical|s3|backup`)
)

// isHelmValuesPath: values*.yaml anywhere, or YAML in a chart's directory
// (a chart/, charts/ or helm/ folder), but not the chart's templates, which
// are Go templates rather than values.
func isHelmValuesPath(p string) bool {
	if !isYAMLPath(p) {
		return false
	}
	base := strings.ToLower(path.Base(p))
	if strings.HasPrefix(base, "values") {
		return true
	}
	if base == "chart.yaml" || base == "chart.lock" {
		return false
	}
	inChart := false
	for _, seg := range strings.Split(strings.ToLower(path.Dir(p)), "/") {
		switch seg {
		case "templates", "crds":
			return false
		case "chart", "charts", "helm":
			inChart = true
		}
	}
	return inChart
}

func analyseHelmValues(fs *fileScan, r *Rule) {
	if !isHelmValuesPath(fs.path) {
		return
	}
	for _, doc := range fs.yamlDocs() {
		if doc.Kind != yaml.MappingNode {
			continue
		}
		if _, sops := mapGet(doc, "sops"); sops != nil {
			continue
		}
		if kind := scalar(second(mapGet(doc, "kind"))); kind != "" {
			continue // a manifest, judged by the Kubernetes rules
		}
		fs.helmNode(r, doc, nil, 0)
	}
}

func (fs *fileScan) helmNode(r *Rule, n *yaml.Node, keys []string, depth int) {
	if depth > maxYAMLDepth {
		return
	}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, it := range n.Content {
			fs.helmNode(r, it, keys, depth+1)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := append(keys[:len(keys):len(keys)], k.Value)
			if helmKeysGroup().MatchString(k.Value) {
				continue // a map of key names in a Secret (keys:, secretKeys:)
			}
			if v.Kind != yaml.ScalarNode {
				fs.helmNode(r, v, path, depth+1)
				continue
			}
			if helmSecretValue(k.Value, v) {
				tier := r.Tier
				if helmBootstrapKey().MatchString(strings.Join(path, ".")) {
					tier = Bootstrap
				}
				fs.emit(r, tier, k.Line, v)
			}
		}
	}
}

func helmSecretValue(key string, v *yaml.Node) bool {
	if !helmSecretKey().MatchString(key) || helmReferenceKey().MatchString(key) {
		return false
	}
	switch v.Tag {
	case "!!str", "!!int":
	default:
		return false // null, booleans, floats, binary
	}
	val := v.Value
	if len(val) < 6 || len(val) > 4096 || isPlaceholder(val) || templated(val) || helmKeyName().MatchString(val) {
		return false
	}
	// A key ending in Key (passwordKey, tokenKey) whose value is a plain
	// name names a key of a Secret.
	if strings.HasSuffix(strings.ToLower(key), "key") && helmNameValue().MatchString(val) {
		return false
	}
	return true
}
