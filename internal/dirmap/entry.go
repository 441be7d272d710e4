package dirmap

import (
	"path"
	"regexp"
	"sort"
	"strings"
)

// Format is the kind of Markdown block an entry was written in.
type Format int

const (
	FormatTable Format = iota + 1
	FormatTree
	FormatList
)

func (f Format) String() string {
	switch f {
	case FormatTable:
		return "table"
	case FormatTree:
		return "tree"
	case FormatList:
		return "list"
	}
	return "unknown"
}

// Entry is one directory the map lists. The same path written in several
// blocks is one Entry with the annotations merged.
type Entry struct {
	// Path is repository-relative, with forward slashes and without a
	// leading "./" or a trailing "/".
	Path string
	// Glob is set when Path contains glob syntax (doublestar).
	Glob bool
	// Line is the 1-based line of the entry's first mention.
	Line int
	// Block is the index (in Map.Blocks) of the entry's first mention.
	Block int
	// Planned is set by a Status annotation of "planned" or "(planned)" in
	// tree or list annotation text.
	Planned bool

	annotations []annotation // in order of first appearance; keys unique case-insensitively
}

type annotation struct {
	Key   string // as first written
	Value string // trimmed; "" when written empty
}

// Annotation returns the value of key (case-insensitive) and whether the
// entry has the key at all.
func (e *Entry) Annotation(key string) (string, bool) {
	for _, a := range e.annotations {
		if strings.EqualFold(a.Key, key) {
			return a.Value, true
		}
	}
	return "", false
}

// Annotations returns the entry's annotations as key/value pairs in the
// order they were first written.
func (e *Entry) Annotations() [][2]string {
	out := make([][2]string, len(e.annotations))
	for i, a := range e.annotations {
		out[i] = [2]string{a.Key, a.Value}
	}
	return out
}

// HasAnnotation reports whether key is present with a value: "-" and "—"
// count as present ("none"); empty and TODO count as missing.
func (e *Entry) HasAnnotation(key string) bool {
	v, ok := e.Annotation(key)
	return ok && !isMissingValue(v)
}

func isMissingValue(v string) bool {
	v = strings.TrimSpace(v)
	return v == "" || strings.EqualFold(v, "TODO")
}

// sameAnnotations reports whether two entries carry the same parsed
// annotations, so that moving or reformatting a line is not an edit.
func sameAnnotations(a, b *Entry) bool {
	if a.Planned != b.Planned {
		return false
	}
	norm := func(e *Entry) map[string]string {
		m := make(map[string]string, len(e.annotations))
		for _, an := range e.annotations {
			if !isMissingValue(an.Value) {
				m[strings.ToLower(an.Key)] = an.Value
			}
		}
		return m
	}
	am, bm := norm(a), norm(b)
	if len(am) != len(bm) {
		return false
	}
	for k, v := range am {
		if bm[k] != v {
			return false
		}
	}
	return true
}

var plannedRE = regexp.MustCompile(`(?i)\(\s*planned\s*\)`)

// keyValueRE recognises "Key: value" in tree and list annotation text. Keys
// are short words so that free text containing a colon ("see: docs") stays
// free text only when it does not look like a key.
var keyValueRE = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9_ -]{0,30}?)\s*:\s*(.*?)\s*$`)

// parseAnnotationText splits tree/list annotation text: "Key: value" pairs
// separated by "|" or ";", or free text that becomes the Function.
func parseAnnotationText(s string) (anns []annotation, planned bool) {
	if plannedRE.MatchString(s) {
		planned = true
		s = plannedRE.ReplaceAllString(s, "")
	}
	var free []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == ';' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if m := keyValueRE.FindStringSubmatch(part); m != nil {
			anns = append(anns, annotation{Key: strings.TrimSpace(m[1]), Value: m[2]})
			continue
		}
		free = append(free, part)
	}
	if len(free) > 0 {
		anns = append([]annotation{{Key: "Function", Value: strings.Join(free, "; ")}}, anns...)
	}
	return anns, planned
}

// normalisePath turns a path as written in the map into the entry form.
// It reports ok=false with a reason for paths that are malformed, and
// root=true for the repository root itself ("." or "./").
func normalisePath(p string) (clean string, root bool, problem string) {
	p = strings.TrimSpace(p)
	p = strings.Trim(p, "`")
	p = strings.TrimSpace(p)
	if p == "" {
		return "", false, "empty path"
	}
	if strings.HasPrefix(p, "/") || (len(p) >= 2 && p[1] == ':') || strings.HasPrefix(p, `\`) {
		return "", false, "absolute path " + quote(p)
	}
	p = strings.ReplaceAll(p, `\`, "/")
	for _, c := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		if c == ".." {
			return "", false, "path " + quote(p) + " contains \"..\""
		}
	}
	for strings.HasPrefix(p, "./") {
		p = strings.TrimPrefix(p, "./")
	}
	p = strings.TrimSuffix(p, "/")
	if p == "" || p == "." {
		return "", true, ""
	}
	// Collapse doubled slashes and inner "." components without touching globs.
	parts := strings.Split(p, "/")
	kept := parts[:0]
	for _, c := range parts {
		if c == "" || c == "." {
			continue
		}
		kept = append(kept, c)
	}
	return strings.Join(kept, "/"), false, ""
}

func quote(s string) string { return "\"" + s + "\"" }

func isGlob(p string) bool { return strings.ContainsAny(p, "*?[{") }

// parentDir returns the parent directory of a repository-relative path; the
// root is "".
func parentDir(p string) string {
	d := path.Dir(p)
	if d == "." {
		return ""
	}
	return d
}

func depth(p string) int {
	if p == "" {
		return 0
	}
	return strings.Count(p, "/") + 1
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
