package secrets

import (
	"bytes"
)

// Terraform variable defaults: `variable "db_password" { sensitive = true
// default = "…" }` commits the secret as surely as a locals block does.
// HCL is not parsed in full: a variable block is found by its header and
// followed to its closing brace (strings and nesting respected, bounded),
// and its top-level default and sensitive attributes are read.

var (
	tfVariableHeader = lazyRegexp(`(?m)^[ \t]*variable[ \t]+"([^"\n]{1,128})"[ \t]*\{`)
	tfSecretName     = lazyRegexp(`(?i)passw(?:or)?d|passphrase|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credential|auth`)
	tfNotSecretName  = lazyRegexp(`(?i)(?:_|^)(?:name|names|id|ids|arn|path|file|length|ttl|type|enabled|version|rotation|count|url|uri|expiry|expiration)$|_key_(?:name|id|arn)$`)
	tfDefaultString  = lazyRegexp(`(?m)(?:^|[\s{;])default[ \t]*=[ \t]*"((?:[^"\\\n]|\\.){1,512})"`)
	tfSensitiveTrue  = lazyRegexp(`(?m)(?:^|[\s{;])sensitive[ \t]*=[ \t]*true\b`)
)

const maxTFBlock = 16 << 10

func analyseTerraformVariables(fs *fileScan, r *Rule) {
	data := fs.data
	for _, m := range tfVariableHeader().FindAllSubmatchIndex(data, 1000) {
		name := string(data[m[2]:m[3]])
		body := tfBlockBody(data, m[1])
		if body < 0 {
			continue
		}
		top := topLevel(data[m[1]:body])
		sensitive := tfSensitiveTrue().Match(top)
		if !sensitive && (!tfSecretName().MatchString(name) || tfNotSecretName().MatchString(name)) {
			continue
		}
		d := tfDefaultString().FindSubmatchIndex(top)
		if d == nil {
			continue
		}
		// Map the match in the top-level copy back to the file: topLevel
		// keeps offsets (nested text is blanked, not removed).
		vs, ve := m[1]+d[2], m[1]+d[3]
		v := string(data[vs:ve])
		if isPlaceholder(v) || templated(v) || len(v) < 6 || (!sensitive && entropy(v) < 2.5) {
			continue
		}
		ls, le := lineBounds(data, vs)
		c := candidate{
			rule: r, tier: r.Tier, start: vs, end: ve,
			line: fs.lineAt(vs), col: vs - ls + 1, value: v,
		}
		c.allow, c.allowLine = lineAllow(data[ls:le], c.line)
		fs.cands = append(fs.cands, c)
	}
}

// tfBlockBody returns the offset of the brace closing the block opened
// just before from, or -1 when it is not found within maxTFBlock.
func tfBlockBody(data []byte, from int) int {
	depth, inStr := 1, false
	end := min(len(data), from+maxTFBlock)
	for i := from; i < end; i++ {
		c := data[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return i
			}
		case c == '#':
			if j := bytes.IndexByte(data[i:end], '\n'); j >= 0 {
				i += j
			}
		}
	}
	return -1
}

// topLevel copies a block body with its nested blocks blanked out (same
// length, so offsets still map to the file): a validation block's own
// attributes are not the variable's.
func topLevel(b []byte) []byte {
	out := make([]byte, len(b))
	depth, inStr := 0, false
	for i, c := range b {
		out[i] = c
		switch {
		case inStr && c == '"' && (i == 0 || b[i-1] != '\\'):
			inStr = false
		case inStr:
		case c == '"':
			inStr = true
		case c == '{':
			depth++
		case c == '}':
			depth--
		}
		if depth > 0 && c != '\n' {
			out[i] = ' '
		}
	}
	return out
}
