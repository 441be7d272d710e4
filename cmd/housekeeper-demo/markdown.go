package main

import (
	"regexp"
	"strings"
)

// markdownText renders the Markdown of a check-run summary as plain text,
// as a reader sees it on GitHub: headings, emphasis and code spans lose
// their markers, tables become aligned columns, fenced code is indented.
// It handles the constructs the App's summaries use, not all of Markdown.
func markdownText(md string) string {
	var out []string
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
				out = append(out, "  "+lines[i])
			}
		case isTableRow(trimmed):
			var rows [][]string
			for ; i < len(lines) && isTableRow(strings.TrimSpace(lines[i])); i++ {
				if cells := tableCells(strings.TrimSpace(lines[i])); !isDelimiterRow(cells) {
					rows = append(rows, cells)
				}
			}
			i--
			out = append(out, alignTable(rows)...)
		case strings.HasPrefix(trimmed, "#"):
			h := strings.TrimSpace(strings.TrimLeft(trimmed, "#"))
			out = append(out, inline(h), strings.Repeat("-", width(inline(h))))
		default:
			out = append(out, inline(line))
		}
	}
	return strings.Join(out, "\n")
}

var (
	strong     = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	codeSpan   = regexp.MustCompile("`([^`]*)`")
	link       = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)\)`)
	htmlTag    = regexp.MustCompile(`</?(?:details|summary|br|sub|sup|b|i|code)\s*/?>`)
	escapePipe = strings.NewReplacer(`\|`, "|")
)

// inline drops the markers of emphasis, code spans and links.
func inline(s string) string {
	s = link.ReplaceAllString(s, "$1 ($2)")
	s = strong.ReplaceAllString(s, "$1")
	s = codeSpan.ReplaceAllString(s, "$1")
	s = htmlTag.ReplaceAllString(s, "")
	return escapePipe.Replace(s)
}

// width approximates a string's width in a terminal: emoji such as ❌ take
// two columns, variation selectors none.
func width(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r == 0xFE0F || r == 0x200D:
		case r >= 0x2600 && r <= 0x27BF, r >= 0x1F000:
			n += 2
		default:
			n++
		}
	}
	return n
}

func isTableRow(s string) bool {
	return strings.HasPrefix(s, "|") && strings.HasSuffix(s, "|") && len(s) > 1
}

// tableCells splits a row on pipes that are not escaped.
func tableCells(row string) []string {
	row = strings.TrimSuffix(strings.TrimPrefix(row, "|"), "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row) && row[i+1] == '|':
			cur.WriteString(`\|`)
			i++
		case row[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(row[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

func isDelimiterRow(cells []string) bool {
	for _, c := range cells {
		if strings.Trim(c, ":-") != "" || c == "" {
			return false
		}
	}
	return true
}

func alignTable(rows [][]string) []string {
	var widths []int
	for r, row := range rows {
		for c, cell := range row {
			rows[r][c] = inline(cell)
			if c >= len(widths) {
				widths = append(widths, 0)
			}
			widths[c] = max(widths[c], width(rows[r][c]))
		}
	}
	out := make([]string, 0, len(rows))
	for _, row := range rows {
		var b strings.Builder
		for c, cell := range row {
			if c > 0 {
				b.WriteString("  ")
			}
			b.WriteString(cell)
			if c < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[c]-width(cell)))
			}
		}
		out = append(out, strings.TrimRight(b.String(), " "))
	}
	return out
}
