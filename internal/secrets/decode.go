package secrets

import (
	"bytes"
	"encoding/base64"
	"regexp"
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

// encodedValue finds a base64 scalar after a YAML key or a JSON member.
var encodedValue = regexp.MustCompile(`(?m)(?:^[ \t-]*["']?[\w.-]+["']?[ \t]*:[ \t]*["']?|"[\w.-]+"[ \t]*:[ \t]*")([A-Za-z0-9+/]{16,}={0,2})(?:["',]|[ \t]*$)`)

func (fs *fileScan) scanEncoded() {
	if fs.decoded || len(fs.data) > maxStructuralSize {
		return
	}
	switch fs.ext {
	case ".yaml", ".yml", ".json":
	default:
		return
	}
	budget := maxDecodedBytes
	for _, m := range encodedValue.FindAllSubmatchIndex(fs.data, maxEncodedValues) {
		vs, ve := m[2], m[3]
		if ve-vs > maxEncodedValue || ve-vs > budget*4/3 {
			continue
		}
		dec, ok := decodeText(fs.data[vs:ve])
		if !ok {
			continue
		}
		budget -= len(dec)
		fs.scanDecoded(vs, ve, dec)
		if budget <= 0 {
			return
		}
	}
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
	sub.run(fs.path, dec, true)
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
		c.line, c.col = line, col
		c.note = noteBase64
		c.allowed = bytes.Contains(fs.data[ls:le], []byte(allowMarker))
		fs.cands = append(fs.cands, c)
	}
}

// specificEncodedRule: plain matches at or above it (file-context and
// format rules) win over what decoding finds on the same value.
const specificEncodedRule = 240

const noteBase64 = "Found base64-encoded (decoding shows it); the fingerprint is the decoded value's."
