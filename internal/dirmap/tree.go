package dirmap

import (
	"strings"
	"unicode/utf8"

	gast "github.com/yuin/goldmark/ast"
)

// treeLine is one line of a tree block that names something.
type treeLine struct {
	line    int
	depth   int    // -1 for a line without a connector (the root marker or a top entry)
	tee     bool   // drawn with "├──": later siblings follow
	prefix  string // what stands before the connector, for fixes
	name    string // as written, e.g. "apps/" or "`my dir/`"
	annText string // text after "#"
	path    string // full normalised path ("" for the root marker)
	entry   bool
	planned bool
	anns    []annotation
	bad     bool
}

type treeBlock struct {
	lines []treeLine
	unit  int // columns per depth level
	slash bool
}

const (
	connTee    = "├──"
	connCorner = "└──"
)

var treeInfos = map[string]bool{"": true, "tree": true, "text": true}

// fenced reads a fenced code block as a tree when its info string allows it
// and its lines use tree connectors.
func (p *parser) fenced(n *gast.FencedCodeBlock) {
	info := ""
	if n.Info != nil {
		info = strings.ToLower(strings.TrimSpace(string(n.Info.Segment.Value(p.src))))
		if i := strings.IndexAny(info, " \t{"); i >= 0 {
			info = info[:i]
		}
	}
	if !treeInfos[info] {
		return
	}
	lines := n.Lines()
	if lines.Len() == 0 {
		return
	}
	type raw struct {
		line int
		text string
	}
	var rs []raw
	hasConn := false
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		t := strings.TrimRight(string(seg.Value(p.src)), "\r\n")
		if strings.Contains(t, connTee) || strings.Contains(t, connCorner) {
			hasConn = true
		}
		rs = append(rs, raw{line: p.lineOf(seg.Start), text: t})
	}
	if !hasConn {
		for _, r := range rs {
			if info != "tree" || strings.TrimSpace(r.text) == "" {
				continue
			}
			p.problem(rs[0].line, "", "this tree block is not read: none of its lines has a %s or %s connector (draw it as tree(1) does)", connTee, connCorner)
			break
		}
		return
	}
	tb := &treeBlock{unit: 0}
	block, bi := p.newBlock(FormatTree, rs[0].line, rs[len(rs)-1].line)
	block.tree = tb

	// First pass: split each line into prefix, name and annotation text.
	for _, r := range rs {
		tl, ok := splitTreeLine(r.text)
		if !ok {
			continue
		}
		tl.line = r.line
		if tl.depth >= 0 {
			w := utf8.RuneCountInString(tl.prefix)
			if w > 0 && (tb.unit == 0 || w < tb.unit) {
				tb.unit = w
			}
		}
		tb.lines = append(tb.lines, tl)
	}
	// Drawings use 4 columns a level (tree(1)), some 2 or 3; a wider
	// smallest indent is a jump, not a wider unit.
	if tb.unit == 0 || tb.unit > 4 {
		tb.unit = 4
	}
	// Second pass: depths, full paths, malformed jumps.
	var stack []string // stack[d] = full path of the last line at depth d
	base := ""
	prev := -1
	skipBelow := -2 // children of a malformed line cannot be placed
	first := true
	for i := range tb.lines {
		tl := &tb.lines[i]
		if tl.depth < 0 {
			skipBelow = -2
			prev = -1
			stack = stack[:0]
			if first && p.isRootMarker(tl.name) {
				base, tl.path = "", ""
			} else {
				clean, _, bad := normalisePath(tl.name)
				if bad != "" {
					p.problem(tl.line, tl.name, "%s", bad)
					tl.bad = true
					skipBelow = -1
					continue
				}
				base, tl.path = clean, clean
				tl.entry = true
			}
			first = false
			continue
		}
		first = false
		w := utf8.RuneCountInString(tl.prefix)
		tl.depth = (w + tb.unit/2) / tb.unit
		if skipBelow >= -1 && tl.depth > skipBelow {
			tl.bad = true
			continue
		}
		skipBelow = -2
		if tl.depth > prev+1 {
			p.problem(tl.line, tl.name, "tree line %q is nested %d levels below the line above it (at most 1)", strings.TrimSpace(tl.name), tl.depth-prev)
			tl.bad = true
			skipBelow = tl.depth
			continue
		}
		parent := base
		if tl.depth > 0 {
			parent = stack[tl.depth-1]
		}
		name := strings.Trim(strings.TrimSpace(tl.name), "`")
		if strings.HasPrefix(name, "/") || name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "/../") {
			p.problem(tl.line, name, "%s", mustBad(name))
			tl.bad = true
			skipBelow = tl.depth
			continue
		}
		full := strings.TrimPrefix(strings.TrimSuffix(parent+"/"+strings.TrimPrefix(name, "./"), "/"), "/")
		tl.path = full
		stack = append(stack[:tl.depth], full)
		prev = tl.depth
		if strings.HasSuffix(name, "/") {
			tl.entry = true
			tb.slash = true
		}
	}
	// A line with children is a directory even without a trailing slash.
	for i := range tb.lines {
		tl := &tb.lines[i]
		if tl.bad || tl.depth < 0 {
			continue
		}
		for j := i + 1; j < len(tb.lines); j++ {
			if tb.lines[j].bad {
				continue
			}
			if tb.lines[j].depth == tl.depth+1 {
				tl.entry = true
			}
			break
		}
	}
	for i := range tb.lines {
		tl := &tb.lines[i]
		if tl.entry && !tl.bad {
			anns, planned := parseAnnotationText(tl.annText)
			tl.anns, tl.planned = anns, planned
			p.add(tl.path, tl.line, bi, anns, planned)
		}
	}
}

func mustBad(name string) string {
	_, _, bad := normalisePath(name)
	if bad == "" {
		bad = "path " + quote(name) + " is malformed"
	}
	return bad
}

func (p *parser) isRootMarker(name string) bool {
	n := strings.TrimSuffix(strings.Trim(strings.TrimSpace(name), "`"), "/")
	if n == "." || n == "" {
		return true
	}
	for _, r := range p.opts.RootNames {
		if r != "" && n == strings.TrimSuffix(r, "/") {
			return true
		}
	}
	return false
}

// splitTreeLine splits "│   ├── name/  # annotations" into its parts. Lines
// without a connector get depth -1; blank and pure "│" lines are skipped.
func splitTreeLine(s string) (treeLine, bool) {
	s = strings.ReplaceAll(s, "\u00a0", " ") // tree(1) pads with no-break spaces
	s = strings.ReplaceAll(s, "\t", "    ")
	var tl treeLine
	idx := -1
	for _, c := range []string{connTee, connCorner} {
		if i := strings.Index(s, c); i >= 0 && (idx < 0 || i < idx) {
			idx = i
		}
	}
	rest := s
	if idx >= 0 {
		tl.prefix = s[:idx]
		if strings.Trim(tl.prefix, " │|") != "" {
			idx = -1 // a connector inside text, not a tree line
		} else {
			tl.tee = strings.HasPrefix(s[idx:], connTee)
			rest = strings.TrimLeft(s[idx+len(connTee):], "─- ")
		}
	}
	if idx < 0 {
		tl.prefix = ""
		tl.depth = -1
		rest = s
		if strings.Trim(rest, " │|") == "" {
			return tl, false
		}
	}
	rest = strings.TrimSpace(rest)
	name, ann := rest, ""
	if strings.HasPrefix(rest, "`") {
		if end := strings.Index(rest[1:], "`"); end >= 0 {
			name = rest[:end+2]
			ann = rest[end+2:]
		}
	} else if i := strings.IndexAny(rest, " \t#"); i >= 0 {
		name, ann = rest[:i], rest[i:]
	}
	if i := strings.Index(ann, "#"); i >= 0 {
		ann = ann[i+1:]
	} else {
		ann = ""
	}
	if name == "" {
		return tl, false
	}
	tl.name, tl.annText = name, strings.TrimSpace(ann)
	return tl, true
}
