package dirmap

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Fix is one line to insert into the map so that a directory is registered,
// written in the format of the block it goes into, with TODO for each
// annotation (which still counts as missing until someone fills it in).
type Fix struct {
	Path   string // the directory it registers; "" for a header line
	Format Format
	// Before is the 1-based line the text goes before; one past the last
	// line appends.
	Before int
	Text   string
}

// planFixes writes the lines that register each missing directory.
// val gives the value written for an annotation; nil writes TODO.
func planFixes(m *Map, missing []string, keys []string, val func(dir, key string) string) []Fix {
	if val == nil {
		val = func(string, string) string { return "TODO" }
	}
	if m == nil || len(missing) == 0 {
		return nil
	}
	var fixes []Fix
	var orphans []string
	for _, d := range missing {
		if f, ok := m.fixFor(d, keys, val); ok {
			fixes = append(fixes, f)
		} else {
			orphans = append(orphans, d)
		}
	}
	if len(orphans) > 0 {
		fixes = append(fixes, newTable(m, orphans, keys, val)...)
	}
	cornerLastTreeChild(fixes)
	sort.SliceStable(fixes, func(i, j int) bool { return fixes[i].Before < fixes[j].Before })
	return fixes
}

// fixFor finds the block that lists d's siblings (or its parent) and writes
// d's line there.
func (m *Map) fixFor(d string, keys []string, val func(dir, key string) string) (Fix, bool) {
	parent := parentDir(d)
	var candidates []int
	seen := map[int]bool{}
	addBlock := func(b int) {
		if !seen[b] {
			seen[b] = true
			candidates = append(candidates, b)
		}
	}
	for _, e := range m.Entries {
		if !e.Glob && parentDir(e.Path) == parent {
			addBlock(e.Block)
		}
	}
	if e := m.byPath[parent]; e != nil {
		addBlock(e.Block)
	}
	for i := range m.Blocks {
		addBlock(i)
	}
	for _, bi := range candidates {
		b := m.Blocks[bi]
		var f Fix
		var ok bool
		switch b.Format {
		case FormatTable:
			f, ok = b.table.fix(d, val), true
		case FormatTree:
			f, ok = b.tree.fix(b, d, keys, val)
		case FormatList:
			f, ok = b.list.fix(d, keys, val)
		}
		if ok {
			f.Path, f.Format = d, b.Format
			return f, true
		}
	}
	return Fix{}, false
}

func annotationText(d string, keys []string, val func(dir, key string) string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + val(d, k)
	}
	return strings.Join(parts, " | ")
}

func (t *tableBlock) fix(d string, val func(dir, key string) string) Fix {
	name := d
	if t.slash {
		name += "/"
	}
	if t.backticks {
		name = "`" + name + "`"
	}
	cells := make([]string, len(t.columns))
	for i, h := range t.columns {
		switch {
		case i == t.pathCol:
			cells[i] = name
		case strings.EqualFold(h, "status"):
			cells[i] = ""
		default:
			cells[i] = val(d, h)
		}
	}
	return Fix{Before: t.lastRow + 1, Text: "| " + strings.Join(cells, " | ") + " |"}
}

func (t *treeBlock) fix(b *Block, d string, keys []string, val func(dir, key string) string) (Fix, bool) {
	parent := parentDir(d)
	suffix := "/"
	if ann := annotationText(d, keys, val); ann != "" {
		suffix += "  # " + ann
	}
	pi := -1
	for i, tl := range t.lines {
		if !tl.bad && (tl.entry || tl.depth < 0) && tl.path == parent && (parent != "" || tl.depth < 0) {
			pi = i
			break
		}
	}
	if pi < 0 {
		if parent == "" {
			return Fix{}, false
		}
		// The parent is not drawn here: a line of its own at the end, which
		// the tree reads as an entry under the root.
		return Fix{Before: b.EndLine + 1, Text: d + suffix}, true
	}
	p := t.lines[pi]
	name := d
	if parent != "" {
		name = strings.TrimPrefix(d, parent+"/")
	}
	childPrefix := ""
	if p.depth >= 0 {
		childPrefix = strings.Repeat(" ", t.unit)
		if p.tee {
			childPrefix = "│" + strings.Repeat(" ", t.unit-1)
		}
		childPrefix = p.prefix + childPrefix
	}
	for j := pi + 1; j < len(t.lines); j++ {
		if t.lines[j].bad {
			continue
		}
		if t.lines[j].depth == p.depth+1 {
			return Fix{Before: t.lines[j].line, Text: t.lines[j].prefix + connTee + " " + name + suffix}, true
		}
		break
	}
	return Fix{Before: p.line + 1, Text: childPrefix + connCorner + " " + name + suffix}, true
}

// cornerLastTreeChild keeps trees well drawn when several lines go where
// there were no children: only the last of them takes the corner.
func cornerLastTreeChild(fixes []Fix) {
	last := map[int]int{}
	for i, f := range fixes {
		if f.Format == FormatTree && strings.Contains(f.Text, connCorner) {
			if j, ok := last[f.Before]; ok {
				fixes[j].Text = strings.Replace(fixes[j].Text, connCorner, connTee, 1)
			}
			last[f.Before] = i
		}
	}
}

func (l *listBlock) fix(d string, keys []string, val func(dir, key string) string) (Fix, bool) {
	parent := parentDir(d)
	pi := -1
	if parent != "" {
		for i, it := range l.items {
			if it.path == parent {
				pi = i
				break
			}
		}
	}
	name := d
	if pi >= 0 && l.relative {
		name = strings.TrimPrefix(d, parent+"/")
	}
	if l.slash {
		name += "/"
	}
	text := "`" + name + "`"
	if ann := annotationText(d, keys, val); ann != "" {
		text += " — " + ann
	}
	// Before the first existing child keeps the list's own indentation.
	for _, it := range l.items {
		if it.parent == pi {
			return Fix{Before: it.line, Text: strings.Repeat(" ", it.indent) + it.marker + " " + text}, true
		}
	}
	if pi < 0 {
		return Fix{}, false
	}
	p := l.items[pi]
	return Fix{Before: p.textEnd + 1, Text: strings.Repeat(" ", p.indent+len(p.marker)+1) + p.marker + " " + text}, true
}

// newTable appends a table for directories no block can take.
func newTable(m *Map, dirs []string, keys []string, val func(dir, key string) string) []Fix {
	before := len(m.lines) + 1
	if before > 1 && len(bytes.TrimSpace(m.lines[before-2])) == 0 {
		before-- // the source ends with a newline
	}
	header := append([]string{"Path"}, keys...)
	if len(keys) == 0 {
		header = append(header, "Function")
	}
	delim := make([]string, len(header))
	for i := range delim {
		delim[i] = "---"
	}
	fixes := []Fix{
		{Format: FormatTable, Before: before, Text: ""},
		{Format: FormatTable, Before: before, Text: "| " + strings.Join(header, " | ") + " |"},
		{Format: FormatTable, Before: before, Text: "| " + strings.Join(delim, " | ") + " |"},
	}
	for _, d := range dirs {
		cells := []string{"`" + d + "/`"}
		for _, k := range header[1:] {
			cells = append(cells, val(d, k))
		}
		fixes = append(fixes, Fix{Path: d, Format: FormatTable, Before: before, Text: "| " + strings.Join(cells, " | ") + " |"})
	}
	return fixes
}

// FixGroup is a run of fix lines that go in one place.
type FixGroup struct {
	Format Format
	Before int
	Lines  []string
}

// GroupFixes gathers fixes by insertion point, in map order.
func GroupFixes(fixes []Fix) []FixGroup {
	var out []FixGroup
	for _, f := range fixes {
		if n := len(out); n > 0 && out[n-1].Before == f.Before {
			out[n-1].Lines = append(out[n-1].Lines, f.Text)
			continue
		}
		out = append(out, FixGroup{Format: f.Format, Before: f.Before, Lines: []string{f.Text}})
	}
	return out
}

// ApplyFixes inserts the fix lines into the map source, keeping its line
// endings.
func ApplyFixes(src []byte, fixes []Fix) ([]byte, error) {
	eol := "\n"
	if bytes.Contains(src, []byte("\r\n")) {
		eol = "\r\n"
	}
	lines := strings.Split(string(src), "\n")
	trailing := len(lines) > 0 && lines[len(lines)-1] == ""
	if trailing {
		lines = lines[:len(lines)-1]
	}
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	sorted := append([]Fix(nil), fixes...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Before < sorted[j].Before })
	var out []string
	next := 0
	for i := 0; i <= len(lines); i++ {
		for next < len(sorted) && sorted[next].Before == i+1 {
			out = append(out, sorted[next].Text)
			next++
		}
		if i < len(lines) {
			out = append(out, lines[i])
		}
	}
	if next != len(sorted) {
		return nil, fmt.Errorf("fix for %s goes before line %d, past the end of the map", sorted[next].Path, sorted[next].Before)
	}
	res := strings.Join(out, eol)
	if trailing || len(lines) == 0 {
		res += eol
	}
	return []byte(res), nil
}

// FixPatch renders the fixes as a unified diff of the map (three lines of
// context, hunks merged when close), for a reply the user applies with
// `git apply` when the App cannot commit.
func FixPatch(mapPath string, src []byte, fixes []Fix) (string, error) {
	fixed, err := ApplyFixes(src, fixes)
	if err != nil {
		return "", err
	}
	oldLines := splitLines(string(src))
	newLines := splitLines(string(fixed))
	// inserted[i] marks new line i as added; every other new line maps to
	// the next old line in order.
	inserted := make([]bool, len(newLines))
	count := map[int]int{}
	for _, f := range fixes {
		count[f.Before]++
	}
	ni := 0
	for oi := 0; oi <= len(oldLines); oi++ {
		for k := 0; k < count[oi+1]; k++ {
			inserted[ni] = true
			ni++
		}
		if oi < len(oldLines) {
			ni++
		}
	}
	const ctx = 3
	var b strings.Builder
	fmt.Fprintf(&b, "--- a/%s\n+++ b/%s\n", mapPath, mapPath)
	i := 0
	for i < len(newLines) {
		if !inserted[i] {
			i++
			continue
		}
		start := max(i-ctx, 0)
		end := i
		for j := i; j < len(newLines); j++ {
			if inserted[j] {
				end = j
				continue
			}
			if j-end > 2*ctx {
				break
			}
		}
		stop := min(end+ctx+1, len(newLines))
		oldStart, oldCount, newCount := 0, 0, stop-start
		for j := 0; j < start; j++ {
			if !inserted[j] {
				oldStart++
			}
		}
		for j := start; j < stop; j++ {
			if !inserted[j] {
				oldCount++
			}
		}
		first := oldStart + 1
		if oldCount == 0 {
			first = oldStart
		}
		fmt.Fprintf(&b, "@@ -%d,%d +%d,%d @@\n", first, oldCount, start+1, newCount)
		for j := start; j < stop; j++ {
			if inserted[j] {
				b.WriteString("+" + newLines[j] + "\n")
			} else {
				b.WriteString(" " + newLines[j] + "\n")
			}
		}
		i = stop
	}
	return b.String(), nil
}

func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// unwritable says why a directory's path cannot be written into a map line
// (and so is never offered as a fix), or "" when it can: a line break or
// control character would end or corrupt the line, "|" would split a table
// cell, a backtick would end the path's code span, and "<!--" or "-->" would
// open or close an HTML comment around the rest of the map.
func unwritable(p string) string {
	for _, r := range p {
		switch {
		case r == '\n' || r == '\r':
			return "contains a line break"
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029:
			return fmt.Sprintf("contains the control character U+%04X", r)
		case r == '|':
			return `contains "|"`
		case r == '`':
			return "contains a backtick"
		}
	}
	if strings.Contains(p, "<!--") || strings.Contains(p, "-->") {
		return `contains "<!--" or "-->"`
	}
	if !utf8.ValidString(p) {
		return "is not valid UTF-8"
	}
	return ""
}
