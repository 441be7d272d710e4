package manifest

import (
	"bytes"

	"gopkg.in/yaml.v3"
)

// This file is the one reader both interpretations share (Inspect for map
// generation, Targets for the drift check): a stream cut into documents,
// and from each document the few fields that say where it deploys.

type document struct {
	data []byte
	line int // 1-based line of the document's first line in the file
}

// eachDocument cuts a multi-document YAML stream at "---" lines and hands
// each non-empty document, with its starting line, to f until f returns
// false. Content written on the marker line itself ("--- {a: b}") stays
// in its document, marker included, for the decoder to read.
func eachDocument(data []byte, f func(document) bool) {
	start, startLine, line := 0, 1, 1
	for i := 0; i < len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		next := len(data)
		if end >= 0 {
			next = i + end + 1
		}
		l := bytes.TrimRight(data[i:next], "\r\n")
		if bytes.HasPrefix(l, []byte("---")) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t') {
			if i > start && !f(document{data: data[start:i], line: startLine}) {
				return
			}
			start, startLine = next, line+1
			if rest := bytes.TrimSpace(l[3:]); len(rest) > 0 && rest[0] != '#' {
				start, startLine = i, line
			}
		}
		i = next
		line++
	}
	if start < len(data) {
		f(document{data: data[start:], line: startLine})
	}
}

// fact is one scalar value and its line within the document.
type fact struct {
	value string
	line  int
}

// docFacts is what the readers need from one YAML document.
type docFacts struct {
	mapping        bool // the document is a mapping
	api, kind      string
	ns, nsOverride *fact // top-level namespace / namespaceOverride
	metaMapping    bool  // metadata is a mapping
	metaNS         *fact // metadata.namespace
}

// readFacts reads a document with the line scanner, or with the YAML
// decoder where the scanner declines.
func readFacts(data []byte) (docFacts, error) {
	if f, ok := scanFacts(data); ok {
		return f, nil
	}
	return decodeFacts(data)
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

// decodePath reads one nested scalar (an Argo CD Application's
// spec.destination.namespace), which the scanner does not track.
func decodePath(data []byte, keys ...string) *fact {
	var n yaml.Node
	if yaml.Unmarshal(data, &n) != nil || n.Kind != yaml.DocumentNode || len(n.Content) == 0 {
		return nil
	}
	return scalarFact(lookup(n.Content[0], keys...))
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
