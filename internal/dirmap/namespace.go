package dirmap

import (
	"bytes"
	"fmt"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// MaxManifestSize bounds one manifest the namespace check reads; a larger
// file gets a notice and is not compared.
const MaxManifestSize = 1 << 20

var errTooLarge = fmt.Errorf("it is larger than %d MiB", MaxManifestSize>>20)

// Manifest is one file the namespace check reads, as of the head.
type Manifest struct {
	Path string
	Data []byte
	// TooLarge is set by a caller that did not read a file over
	// MaxManifestSize (so did not pass its data).
	TooLarge bool
}

// namespaceUse is one place a manifest sets the namespace it deploys into.
type namespaceUse struct {
	Namespace string
	Line      int
	What      string // "metadata.namespace", "kustomization namespace", …
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

// isManifestPath reports whether a file is YAML the namespace check reads.
func isManifestPath(p string) bool {
	ext := strings.ToLower(path.Ext(p))
	return (ext == ".yaml" || ext == ".yml") && path.Base(p) != "Chart.yaml"
}

func isKustomization(p string) bool {
	b := path.Base(p)
	return b == "kustomization.yaml" || b == "kustomization.yml"
}

// helmRole says how a file relates to a Helm chart: "values" for
// values*.y(a)ml beside a Chart.yaml, "template" for files under the chart's
// templates/ (Go templates, not YAML), "" otherwise.
func helmRole(p string, files map[string]bool) string {
	dir := path.Dir(p)
	if files[path.Join(dir, "Chart.yaml")] {
		if strings.HasPrefix(path.Base(p), "values") {
			return "values"
		}
		return ""
	}
	for d := dir; d != "." && d != "/"; d = path.Dir(d) {
		if path.Base(d) == "templates" && files[path.Join(path.Dir(d), "Chart.yaml")] {
			return "template"
		}
	}
	return ""
}

// verifyRule is the Namespace rule that asks for manifests to be read.
func (o *Options) verifyRule() *AnnotationRule {
	r := o.rule("Namespace")
	if r == nil || !r.VerifyManifests {
		return nil
	}
	return r
}

// manifestScope returns the head files the namespace check reads: YAML
// under an entry with a Namespace (and under no deeper entry), not
// ignored, not a chart's templates. In a change only manifests under an
// entry it adds or edits, and manifests it adds or changes (in.Changed),
// are read; an audit reads every one.
func (c *checker) manifestScope(changed map[string]bool) []string {
	var out []string
	for _, f := range c.headFiles {
		e := c.manifestOwner(f)
		if e == nil {
			continue
		}
		if c.in.Base == nil || changed[f] || c.changed(e) {
			out = append(out, f)
		}
	}
	return out
}

// manifestOwner returns the entry whose Namespace a manifest is compared
// with, or nil when the file is not compared.
func (c *checker) manifestOwner(f string) *Entry {
	if !isManifestPath(f) || helmRole(f, c.head.files) == "template" {
		return nil
	}
	e := c.owner(f)
	if e == nil {
		return nil
	}
	if v, ok := e.Annotation("Namespace"); !ok || isMissingValue(v) {
		return nil
	}
	if c.ignored(parentDir(f)) {
		return nil
	}
	return e
}

// owner returns the deepest entry that contains file f.
func (c *checker) owner(f string) *Entry {
	for d := parentDir(f); d != ""; d = parentDir(d) {
		if e := c.owners[d]; e != nil {
			return e
		}
	}
	return nil
}

// namespaceDrift compares each manifest the caller read with its entry's
// Namespace.
func (c *checker) namespaceDrift() error {
	rule := c.opts.verifyRule()
	if rule == nil || c.in.ReadManifests == nil {
		return nil
	}
	level := rule.Level
	if level == "" {
		level = LevelWarning
	}
	changed := map[string]bool{}
	for _, f := range c.in.Changed {
		changed[f] = true
	}
	scope := c.manifestScope(changed)
	if len(scope) == 0 {
		return nil
	}
	manifests, err := c.in.ReadManifests(scope)
	if err != nil {
		return err
	}
	type job struct {
		m     *Manifest
		owner *Entry
		uses  []namespaceUse
		err   error
	}
	var jobs []*job
	for i := range manifests {
		m := &manifests[i]
		if e := c.manifestOwner(m.Path); e != nil {
			jobs = append(jobs, &job{m: m, owner: e})
		}
	}
	// Reading is the costly part and each file is independent.
	var wg sync.WaitGroup
	next := make(chan *job)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				if j.m.TooLarge {
					j.err = errTooLarge
					continue
				}
				j.uses, j.err = manifestNamespaces(j.m.Path, j.m.Data, helmRole(j.m.Path, c.head.files) == "values")
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()

	mp := c.opts.MapPath
	for _, j := range jobs {
		if j.err != nil {
			c.add(Finding{Kind: KindNamespaceDrift, Path: j.owner.Path, File: j.m.Path, Line: 1, Level: LevelNotice,
				Message: fmt.Sprintf("%s was not compared with the map's Namespace: %v.", j.m.Path, j.err)})
			continue
		}
		want, _ := j.owner.Annotation("Namespace")
		none := want == "-" || want == "—"
		for _, u := range j.uses {
			if (none && u.Namespace != "") || (!none && u.Namespace != want) {
				c.add(Finding{Kind: KindNamespaceDrift, Path: j.owner.Path, File: j.m.Path, Line: u.Line, Level: level,
					Message: driftMessage(j.owner, want, none, u, mp, changed[j.m.Path], c.in.Base != nil && c.changed(j.owner))})
			}
		}
	}
	return nil
}

func driftMessage(e *Entry, want string, none bool, u namespaceUse, mapPath string, manifestChanged, entryChanged bool) string {
	says := "The map says " + quoteValue(want)
	if none {
		says = "The map says no namespace (\"-\")"
	}
	msg := fmt.Sprintf("%s for %s, this manifest deploys into %s (%s).", says, e.Path, quoteValue(u.Namespace), u.What)
	mapLine := fmt.Sprintf("%s line %d", mapPath, e.Line)
	target := "deploy into " + quoteValue(want)
	if none {
		target = "set no namespace"
	}
	switch {
	case manifestChanged && !entryChanged:
		return msg + fmt.Sprintf(" This change sets it and the map is the source of truth: %s, or if the move is intended change the entry to \"Namespace: %s\" (%s).", target, u.Namespace, mapLine)
	case entryChanged && !manifestChanged:
		return msg + fmt.Sprintf(" This change edits the entry's Namespace: update the manifests under %s to match, or keep the entry as it was (%s).", e.Path, mapLine)
	}
	return msg + fmt.Sprintf(" Change the manifest to %s, or the entry to \"Namespace: %s\" (%s).", target, u.Namespace, mapLine)
}

// manifestNamespaces reads the namespaces a YAML file deploys into. Files
// and documents that never mention "namespace" are skipped before any
// decoding; templated values ({{ … }}, ${…}) are skipped, not guessed.
func manifestNamespaces(p string, data []byte, helmValues bool) ([]namespaceUse, error) {
	if len(data) > MaxManifestSize {
		return nil, errTooLarge
	}
	if !bytes.Contains(data, []byte("namespace")) {
		return nil, nil
	}
	kustomization := isKustomization(p)
	var out []namespaceUse
	for _, doc := range splitDocuments(data) {
		if !bytes.Contains(doc.data, []byte("namespace")) {
			continue
		}
		facts, ok := scanFacts(doc.data)
		if !ok {
			var err error
			if facts, err = decodeFacts(doc.data); err != nil {
				return nil, fmt.Errorf("it is not valid YAML near line %d", doc.line)
			}
		}
		add := func(f *fact, what string) {
			if f == nil || f.value == "" || templated(f.value) {
				return
			}
			out = append(out, namespaceUse{Namespace: f.value, Line: doc.line + f.line - 1, What: what})
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
		default:
			if facts.api == "" || facts.kind == "" || !facts.metaMapping || clusterScoped[facts.kind] {
				continue
			}
			add(facts.metaNS, facts.kind+" metadata.namespace")
		}
	}
	return out, nil
}

// fact is one scalar value and its line within the document.
type fact struct {
	value string
	line  int
}

// docFacts is what the namespace check needs from one YAML document.
type docFacts struct {
	mapping        bool // the document is a mapping
	api, kind      string
	ns, nsOverride *fact // top-level namespace / namespaceOverride
	metaMapping    bool  // metadata is a mapping
	metaNS         *fact // metadata.namespace
}

// decodeFacts reads a document with the YAML decoder.
func decodeFacts(data []byte) (docFacts, error) {
	var f docFacts
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return f, err
	}
	if n.Kind != yaml.DocumentNode || len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
		return f, nil
	}
	root := n.Content[0]
	f.mapping = true
	f.api, f.kind = scalar(lookup(root, "apiVersion")), scalar(lookup(root, "kind"))
	f.ns, f.nsOverride = scalarFact(lookup(root, "namespace")), scalarFact(lookup(root, "namespaceOverride"))
	if meta := lookup(root, "metadata"); meta != nil && meta.Kind == yaml.MappingNode {
		f.metaMapping = true
		f.metaNS = scalarFact(lookup(meta, "namespace"))
	}
	return f, nil
}

func scalarFact(n *yaml.Node) *fact {
	if n == nil || n.Kind != yaml.ScalarNode {
		return nil
	}
	if n.Tag == "!!null" {
		return &fact{line: n.Line}
	}
	return &fact{value: n.Value, line: n.Line}
}

// scanFacts reads the plain block-style YAML that nearly every manifest
// is, line by line, without building a tree; ok is false for anything
// else (flow style, anchors, block scalars where it matters, multi-line
// values, odd indentation), which the decoder then reads. A fuzz test
// holds it to the decoder's answers.
func scanFacts(data []byte) (f docFacts, ok bool) {
	// Line breaks the decoder knows besides LF, and a byte-order mark.
	if bytes.ContainsAny(data, "\u0085\u2028\u2029\ufeff") || bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\r")) {
		return f, false
	}
	inMeta, metaIndent := false, 0
	var pending *fact // a value just read: a deeper next line would continue it
	pendingIndent := 0
	seenTop := false
	seen := map[string]bool{}
	metaSeen := false
	line := 0
	for rest := data; len(rest) > 0; {
		var l []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			l, rest = rest[:i], rest[i+1:]
		} else {
			l, rest = rest, nil
		}
		line++
		l = bytes.TrimSuffix(l, []byte("\r"))
		trimmed := bytes.TrimLeft(l, " ")
		indent := len(l) - len(trimmed)
		if len(bytes.TrimSpace(trimmed)) == 0 {
			continue
		}
		if pending != nil && indent > pendingIndent {
			return f, false
		}
		pending = nil
		if trimmed[0] == '#' {
			continue
		}
		if bytes.ContainsAny(l[:indent+1], "\t") || bytes.ContainsRune(trimmed, '\t') {
			return f, false
		}
		if indent > 0 {
			if !seenTop {
				return f, false
			}
			if !inMeta {
				continue
			}
			if metaIndent == 0 {
				metaIndent = indent
				f.metaMapping = true
			}
			if indent < metaIndent {
				return f, false
			}
			if indent > metaIndent {
				continue
			}
			key, val, isKey := splitKey(trimmed)
			if !isKey {
				return f, false
			}
			if key == "namespace" && !metaSeen {
				metaSeen = true
				v, vok := plainValue(val)
				if !vok {
					return f, false
				}
				f.metaNS = &fact{value: v, line: line}
				pending, pendingIndent = f.metaNS, indent
			}
			continue
		}
		seenTop = true
		inMeta = false
		key, val, isKey := splitKey(trimmed)
		if !isKey {
			return f, false
		}
		f.mapping = true
		if seen[key] {
			continue // the first of duplicate keys counts, as in the decoder
		}
		seen[key] = true
		switch key {
		case "apiVersion", "kind", "namespace", "namespaceOverride":
			v, vok := plainValue(val)
			if !vok {
				return f, false
			}
			fc := &fact{value: v, line: line}
			pending, pendingIndent = fc, 0
			switch key {
			case "apiVersion":
				f.api = v
			case "kind":
				f.kind = v
			case "namespace":
				f.ns = fc
			case "namespaceOverride":
				f.nsOverride = fc
			}
		case "metadata":
			if len(val) != 0 {
				return f, false // inline metadata: let the decoder read it
			}
			inMeta, metaIndent = true, 0
		default:
			if len(val) > 0 && bytes.ContainsAny(val[:1], "&*!|>{[\"'") {
				return f, false
			}
		}
	}
	return f, f.mapping
}

// splitKey cuts "key: value" where key is a plain word.
func splitKey(l []byte) (key string, val []byte, ok bool) {
	i := bytes.IndexByte(l, ':')
	if i <= 0 || (i+1 < len(l) && l[i+1] != ' ') {
		return "", nil, false
	}
	for _, c := range l[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '/') {
			return "", nil, false
		}
	}
	if l[0] == '-' || l[0] == '.' {
		return "", nil, false
	}
	return string(l[:i]), bytes.TrimSpace(l[i+1:]), true
}

// plainValue reads a scalar written on its key's line: plain or simply
// quoted, with an optional comment; ok is false for anything else.
func plainValue(v []byte) (string, bool) {
	if i := bytes.Index(v, []byte(" #")); i >= 0 {
		v = bytes.TrimSpace(v[:i])
	}
	if len(v) == 0 {
		return "", true
	}
	switch v[0] {
	case '"':
		if len(v) < 2 || v[len(v)-1] != '"' || bytes.ContainsAny(v[1:len(v)-1], "\\\"") {
			return "", false
		}
		return string(v[1 : len(v)-1]), true
	case '\'':
		if len(v) < 2 || v[len(v)-1] != '\'' || bytes.ContainsRune(v[1:len(v)-1], '\'') {
			return "", false
		}
		return string(v[1 : len(v)-1]), true
	case '&', '*', '!', '|', '>', '{', '[', '@', '`', '%', '?', '-', ',', ']', '}', '#':
		return "", false
	}
	if bytes.Contains(v, []byte(": ")) || v[len(v)-1] == ':' || bytes.ContainsAny(v, "#") {
		return "", false
	}
	switch string(v) {
	case "null", "Null", "NULL", "~":
		return "", true
	}
	return string(v), true
}

func templated(v string) bool { return strings.Contains(v, "{{") || strings.Contains(v, "${") }

type document struct {
	data []byte
	line int // 1-based line of the document's first line in the file
}

// splitDocuments cuts a multi-document YAML stream at "---" lines, keeping
// each document's starting line.
func splitDocuments(data []byte) []document {
	var docs []document
	start, startLine, line := 0, 1, 1
	for i := 0; i < len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		next := len(data)
		if end >= 0 {
			next = i + end + 1
		}
		l := bytes.TrimRight(data[i:next], "\r\n")
		if bytes.HasPrefix(l, []byte("---")) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t') {
			if i > start {
				docs = append(docs, document{data: data[start:i], line: startLine})
			}
			start, startLine = next, line+1
		}
		i = next
		line++
	}
	if start < len(data) {
		docs = append(docs, document{data: data[start:], line: startLine})
	}
	return docs
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// buildOwners indexes every entry by the directories it names (globs
// expanded against the head); a literal entry wins over a glob.
func (c *checker) buildOwners() {
	c.owners = map[string]*Entry{}
	var globs []*Entry
	for _, e := range c.headMap.Entries {
		if e.Glob {
			globs = append(globs, e)
			continue
		}
		c.owners[e.Path] = e
	}
	sort.SliceStable(globs, func(i, j int) bool { return globs[i].Line < globs[j].Line })
	for _, e := range globs {
		for _, d := range c.head.matching(e.Path) {
			if c.owners[d] == nil {
				c.owners[d] = e
			}
		}
	}
}
