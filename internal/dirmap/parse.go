package dirmap

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"

	"sync"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	gparser "github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
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

	// Unread is set when the whole map was refused (too large, or nested
	// too deep to read in bounded time); Problems says why.
	Unread bool

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
	// Size is the map's whole size when src is only its start (see
	// Side.MapSize); 0 means len(src).
	Size int64
}

// Entry returns the entry for a normalised path, or nil.
func (m *Map) Entry(p string) *Entry { return m.byPath[p] }

// Limits that keep reading a hostile map linear in its size.
const (
	// MaxMapSize: larger maps are a malformed-map finding, not read.
	MaxMapSize = 4 << 20
	// maxNesting bounds block quotes and list markers opened on one line,
	// and maxIndent the columns of leading white space: goldmark's block
	// parser costs the nesting depth on every line (">" repeated 64 KiB
	// times took 10 s). Real maps nest a few levels.
	maxNesting = 16
	maxIndent  = 64
	// MaxMapLines bounds the map's lines: goldmark keeps a few hundred
	// bytes of syntax tree per line (50,000 lines of a list or a table held
	// 55-65 MiB), so the line count, not the size, bounds a read's memory.
	// A 10,000-entry map is about 10,000 lines.
	MaxMapLines = 20_000
)

// blockParser is goldmark with GitHub tables but no inline parsers: a map
// is read from block structure and source lines only, and inline parsing is
// where goldmark goes quadratic (64 KiB of "[a](" took 5 s). Block
// semantics (fenced code, HTML blocks, lists, tables) are goldmark's own;
// parse_test.go checks the result against the full parser.
var blockParser = sync.OnceValue(func() gparser.Parser {
	return gparser.NewParser(
		gparser.WithBlockParsers(gparser.DefaultBlockParsers()...),
		gparser.WithParagraphTransformers(gparser.DefaultParagraphTransformers()...),
		gparser.WithParagraphTransformers(util.Prioritized(extension.NewTableParagraphTransformer(), 200)),
		gparser.WithASTTransformers(util.Prioritized(extension.NewTableASTTransformer(), 0)),
	)
})

// fullParser is goldmark as a Markdown renderer configures it, inline
// parsers included: the oracle the block parser is tested against.
func fullParser() gparser.Parser {
	return goldmark.New(goldmark.WithExtensions(extension.Table)).Parser()
}

// Parse reads a directory map. It never fails: problems are collected in
// Map.Problems with their line, and everything else is used. It runs in
// time linear in len(src): a map over MaxMapSize, or one nesting blocks
// deeper than a map ever needs, is refused whole (Map.Unread).
func Parse(src []byte, opts ParseOptions) *Map {
	return parseWith(blockParser(), src, opts)
}

func parseWith(gp gparser.Parser, src []byte, opts ParseOptions) *Map {
	m := &Map{byPath: map[string]*Entry{}}
	if size := max(int64(len(src)), opts.Size); size > MaxMapSize {
		m.Unread = true
		m.Problems = append(m.Problems, Problem{Line: 1, Message: fmt.Sprintf(
			"the map is %s, over the %d MiB limit; it is not read (split it or trim it)", sizeText(size), MaxMapSize>>20)})
		return m
	}
	if n := bytes.Count(src, []byte("\n")) + 1; n > MaxMapLines {
		m.Unread = true
		m.Problems = append(m.Problems, Problem{Line: MaxMapLines + 1, Message: fmt.Sprintf(
			"the map has %d lines, over the %d-line limit; it is not read (split it or trim it)", n, MaxMapLines)})
		return m
	}
	if line, why := tooDeep(src); line > 0 {
		m.Unread = true
		m.Problems = append(m.Problems, Problem{Line: line, Message: why + "; the map is not read"})
		return m
	}
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
	doc := gp.Parse(text.NewReader(src))
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
		case *gast.Paragraph:
			p.brokenTable(n)
			return gast.WalkSkipChildren, nil
		}
		return gast.WalkContinue, nil
	})
	sort.SliceStable(m.Problems, func(i, j int) bool { return m.Problems[i].Line < m.Problems[j].Line })
	return m
}

// tooDeep finds the first line nested in more than maxNesting block quotes
// and list items, or indented more than maxIndent columns. goldmark's block
// parser visits every open block on every line (and keeps a record of each
// visit until the top-level block ends), so the nesting depth, not only the
// markers a line opens, is what a line costs: a list nested 32 deep by
// indentation cost six times an ordinary one. Depth is over-estimated, never
// under-estimated: list items are kept open by indentation as in CommonMark,
// closed only by a line that certainly closes them, so lazy continuation
// lines cannot hide nesting.
func tooDeep(src []byte) (line int, why string) {
	tooNested := fmt.Sprintf("the line is inside more than %d nested block quotes or list items", maxNesting)
	var open []int // content columns of the list items that may still be open
	prevBlank := false
	for line = 1; len(src) > 0; line++ {
		end := bytes.IndexByte(src, '\n')
		l := src
		if end >= 0 {
			l, src = src[:end], src[end+1:]
		} else {
			src = nil
		}
		s := scanPrefix(l)
		switch {
		case s.col > maxIndent:
			return line, fmt.Sprintf("the line is indented more than %d columns", maxIndent)
		case s.blank:
			prevBlank = true
			continue
		}
		// An item holds the lines indented at least to its content column.
		// A line after a blank line, or one starting an item that can
		// interrupt a paragraph, closes the items it is not indented into;
		// other lines may be lazy continuations of a paragraph inside them.
		kept := len(open)
		for kept > 0 && open[kept-1] > s.lead {
			kept--
		}
		definite := s.closes || prevBlank
		prevBlank = false
		switch {
		case definite:
			open = append(open[:kept], s.items...)
		case len(s.items) > 0:
			// A marker that may be text (lazy) or a new item: keep the
			// deeper of the two readings, column by column, so neither
			// under-counts a later line and a long "2.", "3." list does not
			// grow the count.
			open = mergeDeeper(open, append(open[:kept:kept], s.items...))
		}
		if len(open)+s.quotes > maxNesting {
			return line, tooNested
		}
	}
	return 0, ""
}

// mergeDeeper returns, for two increasing lists of content columns, the
// list that holds at least as many columns ≤ c as either, for every c: the
// smaller column at each position, then the longer list's tail.
func mergeDeeper(a, b []int) []int {
	if len(a) < len(b) {
		a, b = b, a
	}
	out := slices.Clone(a)
	for i, c := range b {
		out[i] = min(out[i], c)
	}
	return out
}

// linePrefix is what tooDeep reads at the start of a line.
type linePrefix struct {
	blank  bool
	col    int   // columns of white space, block quote and list markers
	lead   int   // column after the block quote markers: where list nesting is judged
	quotes int   // block quote markers
	items  []int // content columns of the list items the line opens (the least CommonMark allows)
	closes bool  // the line starts a list item that can interrupt a paragraph
}

func scanPrefix(l []byte) linePrefix {
	var s linePrefix
	leadSet := false
	i := 0
	for ; i < len(l) && s.col <= maxIndent && s.quotes+len(s.items) <= maxNesting; i++ {
		c := l[i]
		switch {
		case c == ' ' || c == '\r':
			s.col++
			continue
		case c == '\t':
			s.col += 4 - s.col%4
			continue
		case c == '>':
			s.quotes++
			s.col++
			continue
		}
		if !leadSet {
			s.lead, leadSet = s.col, true
		}
		w := 0 // the width of a list marker at i
		switch {
		case c == '-' || c == '*' || c == '+':
			w = 1
		case c >= '0' && c <= '9':
			j := i
			for j < len(l) && j-i < 10 && l[j] >= '0' && l[j] <= '9' {
				j++
			}
			if j < len(l) && (l[j] == '.' || l[j] == ')') {
				w = j + 1 - i
			}
		}
		// A marker is followed by white space or ends the line (an empty item).
		if c == '>' || w == 0 || (i+w < len(l) && l[i+w] != ' ' && l[i+w] != '\t' && l[i+w] != '\r') {
			break
		}
		if len(s.items) == 0 {
			// Only a bullet or a "1." item with text can interrupt a
			// paragraph; any other marker line may be a lazy continuation.
			rest := bytes.TrimLeft(l[i+w:], " \t\r")
			s.closes = len(rest) > 0 && (w == 1 || (w == 2 && c == '1'))
		}
		s.col += w
		s.items = append(s.items, s.col+1)
		i += w - 1
	}
	s.blank = i == len(l) && len(s.items) == 0 && s.quotes == 0
	if !leadSet {
		s.lead = s.col
	}
	return s
}

// clipText shortens s to n runes for a message.
func clipText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func sizeText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
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

// pathHeaders are the header names of a map table's path column (any
// case, emphasis and backticks ignored); docs/dirmap.md lists them.
var pathHeaders = map[string]bool{"path": true, "directory": true, "dir": true, "folder": true}

// acceptedHeaders is what a malformed table's finding tells its author.
const acceptedHeaders = "a map table's path column is headed Path, Directory, Dir or Folder (any case), or its first column holds backticked paths"

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
		var first []string
		for _, row := range rows {
			if c := row.FirstChild(); c != nil {
				first = append(first, p.cellText(c))
			}
		}
		if !backtickedPaths(first) {
			return // not a map table: a legend, say
		}
		pathCol = 0
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

// backtickedPaths reports whether cells read as a path column without a
// path header: every non-empty cell is backticked and one holds a "/" (a
// legend of backticked layer names is not a map).
func backtickedPaths(cells []string) bool {
	slash := false
	for _, c := range cells {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if len(c) < 2 || c[0] != '`' || c[len(c)-1] != '`' {
			return false
		}
		slash = slash || strings.Contains(c, "/")
	}
	return slash
}

// brokenTable reports a paragraph that was meant as a map table but is not
// one to Markdown (GitHub shows it as text too): a header and a delimiter
// row whose cell counts differ. Without it the table would vanish and every
// directory in it would turn unregistered.
func (p *parser) brokenTable(para *gast.Paragraph) {
	lines := para.Lines()
	line := func(i int) string { seg := lines.At(i); return string(seg.Value(p.src)) }
	for i := 1; i < lines.Len(); i++ {
		delim := strings.TrimSpace(line(i))
		if !isDelimiterRow(delim) {
			continue
		}
		header := splitRow(line(i - 1))
		if len(header) < 1 || !strings.Contains(line(i-1), "|") {
			continue
		}
		var first []string
		for j := i + 1; j < lines.Len() && !isDelimiterRow(strings.TrimSpace(line(j))); j++ {
			if cells := splitRow(line(j)); len(cells) > 0 {
				first = append(first, cells[0])
			}
		}
		mapLike := backtickedPaths(first)
		for _, h := range header {
			mapLike = mapLike || pathHeaders[strings.ToLower(strings.TrimSpace(strings.Trim(h, "*_`")))]
		}
		if !mapLike {
			continue
		}
		if n := len(splitRow(delim)); n != len(header) {
			p.problem(p.lineOf(lines.At(i-1).Start), "", "this table is not read: its header has %d cells but the delimiter row below it has %d (they must match); %s", len(header), n, acceptedHeaders)
		}
		return
	}
}

// isDelimiterRow reports whether a line is made of pipes, dashes, colons and
// blanks only, with a dash and a pipe: what a table's second row looks like.
func isDelimiterRow(s string) bool {
	if !strings.Contains(s, "-") || !strings.Contains(s, "|") {
		return false
	}
	return strings.Trim(s, "|-: \t") == ""
}

// splitRow splits a table row on unescaped pipes, outer pipes dropped.
func splitRow(s string) []string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "|")
	if strings.HasSuffix(s, "|") && !strings.HasSuffix(s, `\|`) {
		s = s[:len(s)-1]
	}
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var cells []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '|' && (i == 0 || s[i-1] != '\\') {
			cells = append(cells, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(cells, strings.TrimSpace(s[start:]))
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
			// A nested path is full when it extends its parent's; else, and
			// when it is the parent's own (a directory is not its own
			// child: `A0/` under `A0/` is A0/A0), relative to it.
			if parentPath != "" && !strings.HasPrefix(clean, parentPath+"/") {
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
		} else if tb := it.FirstChild(); tb != nil && tb.Lines().Len() > 0 {
			seg := tb.Lines().At(0)
			if t := strings.TrimSpace(string(seg.Value(p.src))); strings.HasPrefix(t, "`") {
				p.problem(line, "", "this list item is not read: its path %s has no closing backtick", clipText(t, 60))
			}
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
