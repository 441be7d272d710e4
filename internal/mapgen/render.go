package mapgen

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/housekeeper-app/housekeeper/internal/dirmap"
)

// Preamble opens a generated map; the parser ignores prose.
const Preamble = `# Directory map

Every directory of this repository down to the depth that matters, with
what it is for (Function), its layer (Layer) and the Kubernetes namespace it
deploys to (Namespace; ` + "`-`" + ` for none). Housekeeper checks that every new
directory is registered here and that no entry goes stale. ` + "`TODO`" + ` marks
an annotation nobody has filled in yet.

`

func (g *gen) create() (*Result, error) {
	keys := g.keys(nil)
	dirs := g.dirs()
	// Write, read back, and demote to TODO any value the parser does not
	// read back as written (a safety net under clean and safeName).
	for attempt := 0; ; attempt++ {
		g.res.Entries = g.res.Entries[:0]
		for _, d := range dirs {
			e := Entry{Path: d}
			for _, k := range keys {
				e.Annotations = append(e.Annotations, [2]string{k, g.value(d, k)})
			}
			g.res.Entries = append(g.res.Entries, e)
		}
		var body string
		switch g.opts.Format {
		case dirmap.FormatTree:
			body = renderTree(g.res.Entries)
		case dirmap.FormatList:
			body = renderList(g.res.Entries)
		default:
			body = renderTable(g.res.Entries, keys)
		}
		out := []byte(Preamble + body)
		bad := g.roundTrip(out)
		if len(bad) == 0 || attempt == 1 {
			if len(bad) > 0 {
				return nil, fmt.Errorf("mapgen: generated map does not read back: %s", strings.Join(bad, "; "))
			}
			g.res.Map, g.res.Changed = out, true
			return g.res, nil
		}
	}
}

// roundTrip parses the map and demotes values that do not read back.
func (g *gen) roundTrip(out []byte) []string {
	m := dirmap.Parse(out, dirmap.ParseOptions{RootNames: g.opts.RootNames})
	var bad []string
	for _, p := range m.Problems {
		bad = append(bad, fmt.Sprintf("line %d: %s", p.Line, p.Message))
	}
	for _, e := range g.res.Entries {
		pe := m.Entry(e.Path)
		if pe == nil {
			bad = append(bad, fmt.Sprintf("%q missing", e.Path))
			continue
		}
		for _, kv := range e.Annotations {
			if got, _ := pe.Annotation(kv[0]); got != kv[1] {
				bad = append(bad, fmt.Sprintf("%q %s", e.Path, kv[0]))
				g.values[e.Path][strings.ToLower(kv[0])] = todo
			}
		}
	}
	return bad
}

func width(s string) int { return utf8.RuneCountInString(s) }

func pad(s string, w int) string { return s + strings.Repeat(" ", max(0, w-width(s))) }

func renderTable(entries []Entry, keys []string) string {
	header := append([]string{"Path"}, keys...)
	rows := [][]string{header}
	for _, e := range entries {
		row := []string{"`" + e.Path + "/`"}
		for _, kv := range e.Annotations {
			row = append(row, kv[1])
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(header))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], width(c), 3)
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i, c := range cells {
			b.WriteString(" " + pad(c, widths[i]) + " |")
		}
		b.WriteString("\n")
	}
	line(rows[0])
	delim := make([]string, len(header))
	for i := range delim {
		delim[i] = strings.Repeat("-", widths[i])
	}
	line(delim)
	for _, r := range rows[1:] {
		line(r)
	}
	return b.String()
}

func annText(e Entry) string {
	parts := make([]string, len(e.Annotations))
	for i, kv := range e.Annotations {
		parts[i] = kv[0] + ": " + kv[1]
	}
	return strings.Join(parts, " | ")
}

// renderTree draws the entries as tree(1) would, with annotations aligned.
func renderTree(entries []Entry) string {
	type line struct{ left, ann string }
	var lines []line
	for i, e := range entries {
		d := depthOf(e.Path)
		// The connector: a corner when no later sibling follows.
		last := true
		for _, o := range entries[i+1:] {
			if depthOf(o.Path) < d {
				break
			}
			if depthOf(o.Path) == d && parent(o.Path) == parent(e.Path) {
				last = false
				break
			}
		}
		var prefix strings.Builder
		// For each ancestor level, a bar when that ancestor has later siblings.
		anc := strings.Split(e.Path, "/")
		for lvl := 1; lvl < d; lvl++ {
			ap := strings.Join(anc[:lvl], "/")
			if hasLaterSibling(entries, ap) {
				prefix.WriteString("│   ")
			} else {
				prefix.WriteString("    ")
			}
		}
		conn := "├── "
		if last {
			conn = "└── "
		}
		name := anc[len(anc)-1] + "/"
		if strings.Contains(name, " ") {
			name = "`" + name + "`"
		}
		lines = append(lines, line{prefix.String() + conn + name, annText(e)})
	}
	w := 0
	for _, l := range lines {
		w = max(w, width(l.left))
	}
	var b strings.Builder
	b.WriteString("```tree\n.\n")
	for _, l := range lines {
		b.WriteString(pad(l.left, w) + "  # " + l.ann + "\n")
	}
	b.WriteString("```\n")
	return b.String()
}

func hasLaterSibling(entries []Entry, p string) bool {
	seen := false
	for _, e := range entries {
		if e.Path == p {
			seen = true
			continue
		}
		if seen && depthOf(e.Path) == depthOf(p) && parent(e.Path) == parent(p) {
			return true
		}
	}
	return false
}

// renderList writes nested bullet items, each path relative to its parent.
func renderList(entries []Entry) string {
	var b strings.Builder
	for _, e := range entries {
		d := depthOf(e.Path)
		name := e.Path[strings.LastIndex(e.Path, "/")+1:]
		fmt.Fprintf(&b, "%s- `%s/` — %s\n", strings.Repeat("  ", d-1), name, annText(e))
	}
	return b.String()
}

// extend adds the entries an existing map misses, through the dirs
// engine's fixes, in the map's own format; nothing else changes.
func (g *gen) extend() (*Result, error) {
	g.res.Extended = true
	existing := dirmap.Parse(g.opts.Existing, dirmap.ParseOptions{RootNames: g.opts.RootNames})
	keys := g.keys(existing)
	in := dirmap.Input{Head: &dirmap.Side{HasMap: true, Map: g.opts.Existing, Files: g.paths}}
	r, err := dirmap.Check(context.Background(), in, dirmap.Options{ // generating a map is bounded by the tree it was given
		MapPath: g.opts.MapPath, Ignore: g.ignore, MaxDepth: g.opts.MaxDepth,
		RequiredAnnotations: g.opts.RequiredAnnotations, RootNames: g.opts.RootNames,
		FixValue: g.value,
	})
	if err != nil {
		return nil, err
	}
	// The engine offers no fix for a name a map line cannot hold; say so.
	for _, f := range r.Findings {
		if f.Kind == dirmap.KindUnregistered {
			g.writable(f.Path)
		}
	}
	var fixes []dirmap.Fix
	rows := map[int]int{}
	for _, f := range r.Fixes {
		if f.Path == "" {
			fixes = append(fixes, f)
			continue
		}
		if !g.writable(f.Path) {
			continue
		}
		fixes = append(fixes, f)
		rows[f.Before]++
	}
	// A new table whose every row was skipped is not written.
	kept := fixes[:0]
	for _, f := range fixes {
		if f.Path == "" && rows[f.Before] == 0 {
			continue
		}
		kept = append(kept, f)
	}
	fixes = kept
	if len(fixes) == 0 {
		g.res.Map = g.opts.Existing
		return g.res, nil
	}
	out, err := dirmap.ApplyFixes(g.opts.Existing, fixes)
	if err != nil {
		return nil, err
	}
	for _, f := range fixes {
		if f.Path == "" {
			continue
		}
		e := Entry{Path: f.Path}
		for _, k := range keys {
			e.Annotations = append(e.Annotations, [2]string{k, g.value(f.Path, k)})
		}
		if len(keys) == 0 {
			// A map without annotation columns gets a new table's Function.
			e.Annotations = append(e.Annotations, [2]string{"Function", g.value(f.Path, "Function")})
		}
		g.res.Entries = append(g.res.Entries, e)
	}
	g.res.Map, g.res.Changed = out, true
	return g.res, nil
}
