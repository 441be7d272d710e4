package checkrun

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/housekeeper-app/housekeeper/internal/escape"
)

// WriteJSON prints the report in the JSON contract: each check's title and
// summary exactly as the App posts them, and every finding.
func WriteJSON(w io.Writer, r Report) error {
	checks := make([]Check, len(r.Checks))
	for i, c := range r.Checks {
		p := Post(c, r.MaxAnnotations)
		c.Title, c.Summary = p.Title, p.Summary
		if c.Findings == nil {
			c.Findings = []Finding{}
		}
		checks[i] = c
	}
	r.Checks = checks
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteMarkdown prints each check's summary exactly as the App posts it
// (GitHub's limits and the annotation cap applied), one section per check.
func WriteMarkdown(w io.Writer, r Report) error {
	for i, c := range r.Checks {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		p := Post(c, r.MaxAnnotations)
		if _, err := fmt.Fprintf(w, "## %s: %s\n\n**%s**\n\n%s", c.Name, c.Conclusion, p.Title, p.Summary); err != nil {
			return err
		}
	}
	return nil
}

// WriteText prints the report for people: per check, what was checked and
// with which config, one line per finding (with its fingerprint), what was
// not scanned, what to do, the fix lines, and what the App would have to
// leave out of its check run (the text always shows everything).
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	for i, c := range r.Checks {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s: %s — %s\n", c.Name, c.Conclusion, c.Title)
		// Names and messages come from the repository: the terminal
		// encoder keeps them from driving the terminal.
		for _, s := range c.Details.Scope {
			b.WriteString("  " + escape.Terminal(s) + "\n")
		}
		for _, f := range c.Findings {
			if f.Kind == KindNotScanned && f.Level == LevelNotice {
				continue // a binary file: in the not-scanned list below, and in JSON and SARIF
			}
			b.WriteString("  " + escape.Terminal(textFinding(f)) + "\n")
		}
		if n := len(c.Details.NotScanned); n > 0 {
			fmt.Fprintf(&b, "  Not content-scanned (%s):\n", plural(n, "file", "files"))
			for _, s := range c.Details.NotScanned {
				b.WriteString("    " + escape.Terminal(s) + "\n")
			}
		}
		for _, a := range c.Details.Advice {
			b.WriteString("  " + a + "\n")
		}
		if c.FixText != "" {
			b.WriteString("\n" + terminalLines(c.FixText))
		}
		if cut := Post(c, r.MaxAnnotations).Cut; len(cut) > 0 {
			b.WriteString("  On GitHub, the App's check run is shorter (everything is shown here):\n")
			for _, s := range cut {
				b.WriteString("    - " + s + "\n")
			}
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

// textFinding is one finding on one line: where, level, what, and for a
// secret its redacted value and the fingerprint an ignore needs.
func textFinding(f Finding) string {
	where := f.File
	if f.Line > 0 {
		where = fmt.Sprintf("%s:%d", f.File, f.Line)
		if f.Secret != nil && f.Column > 0 {
			where = fmt.Sprintf("%s:%d", where, f.Column)
		}
	}
	if f.Secret == nil {
		if where == "" {
			where = f.Path
		}
		return fmt.Sprintf("%s: %s [%s] %s", where, f.Level, f.Kind, f.Message)
	}
	if where == "" {
		where = f.Path
	}
	switch {
	case f.Level == LevelNotice && f.Commit != "":
		where += " (deleted in commit " + shortSHA(f.Commit) + ")"
	case f.File == "" && f.Commit != "":
		where += " (only in commit " + shortSHA(f.Commit) + ", no longer at the head)"
	}
	level := f.Level
	if f.Suppressed {
		level += ", suppressed (" + f.SuppressedBy + ")"
	}
	what := f.Description
	if f.Redacted != "" {
		what += " (" + f.Redacted + ")"
	}
	if f.Level == LevelNotice {
		what += " on a deleted line: rotate it"
	}
	return fmt.Sprintf("%s: %s [%s, %s] %s — fingerprint %s", where, level, f.Rule, f.Tier, what, f.Fingerprint)
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
