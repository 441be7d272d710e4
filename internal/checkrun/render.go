package checkrun

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/housekeeper-app/housekeeper/internal/escape"
)

// WriteJSON prints the report in the JSON contract.
func WriteJSON(w io.Writer, r Report) error {
	for i := range r.Checks {
		if r.Checks[i].Findings == nil {
			r.Checks[i].Findings = []Finding{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteMarkdown prints each check's summary as the App posts it, one
// section per check.
func WriteMarkdown(w io.Writer, r Report) error {
	for i, c := range r.Checks {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintf(w, "## %s: %s\n\n**%s**\n\n%s", c.Name, c.Conclusion, c.Title, c.Summary); err != nil {
			return err
		}
	}
	return nil
}

// WriteText prints the report for people: one line per finding, then the
// fix lines.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	for i, c := range r.Checks {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s: %s — %s\n", c.Name, c.Conclusion, c.Title)
		for _, f := range c.Findings {
			if f.Kind == KindNotScanned && f.Level == LevelNotice {
				continue // a binary file: counted in the summary, listed in JSON and SARIF
			}
			where := f.File
			if where == "" && f.Secret != nil {
				where = f.Path + " (only in commit " + shortSHA(f.Commit) + ", no longer at the head)"
			}
			if where == "" {
				where = f.Path
			}
			if f.Line > 0 {
				where = fmt.Sprintf("%s:%d", f.File, f.Line)
				if f.Secret != nil && f.Column > 0 {
					where = fmt.Sprintf("%s:%d", where, f.Column)
				}
			}
			level := f.Level
			if f.Secret != nil && f.Suppressed {
				level += ", suppressed"
			}
			fmt.Fprintf(&b, "  %s: %s [%s] %s\n", escape.Terminal(where), level, f.Kind, escape.Terminal(f.Message))
		}
		if c.FixText != "" {
			b.WriteString("\n" + terminalLines(c.FixText))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// terminalLines passes each line of text through the terminal encoder.
func terminalLines(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		lines[i] = escape.Terminal(strings.TrimSuffix(l, "\n"))
		if strings.HasSuffix(l, "\n") {
			lines[i] += "\n"
		}
	}
	return strings.Join(lines, "")
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
