// Package escape holds the encoders for text the App or the CLI repeats
// from a repository or a comment (paths, directory names, reasons,
// arguments, map lines): one encoder per place the text lands, chosen
// where it is placed. JSON and SARIF carry such text as data and need none.
//
// Every encoder makes control characters visible (a name cannot break a
// line, move the cursor or reverse the text) and never lets "<!--" or
// "-->" through, so repeated text cannot carry a hidden marker. The
// Markdown encoders also neutralise Markdown and HTML, defuse @mentions and
// keep URLs from turning into links.
package escape

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

const zwsp = "\u200b" // zero-width space: breaks a mention or a link, shows nothing

// Visible replaces control characters (C0, DEL, C1), line and paragraph
// separators and bidirectional overrides with Go-style escapes (\n, \x1b,
// \u202e) and invalid UTF-8 with \xNN, so one name stays one line and reads
// as written.
func Visible(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// hidden reports runes that change how the text around them reads: C1
// controls, line/paragraph separators, bidi controls, zero-width format
// characters and the BOM.
func hidden(r rune) bool {
	switch {
	case r >= 0x80 && r < 0xa0:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r == 0xfeff:
		return true
	}
	return unicode.Is(unicode.Cf, r) && r != 0x200b && r != 0x200d
}

// noComment breaks "<!--" and "-->" with a zero-width space.
func noComment(s string) string {
	if !strings.Contains(s, "<!--") && !strings.Contains(s, "-->") {
		return s
	}
	s = strings.ReplaceAll(s, "<!--", "<!-"+zwsp+"-")
	return strings.ReplaceAll(s, "-->", "-"+zwsp+"->")
}

// Plain is for text shown as plain text: check-run annotation messages and
// titles, commit messages. Nothing is rendered there, but a newline or an
// escape sequence would still mislead.
func Plain(s string) string { return noComment(Visible(s)) }

// markdownSpecial are the characters that can start Markdown or HTML
// syntax inside a line; each is backslash-escaped (GitHub renders "\*" as
// "*"), except that HTML's own characters become entities.
var markdownText = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"~", `\~`, "$", `\$`, "#", `\#`, "!", `\!`, "|", `\|`,
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	"@", "@"+zwsp,
	"://", zwsp+"://", "www.", "www"+zwsp+".",
)

// Text is for text placed in a Markdown line (a comment reply, a summary's
// prose, a table cell): it renders as the characters written, never as
// emphasis, a link, an image, HTML, a heading, a mention or a new line.
func Text(s string) string { return markdownText.Replace(Visible(s)) }

// Cell is for a Markdown table cell; Text already escapes "|".
func Cell(s string) string { return Text(s) }

// Code renders s as a Markdown code span: the fence is longer than any
// backtick run inside, so s cannot close it; control characters are made
// visible and an HTML comment opener is broken. Mentions, links and HTML do
// not render inside code. Empty s gives "".
func Code(s string) string {
	if s == "" {
		return ""
	}
	s = noComment(Visible(s))
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || (strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") && strings.Trim(s, " ") != "") {
		pad = " " // CommonMark strips one space each side when both are there
	}
	return fence + pad + s + pad + fence
}

// CellCode is Code for a Markdown table cell: GitHub splits a row on "|"
// before it reads code spans, so a pipe inside is written "\|" (which the
// table unescapes).
func CellCode(s string) string { return strings.ReplaceAll(Code(s), "|", `\|`) }

// Fence returns a code fence for a block holding lines: backticks, at least
// three and more than any backtick run in the lines.
func Fence(lines ...string) string {
	n := 2
	for _, l := range lines {
		if r := longestRun(l, '`'); r > n {
			n = r
		}
	}
	return strings.Repeat("`", n+1)
}

// Block makes a line safe inside a fenced code block: control characters
// visible and no HTML comment opener; the fence from Fence keeps it inside.
func Block(s string) string { return noComment(Visible(s)) }

func longestRun(s string, c byte) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			if run > best {
				best = run
			}
		} else {
			run = 0
		}
	}
	return best
}

// Terminal is for the CLI's text output: ANSI and OSC escape sequences in
// a name are removed (a name must not recolour the terminal, retitle it or
// plant a hyperlink), then every other control character is made visible.
func Terminal(s string) string { return Visible(stripSequences(s)) }

// stripSequences removes ESC-introduced sequences: CSI (ESC [ … final), OSC
// (ESC ] … BEL or ESC \), and two-byte escapes; also 8-bit CSI and OSC.
func stripSequences(s string) string {
	if !strings.ContainsAny(s, "\x1b\u009b\u009d") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b && i+1 < len(s) && s[i+1] == '[', r == 0x9b:
			j := i + n
			if r == 0x1b {
				j = i + 2
			}
			for j < len(s) && !(s[j] >= 0x40 && s[j] <= 0x7e) {
				j++
			}
			i = min(j+1, len(s))
		case r == 0x1b && i+1 < len(s) && s[i+1] == ']', r == 0x9d:
			j := i + n
			if r == 0x1b {
				j = i + 2
			}
			for j < len(s) {
				if s[j] == 0x07 {
					j++
					break
				}
				if s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\' {
					j += 2
					break
				}
				j++
			}
			i = j
		case r == 0x1b && i+1 < len(s):
			i += 2
		default:
			b.WriteString(s[i : i+n])
			i += n
		}
	}
	return b.String()
}
