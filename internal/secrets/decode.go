package secrets

import (
	"encoding/base64"
	"unicode/utf8"
)

// Encoded secrets: Kubernetes Secret data, Helm values, ConfigMaps and
// kubeconfig *-data fields hold base64. A YAML or JSON value that is
// base64 of text is decoded and scanned again with every content rule
// (once: decoded text is not decoded further); a match is reported on the
// encoded value's position, under the rule that matched the decoded text,
// and its fingerprint is the decoded secret's, the same as if it had been
// committed in the clear.

const (
	minEncoded       = 16       // shorter base64 holds no credential worth decoding
	maxEncodedValues = 1000     // per file
	maxDecodedBytes  = 1 << 20  // per file, in total
	maxEncodedValue  = 64 << 10 // per value
)

func (fs *fileScan) scanEncoded() {
	if fs.decoded || len(fs.data) > maxStructuralSize {
		return
	}
	switch fs.ext {
	case ".yaml", ".yml", ".json":
	default:
		return
	}
	budget, n := maxDecodedBytes, 0
	eachEncodedValue(fs.data, func(vs, ve int) bool {
		if n++; n > maxEncodedValues {
			return false
		}
		if ve-vs > maxEncodedValue || ve-vs > budget*4/3 {
			return true
		}
		dec, ok := decodeText(fs.data[vs:ve])
		if !ok {
			return true
		}
		budget -= len(dec)
		fs.scanDecoded(vs, ve, dec)
		return budget > 0
	})
}

// eachEncodedValue calls f with the range of each base64 scalar that
// follows a YAML key or a JSON member name ("key: value", "key": "value"),
// quoted or not, ending the value. A hand-written pass: it runs on every
// YAML and JSON file, so it must cost no more than reading the bytes.
func eachEncodedValue(data []byte, f func(vs, ve int) bool) {
	for i := 0; i < len(data); i++ {
		if data[i] != ':' {
			continue
		}
		j := i + 1
		if j < len(data) && data[j] != ' ' && data[j] != '\t' && data[j] != '"' && data[j] != '\'' {
			continue // "a:b", a URL or a time, not a key
		}
		for j < len(data) && (data[j] == ' ' || data[j] == '\t') {
			j++
		}
		quote := byte(0)
		if j < len(data) && (data[j] == '"' || data[j] == '\'') {
			quote = data[j]
			j++
		}
		vs := j
		for j < len(data) && isB64(data[j]) {
			j++
		}
		run := j - vs
		for k := 0; k < 2 && j < len(data) && data[j] == '='; k++ {
			j++
		}
		if run < minEncoded {
			i = j - 1
			continue
		}
		end := j == len(data) || data[j] == '\n' || data[j] == '\r' || data[j] == ' ' || data[j] == '\t' || data[j] == ','
		if quote != 0 {
			end = j < len(data) && data[j] == quote
		}
		if end && !f(vs, j) {
			return
		}
		i = j - 1
	}
}

func isB64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}

// decodeText decodes standard base64 (padded or not) that holds text.
func decodeText(b []byte) ([]byte, bool) {
	enc := base64.StdEncoding
	if len(b)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	dec, err := enc.DecodeString(string(b))
	if err != nil || len(dec) < 8 || !utf8.Valid(dec) {
		return nil, false
	}
	for _, c := range dec {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return nil, false
		}
	}
	return dec, true
}

// scanDecoded scans dec, the decoded form of fs.data[vs:ve], with the
// content rules and adds what they find as candidates at [vs, ve).
func (fs *fileScan) scanDecoded(vs, ve int, dec []byte) {
	sub := getFileScan(fs.s)
	defer putFileScan(sub)
	sub.decoded = true
	defer func() { sub.decoded = false }()
	// The outer scan checks the deadline; a stopped decode only finds less.
	_ = sub.run(fs.ctx, fs.path, dec, true)
	// A rule written for the encoded form (kubeconfig client-key-data, a
	// provider key named by its assignment) keeps its finding: decoding
	// adds what nothing specific found.
	for _, c := range fs.cands {
		if c.start >= 0 && c.start < ve && vs < c.end && c.rule.Specificity >= specificEncodedRule {
			return
		}
	}
	ls, le := lineBounds(fs.data, vs)
	line, col := fs.lineAt(vs), utf8.RuneCount(fs.data[ls:vs])+1
	for _, c := range sub.resolve() {
		if c.start < 0 || c.rule.Kind != KindSecret {
			continue // file and structural rules judged the encoded file already
		}
		c.start, c.end = vs, ve
		c.line, c.col, c.endLine = line, col, line
		c.note = noteBase64
		c.allow, c.allowLine = lineAllow(fs.data[ls:le], line)
		fs.cands = append(fs.cands, c)
	}
}

// specificEncodedRule: plain matches at or above it (file-context and
// format rules) win over what decoding finds on the same value.
const specificEncodedRule = 240

const noteBase64 = "Found base64-encoded (decoding shows it); the fingerprint is the decoded value's."
