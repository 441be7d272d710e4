package dirmap

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/yuin/goldmark"
	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// Map is a parsed directory map.
type Map struct {
	// Entries in order of first mention.
	Entries []*Entry
	// Problems are malformed entries and lines; the rest of the map is
	// still used.
	Problems []Problem
	// Blocks are the Markdown blocks that held entries, in document order.
	Blocks []*Block
	// Keys are the annotation keys used anywhere, as first written.
	Keys []string

	byPath map[string]*Entry
	lines  [][]byte // source split into lines (without "\n"), for fixes
}

// Problem is one malformed entry or line.
type Problem struct {
	Line    int
	Path    string
	Message string
}

// Block is one table, tree or list that held entries; fixes are written in
// the format of the block they go into.
type Block struct {
	Format    Format
	StartLine int
	EndLine   int

	table *tableBlock
	tree  *treeBlock
	list  *listBlock
}

// ParseOptions tune parsing.
type ParseOptions struct {
	// RootNames are first tree lines that mark the repository root rather
	// than an entry, besides "." and "./" (the repository's name).
	RootNames []string
}

// Entry returns the entry for a normalised path, or nil.
func (m *Map) Entry(p string) *Entry { return m.byPath[p] }

// Parse reads a directory map. It never fails: problems are collected in
// Map.Problems with their line, and everything else is used.
func Parse(src []byte, opts ParseOptions) *Map {
	m := &Map{byPath: map[string]*Entry{}}
	m.lines = bytes.Split(src, []byte("\n"))
	for i, l := range m.lines {
		m.lines[i] = bytes.TrimSuffix(l, []byte("\r"))
	}
	p := &parser{m: m, src: src, opts: opts, keys: map[string]bool{}}
	p.lineStarts = append(p.lineStarts, 0)
	for i, b := range src {
		if b == '\n' {
			p.lineStarts = append(p.lineStarts, i+1)
		}
	}
	md := goldmark.New(goldmark.WithExtensions(extension.Table))
	doc := md.Parser().Parse(text.NewReader(src))
	_ = gast.Walk(doc, func(n gast.Node, entering bool) (gast.WalkStatus, error) {
		if !entering {
			return gast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *east.Table:
			p.table(n)
			return gast.WalkSkipChildren, nil
		case *gast.FencedCodeBlock:
			p.fenced(n)
			return gast.WalkSkipChildren, nil
		case *gast.List:
			if p.list(n) {
				return gast.WalkSkipChildren, nil
			}
		}
		return gast.WalkContinue, nil
	})
	sort.SliceStable(m.Problems, func(i, j int) bool { return m.Problems[i].Line < m.Problems[j].Line })
	return m
}

type parser struct {
	m          *Map
	src        []byte
	opts       ParseOptions
	lineStarts []int
	keys       map[string]bool
}

// lineOf converts a byte offset into a 1-based line number.
func (p *parser) lineOf(off int) int {
	return sort.Search(len(p.lineStarts), func(i int) bool { return p.lineStarts[i] > off })
}

func (p *parser) problem(line int, path, format string, args ...any) {
	p.m.Problems = append(p.m.Problems, Problem{Line: line, Path: path, Message: fmt.Sprintf(format, args...)})
}

// add records one mention of an entry, merging it with earlier mentions of
// the same path.
func (p *parser) add(rawPath string, line, block int, anns []annotation, planned bool) *Entry {
	clean, root, bad := normalisePath(rawPath)
	if bad != "" {
		p.problem(line, strings.Trim(strings.TrimSpace(rawPath), "`"), "%s", bad)
		return nil
	}
	if root {
		return nil
	}
	for _, a := range anns {
		if strings.EqualFold(a.Key, "status") && strings.EqualFold(strings.TrimSpace(a.Value), "planned") {
			planned = true
		}
		if !p.keys[strings.ToLower(a.Key)] {
			p.keys[strings.ToLower(a.Key)] = true
			p.m.Keys = append(p.m.Keys, a.Key)
		}
	}
	e := p.m.byPath[clean]
	if e == nil {
		e = &Entry{Path: clean, Glob: isGlob(clean), Line: line, Block: block, Planned: planned}
		p.m.byPath[clean] = e
		p.m.Entries = append(p.m.Entries, e)
		for _, a := range anns {
			e.merge(a)
		}
		return e
	}
	e.Planned = e.Planned || planned
	for _, a := range anns {
		if prev, ok := e.Annotation(a.Key); ok && !isMissingValue(prev) && !isMissingValue(a.Value) && prev != a.Value {
			p.problem(line, clean, "conflicting %s for %s: %q here, %q on line %d", a.Key, clean, a.Value, prev, e.Line)
			continue
		}
		e.merge(a)
	}
	return e
}

// merge sets an annotation, keeping an earlier non-missing value.
func (e *Entry) merge(a annotation) {
	for i, have := range e.annotations {
		if strings.EqualFold(have.Key, a.Key) {
			if isMissingValue(have.Value) {
				e.annotations[i].Value = a.Value
			}
			return
		}
	}
	e.annotations = append(e.annotations, a)
}

func (p *parser) newBlock(f Format, start, end int) (*Block, int) {
	b := &Block{Format: f, StartLine: start, EndLine: end}
	p.m.Blocks = append(p.m.Blocks, b)
	return b, len(p.m.Blocks) - 1
}

// --- tables ---

type tableBlock struct {
	columns   []string
	pathCol   int
	lastRow   int // line of the last row (or of the delimiter row)
	backticks bool
	slash     bool
}

var pathHeaders = map[string]bool{"path": true, "directory": true, "dir": true}

func (p *parser) table(t *east.Table) {
	var header []string
	pathCol := -1
	var rows []gast.Node
	for c := t.FirstChild(); c != nil; c = c.NextSibling() {
		switch c.(type) {
		case *east.TableHeader:
			for cell := c.FirstChild(); cell != nil; cell = cell.NextSibling() {
				h := strings.TrimSpace(strings.Trim(strings.TrimSpace(p.cellText(cell)), "*_`"))
				if pathCol < 0 && pathHeaders[strings.ToLower(h)] {
					pathCol = len(header)
				}
				header = append(header, h)
			}
		case *east.TableRow:
			rows = append(rows, c)
		}
	}
	if pathCol < 0 {
		return // not a map table
	}
	headerLine := p.nodeLine(t.FirstChild())
	tb := &tableBlock{columns: header, pathCol: pathCol, lastRow: headerLine + 1}
	block, bi := p.newBlock(FormatTable, headerLine, headerLine+1)
	block.table = tb
	for _, row := range rows {
		line := p.nodeLine(row)
		if line == 0 {
			line = tb.lastRow + 1
		}
		tb.lastRow = line
		block.EndLine = line
		var cells []string
		for cell := row.FirstChild(); cell != nil; cell = cell.NextSibling() {
			cells = append(cells, p.cellText(cell))
		}
		if pathCol >= len(cells) {
			p.problem(line, "", "table row has no %s cell", header[pathCol])
			continue
		}
		raw := strings.TrimSpace(cells[pathCol])
		if strings.HasPrefix(raw, "`") {
			tb.backticks = true
		}
		if strings.HasSuffix(strings.Trim(raw, "`"), "/") {
			tb.slash = true
		}
		var anns []annotation
		for i, h := range header {
			if i == pathCol || h == "" {
				continue
			}
			v := ""
			if i < len(cells) {
				v = strings.TrimSpace(cells[i])
			}
			anns = append(anns, annotation{Key: h, Value: v})
		}
		p.add(raw, line, bi, anns, false)
	}
}

// cellText returns a cell's source text (backticks kept, escaped pipes
// unescaped), so that paths with spaces survive.
func (p *parser) cellText(cell gast.Node) string {
	lines := cell.Lines()
	var b strings.Builder
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		b.Write(seg.Value(p.src))
	}
	s := strings.ReplaceAll(b.String(), `\|`, "|")
	return strings.TrimSpace(s)
}

// nodeLine is the line of a node's first source segment, searching its
// descendants when it has none of its own.
func (p *parser) nodeLine(n gast.Node) int {
	if n == nil {
		return 0
	}
	if n.Type() == gast.TypeBlock {
		if l := n.Lines(); l != nil && l.Len() > 0 {
			return p.lineOf(l.At(0).Start)
		}
	}
	if t, ok := n.(*gast.Text); ok {
		return p.lineOf(t.Segment.Start)
	}
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if l := p.nodeLine(c); l > 0 {
			return l
		}
	}
	return 0
}

// --- lists ---

type listItem struct {
	line    int
	indent  int    // column of the bullet marker
	marker  string // "-", "*", "+"
	path    string // normalised full path ("" when not an entry)
	parent  int    // index of the enclosing entry item, -1 for top level
	textEnd int    // last line of the item's own text
}

type listBlock struct {
	items []listItem
	// relative is set when nested items were written relative to their
	// parent, so fixes follow suit.
	relative bool
	slash    bool
}

// list reads a bullet list whose items start with a backticked path. It
// reports whether the list was a map list (its items are consumed).
func (p *parser) list(l *gast.List) bool {
	if l.IsOrdered() || !p.isMapList(l) {
		return false
	}
	first := p.nodeLine(l)
	block, bi := p.newBlock(FormatList, first, first)
	lb := &listBlock{}
	block.list = lb
	p.listItems(l, block, bi, lb, -1, "")
	return true
}

func (p *parser) isMapList(l *gast.List) bool {
	for it := l.FirstChild(); it != nil; it = it.NextSibling() {
		if _, _, ok := p.itemPath(it); ok {
			return true
		}
	}
	return false
}

// itemPath returns the backticked path an item starts with and the text
// after it.
func (p *parser) itemPath(item gast.Node) (path, rest string, ok bool) {
	tb := item.FirstChild()
	if tb == nil || tb.Lines() == nil || tb.Lines().Len() == 0 {
		return "", "", false
	}
	var b strings.Builder
	for i := 0; i < tb.Lines().Len(); i++ {
		seg := tb.Lines().At(i)
		if i > 0 {
			b.WriteByte(' ')
		}
		b.Write(bytes.TrimRight(seg.Value(p.src), "\r\n"))
	}
	s := strings.TrimSpace(b.String())
	if !strings.HasPrefix(s, "`") {
		return "", "", false
	}
	n := 1
	for n < len(s) && s[n] == '`' {
		n++
	}
	fence := s[:n]
	end := strings.Index(s[n:], fence)
	if end < 0 {
		return "", "", false
	}
	path = strings.TrimSpace(s[n : n+end])
	rest = strings.TrimSpace(s[n+end+n:])
	for _, sep := range []string{"—", "–", "-", ":"} {
		if strings.HasPrefix(rest, sep) {
			rest = strings.TrimSpace(strings.TrimPrefix(rest, sep))
			break
		}
	}
	return path, rest, path != ""
}

func (p *parser) listItems(l *gast.List, block *Block, bi int, lb *listBlock, parent int, parentPath string) {
	for it := l.FirstChild(); it != nil; it = it.NextSibling() {
		line := p.nodeLine(it)
		if line > block.EndLine {
			block.EndLine = line
		}
		idx := parent
		childParentPath := parentPath
		if raw, rest, ok := p.itemPath(it); ok {
			full := raw
			clean, _, _ := normalisePath(raw)
			if parentPath != "" && clean != parentPath && !strings.HasPrefix(clean, parentPath+"/") {
				full = parentPath + "/" + strings.TrimPrefix(strings.TrimSpace(raw), "./")
				lb.relative = true
			}
			if strings.HasSuffix(raw, "/") {
				lb.slash = true
			}
			anns, planned := parseAnnotationText(rest)
			e := p.add(full, line, bi, anns, planned)
			item := listItem{line: line, indent: p.indentOf(line), marker: p.markerOf(line), parent: parent, textEnd: line}
			if tb := it.FirstChild(); tb != nil && tb.Lines().Len() > 0 {
				item.textEnd = p.lineOf(tb.Lines().At(tb.Lines().Len() - 1).Start)
				if item.textEnd > block.EndLine {
					block.EndLine = item.textEnd
				}
			}
			if e != nil {
				item.path = e.Path
				childParentPath = e.Path
			}
			lb.items = append(lb.items, item)
			idx = len(lb.items) - 1
		}
		for c := it.FirstChild(); c != nil; c = c.NextSibling() {
			if sub, ok := c.(*gast.List); ok {
				p.listItems(sub, block, bi, lb, idx, childParentPath)
			}
		}
	}
}

func (p *parser) indentOf(line int) int {
	if line < 1 || line > len(p.m.lines) {
		return 0
	}
	l := p.m.lines[line-1]
	return len(l) - len(bytes.TrimLeft(l, " \t"))
}

func (p *parser) markerOf(line int) string {
	if line < 1 || line > len(p.m.lines) {
		return "-"
	}
	l := bytes.TrimLeft(p.m.lines[line-1], " \t")
	if len(l) > 0 && (l[0] == '*' || l[0] == '+') {
		return string(l[0])
	}
	return "-"
}
