package secrets

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Bounds on structural parsing: YAML parsing is far slower than the
// keyword pass, so it is kept to files that could plausibly be manifests.
const (
	maxStructuralSize = 4 << 20
	maxYAMLDocs       = 1000
	maxYAMLDepth      = 64
)

// structuralAnalyser inspects a parsed file and emits candidates.
type structuralAnalyser func(fs *fileScan, r *Rule)

var structuralAnalysers = map[string]structuralAnalyser{
	"k8s-secret":                 analyseK8sSecret,
	"atlantis-helm":              analyseAtlantisHelm,
	"atlantis-env":               analyseAtlantisEnv,
	"terraform-variable-default": analyseTerraformVariables,
	"helm-values":                analyseHelmValues,
	"xml-elements":               analyseXMLElements,
	"yaml-password-list":         analyseYAMLPasswordLists,
}

func structuralNames() []string {
	var names []string
	for n := range structuralAnalysers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (fs *fileScan) structural(r *Rule) {
	if len(fs.data) > maxStructuralSize {
		return
	}
	r.analyser(fs, r)
}

func isYAMLPath(p string) bool {
	l := strings.ToLower(p)
	return strings.HasSuffix(l, ".yaml") || strings.HasSuffix(l, ".yml")
}

// yamlDocs parses every document of the file, stopping at the first
// malformed one (a Helm template, say) and never panicking.
func (fs *fileScan) yamlDocs() (docs []*yaml.Node) {
	defer func() {
		if recover() != nil {
			docs = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(fs.data))
	for len(docs) < maxYAMLDocs {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
			docs = append(docs, n.Content[0])
		}
	}
	return docs
}

// emit adds a structural candidate for a literal scalar at node v; the
// finding is annotated on line (the key's line), column of the value.
func (fs *fileScan) emit(r *Rule, tier Tier, line int, v *yaml.Node) {
	fs.emitNote(r, tier, line, v, "")
}

// emitNote is emit with a message context (see candidate.note).
func (fs *fileScan) emitNote(r *Rule, tier Tier, line int, v *yaml.Node, note string) {
	start := fs.offsetOf(v.Line, v.Column)
	end := min(len(fs.data), start+max(1, len(v.Value)))
	if v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		end = min(len(fs.data), end+2)
	}
	ls, le := lineBounds(fs.data, fs.offsetOf(line, 1))
	if !fs.keep(r, v.Value, line, line) {
		return
	}
	c := candidate{
		rule: r, tier: tier, start: start, end: end,
		line: line, col: v.Column, endLine: line,
		value: v.Value, note: note,
	}
	c.allow, c.allowLine = fs.allowedAt(ls, le, le, line)
	fs.cands = append(fs.cands, c)
}

// mapGet returns the value node of key in mapping m.
func mapGet(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func scalar(n *yaml.Node) string {
	if n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// templated: a value filled in later by Helm, envsubst, Flux or SOPS, so
// not a literal committed secret.
func templated(v string) bool {
	return strings.Contains(v, "{{") || strings.Contains(v, "${") || strings.HasPrefix(v, "ENC[")
}

// analyseK8sSecret finds literal data/stringData in raw Secret manifests:
// one candidate per key, even for harmless-looking values, since runtime
// secrets belong in Infisical. SealedSecrets, SOPS-encrypted manifests and
// templated values are not literal.
func analyseK8sSecret(fs *fileScan, r *Rule) {
	if !isYAMLPath(fs.path) {
		return
	}
	for _, doc := range fs.yamlDocs() {
		fs.k8sSecret(r, doc, 0)
	}
}

func (fs *fileScan) k8sSecret(r *Rule, doc *yaml.Node, depth int) {
	if doc.Kind != yaml.MappingNode || depth > 2 {
		return
	}
	kind := scalar(second(mapGet(doc, "kind")))
	if kind == "List" {
		_, items := mapGet(doc, "items")
		if items != nil && items.Kind == yaml.SequenceNode {
			for _, it := range items.Content {
				fs.k8sSecret(r, it, depth+1)
			}
		}
		return
	}
	if kind != "Secret" {
		return
	}
	if api := scalar(second(mapGet(doc, "apiVersion"))); api != "" && api != "v1" {
		return
	}
	if _, sops := mapGet(doc, "sops"); sops != nil {
		return
	}
	// A Secret named, or in a namespace named, for infrastructure (the
	// Infisical operator's own credentials, a registry's, Vault's) holds
	// what must exist before any secret store can deliver: bootstrap.
	tier := r.Tier
	if _, meta := mapGet(doc, "metadata"); meta != nil && meta.Kind == yaml.MappingNode {
		where := scalar(second(mapGet(meta, "name"))) + " " + scalar(second(mapGet(meta, "namespace")))
		if helmBootstrapKey().MatchString(where) {
			tier = Bootstrap
		}
	}
	for _, field := range []string{"data", "stringData"} {
		_, m := mapGet(doc, field)
		if m == nil || m.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			if v.Kind != yaml.ScalarNode || v.Value == "" || v.Tag == "!!null" || templated(v.Value) {
				continue
			}
			if secretStandIn(v.Value, field == "data") {
				continue
			}
			fs.emit(r, tier, k.Line, v)
		}
	}
}

func second(_, v *yaml.Node) *yaml.Node { return v }

// maxSecretLayers bounds how many base64 layers of a Secret's data value
// are opened to judge it (a value encoded once more by hand is common;
// more is not).
const maxSecretLayers = 3

// secretStandIn: a Secret value that marks itself a stand-in as a token
// would (a vendor's published example such as AWS's AKIAIOSFODNN7EXAMPLE,
// "example", masking, <your-key>). A data value is judged on what it
// decodes to, through up to maxSecretLayers base64 layers: encoding a
// documented example does not make it a credential. Anything else stays a
// literal Secret value, however weak it looks.
func secretStandIn(v string, encoded bool) bool {
	t := strings.TrimSpace(v)
	for layer := 0; ; layer++ {
		if standInText(t) {
			return true
		}
		if !encoded || layer == maxSecretLayers {
			return false
		}
		dec, ok := decodeText([]byte(t))
		if !ok {
			return false
		}
		t = strings.TrimSpace(string(dec))
	}
}

// standInText judges one value: a single word or a single PEM block by
// its stand-in marks, a JSON document by its string leaves (every one
// that is not public, a certificate or a public key, must be a marked
// stand-in). Other text (a config file, several fields) is not judged as
// a whole: an "example" host in it says nothing of its password.
func standInText(t string) bool {
	switch {
	case t == "":
		return false
	case t[0] == '{' || t[0] == '[':
		var doc any
		if json.Unmarshal([]byte(t), &doc) != nil {
			return false
		}
		marked := false
		var walk func(any) bool
		walk = func(n any) bool {
			switch n := n.(type) {
			case map[string]any:
				for _, c := range n {
					if !walk(c) {
						return false
					}
				}
			case []any:
				for _, c := range n {
					if !walk(c) {
						return false
					}
				}
			case string:
				switch {
				case publicPEM(n):
				case singleValue(n) && markedStandIn(n):
					marked = true
				default:
					return false
				}
			}
			return true
		}
		return walk(doc) && marked
	case singleValue(t):
		return markedStandIn(t)
	}
	return false
}

// singleValue: one word, or one PEM block.
func singleValue(t string) bool {
	if strings.HasPrefix(t, "-----BEGIN ") {
		return strings.HasSuffix(strings.TrimSpace(t), "-----") && strings.Count(t, "-----BEGIN ") == 1
	}
	return !strings.ContainsAny(t, " \t\r\n")
}

// publicPEM: a certificate or a public key, published by design.
func publicPEM(t string) bool {
	return strings.HasPrefix(t, "-----BEGIN CERTIFICATE-----") || strings.HasPrefix(t, "-----BEGIN PUBLIC KEY-----")
}

// atlantisKeys are values of the runatlantis/atlantis chart that show a
// file (or a sub-tree) configures Atlantis.
var atlantisKeys = []string{"orgAllowlist", "orgWhitelist", "atlantisUrl", "repoConfig", "vcsSecretName", "atlantisDataDirectory", "githubApp"}

// analyseAtlantisHelm finds literal github.token / github.secret (and
// githubApp.key / githubApp.secret) in Atlantis chart values, at the top
// level or under an "atlantis" key (an umbrella chart).
func analyseAtlantisHelm(fs *fileScan, r *Rule) {
	if !isYAMLPath(fs.path) {
		return
	}
	pathSaysAtlantis := strings.Contains(strings.ToLower(fs.path), "atlantis")
	for _, doc := range fs.yamlDocs() {
		if doc.Kind != yaml.MappingNode {
			continue
		}
		if _, sops := mapGet(doc, "sops"); sops != nil {
			continue
		}
		roots := []*yaml.Node{}
		if pathSaysAtlantis || hasAnyKey(doc, atlantisKeys) {
			roots = append(roots, doc)
		}
		if _, sub := mapGet(doc, "atlantis"); sub != nil && sub.Kind == yaml.MappingNode {
			roots = append(roots, sub)
		}
		for _, root := range roots {
			for _, g := range atlantisCredentials {
				_, m := mapGet(root, g[0])
				k, v := mapGet(m, g[1])
				if v == nil || v.Kind != yaml.ScalarNode || v.Tag == "!!null" || isPlaceholder(v.Value) || templated(v.Value) {
					continue
				}
				fs.emitNote(r, r.Tier, k.Line, v, atlantisNote(g[0], g[1]))
			}
		}
	}
}

// atlantisCredentials are the runatlantis/atlantis chart's values that
// hold a VCS credential.
var atlantisCredentials = [][2]string{
	{"github", "token"}, {"github", "secret"}, {"githubApp", "key"}, {"githubApp", "secret"},
	{"gitlab", "token"}, {"gitlab", "secret"}, {"bitbucket", "token"}, {"bitbucket", "secret"},
	{"azuredevops", "token"}, {"azuredevops", "webhookPassword"},
}

func hasAnyKey(m *yaml.Node, keys []string) bool {
	for _, k := range keys {
		if kn, _ := mapGet(m, k); kn != nil {
			return true
		}
	}
	return false
}

var (
	atlantisEnvName = lazyRegexp(`^ATLANTIS_GH_(?:TOKEN|WEBHOOK_SECRET)$`)
	atlantisEnvLine = lazyRegexp(`(?m)^[ \t]*(?:export[ \t]+|ENV[ \t]+|-[ \t]+)?["']?(ATLANTIS_GH_(?:TOKEN|WEBHOOK_SECRET))[ \t]*(?:=|:[ \t]|[ \t])[ \t]*["']?([^"'\s#]*)`)
)

// analyseAtlantisEnv finds literal ATLANTIS_GH_TOKEN /
// ATLANTIS_GH_WEBHOOK_SECRET values: in YAML as env lists (name/value),
// maps (docker-compose environment) or "NAME=value" items; elsewhere (.env,
// shell, Dockerfile) line by line.
func analyseAtlantisEnv(fs *fileScan, r *Rule) {
	if isYAMLPath(fs.path) {
		if docs := fs.yamlDocs(); len(docs) > 0 {
			for _, d := range docs {
				fs.atlantisEnvNode(r, d, 0)
			}
			return
		}
	}
	for _, m := range atlantisEnvLine().FindAllSubmatchIndex(fs.data, 100) {
		vs, ve := m[4], m[5]
		v := string(fs.data[vs:ve])
		if isPlaceholder(v) || templated(v) {
			continue
		}
		ls, le := lineBounds(fs.data, vs)
		ln := fs.lineAt(vs)
		if !fs.keep(r, v, ln, ln) {
			continue
		}
		c := candidate{
			rule: r, tier: r.Tier, start: vs, end: ve,
			line: ln, col: vs - ls + 1, endLine: ln, value: v,
		}
		c.allow, c.allowLine = fs.allowedAt(ls, le, le, ln)
		fs.cands = append(fs.cands, c)
	}
}

func (fs *fileScan) atlantisEnvNode(r *Rule, n *yaml.Node, depth int) {
	if n == nil || depth > maxYAMLDepth {
		return
	}
	literal := func(v *yaml.Node) bool {
		return v != nil && v.Kind == yaml.ScalarNode && v.Tag != "!!null" && !isPlaceholder(v.Value) && !templated(v.Value)
	}
	switch n.Kind {
	case yaml.MappingNode:
		if atlantisEnvName().MatchString(scalar(second(mapGet(n, "name")))) {
			if k, v := mapGet(n, "value"); literal(v) {
				fs.emit(r, r.Tier, k.Line, v)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if atlantisEnvName().MatchString(k.Value) && literal(v) {
				fs.emit(r, r.Tier, k.Line, v)
				continue
			}
			fs.atlantisEnvNode(r, v, depth+1)
		}
	case yaml.SequenceNode:
		for _, it := range n.Content {
			if it.Kind == yaml.ScalarNode {
				name, val, ok := strings.Cut(it.Value, "=")
				if ok && atlantisEnvName().MatchString(name) && val != "" && !isPlaceholder(val) && !templated(val) {
					v := *it
					v.Value = val
					v.Column = it.Column + len(name) + 1
					if it.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
						v.Column++
					}
					v.Style = 0
					fs.emit(r, r.Tier, it.Line, &v)
				}
				continue
			}
			fs.atlantisEnvNode(r, it, depth+1)
		}
	}
}
