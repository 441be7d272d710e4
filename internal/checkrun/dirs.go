package checkrun

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/housekeeper-app/housekeeper/internal/config"
	"github.com/housekeeper-app/housekeeper/internal/dirmap"
	"github.com/housekeeper-app/housekeeper/internal/escape"
)

// DirsInput is what the dirs check run is rendered from.
type DirsInput struct {
	Result  *dirmap.Result
	MapPath string
	Enforce bool
	// ConfigSource names the config that applied.
	ConfigSource string
	// Notes are extra lines for the summary (e.g. a config change that
	// applies after merge).
	Notes []string
	// FixCommand is set when the App can commit the fix (the CLI leaves it
	// empty).
	FixCommand bool
}

// Dirs builds the housekeeper/dirs check run.
func Dirs(in DirsInput) Check {
	r := in.Result
	c := Check{Name: NameDirs, Findings: []Finding{}}
	for _, f := range r.Findings {
		c.Findings = append(c.Findings, Finding{Kind: string(f.Kind), Path: f.Path, File: f.File, Line: f.Line, Level: string(f.Level), Message: f.Message})
	}
	SortFindings(c.Findings)
	counts := countKinds(c.Findings)
	switch {
	case !in.Enforce:
		c.Conclusion = Neutral
	case c.Failed():
		c.Conclusion = Failure
	case r.MapMissing:
		c.Conclusion = Neutral
	default:
		c.Conclusion = Success
	}
	c.Title = dirsTitle(r, counts, c.Failed())
	c.Summary = dirsSummary(in, &c, counts)
	c.FixText = fixText(in)
	return c
}

// RunDirs runs the dirs engine with a repository config and renders its
// check run; the CLI and the App both call it.
func RunDirs(ctx context.Context, cfg *config.Config, in dirmap.Input, rootNames []string, notes []string, fixCommand bool) (Check, *dirmap.Result, error) {
	res, err := dirmap.Check(ctx, in, DirsOptions(cfg, rootNames))
	if err != nil {
		return Check{}, nil, err
	}
	return Dirs(DirsInput{Result: res, MapPath: cfg.Dirs.Map, Enforce: cfg.Dirs.Enforce, ConfigSource: cfg.Source, Notes: notes, FixCommand: fixCommand}), res, nil
}

// DirsOptions maps the repository config onto the engine's options.
func DirsOptions(cfg *config.Config, rootNames []string) dirmap.Options {
	return dirmap.Options{
		MapPath:             cfg.Dirs.Map,
		Required:            cfg.Dirs.Required,
		Ignore:              cfg.Dirs.Ignore,
		RequiredAnnotations: cfg.Dirs.RequiredAnnotations,
		MaxDepth:            cfg.Dirs.MaxDepth,
		RootNames:           rootNames,
		Annotations:         annotationRules(cfg.Dirs.Annotations),
	}
}

// annotationRules maps dirs.annotations onto the engine's rules, in name
// order so that findings come out the same every run. The config was
// validated, so patterns compile.
func annotationRules(anns map[string]config.Annotation) []dirmap.AnnotationRule {
	names := make([]string, 0, len(anns))
	for name := range anns {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []dirmap.AnnotationRule
	for _, name := range names {
		a := anns[name]
		r := dirmap.AnnotationRule{Key: name, Values: a.Values, PatternText: a.Pattern,
			VerifyManifests: a.Verify == config.VerifyManifests, Level: dirmap.Level(a.Level)}
		if a.Pattern != "" {
			r.Pattern, _ = config.AnnotationPattern(a.Pattern)
		}
		out = append(out, r)
	}
	return out
}

func fixText(in DirsInput) string {
	if len(in.Result.Fixes) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "To register the new directories, add to %s (then replace each TODO):\n", in.MapPath)
	for _, g := range dirmap.GroupFixes(in.Result.Fixes) {
		fmt.Fprintf(&b, "  %s (%s):\n", placement(g.Before), g.Format)
		for _, l := range g.Lines {
			b.WriteString("    " + l + "\n")
		}
	}
	return b.String()
}

// placement says where fix lines go: after the line before the insertion
// point, which always exists (an insertion at the end of a 15-line map is
// "after line 15", never "before line 16").
func placement(before int) string {
	if before <= 1 {
		return "at the top of the map"
	}
	return fmt.Sprintf("after line %d", before-1)
}

func countKinds(fs []Finding) map[string]map[string]int {
	m := map[string]map[string]int{}
	for _, f := range fs {
		if m[f.Kind] == nil {
			m[f.Kind] = map[string]int{}
		}
		m[f.Kind][f.Level]++
	}
	return m
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

var dirsKinds = []struct{ kind, one, many string }{
	{"missing-map", "missing map", "missing maps"},
	{"malformed-map", "malformed map line", "malformed map lines"},
	{"unregistered", "unregistered directory", "unregistered directories"},
	{"stale", "stale entry", "stale entries"},
	{"incomplete", "incomplete entry", "incomplete entries"},
	{"invalid-annotation", "invalid annotation", "invalid annotations"},
	{"namespace-drift", "namespace drift", "namespace drifts"},
	{"realised", "realised planned entry", "realised planned entries"},
}

func dirsTitle(r *dirmap.Result, counts map[string]map[string]int, failed bool) string {
	if r.MapMissing && !failed {
		return "No directory map: the check does not apply"
	}
	var parts []string
	for _, k := range dirsKinds {
		if n := total(counts[k.kind]); n > 0 {
			parts = append(parts, plural(n, k.one, k.many))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("Directory map is up to date (%s)", plural(len(r.Map.Entries), "entry", "entries"))
	}
	return strings.Join(parts, ", ")
}

func dirsSummary(in DirsInput, c *Check, counts map[string]map[string]int) string {
	r := in.Result
	var b strings.Builder
	scope := "this change"
	if r.Audit {
		scope = "the whole tree (audit)"
	}
	entries := 0
	if r.Map != nil {
		entries = len(r.Map.Entries)
	}
	fmt.Fprintf(&b, "Checked %s against the directory map %s (%s, %s).\n",
		scope, escape.Code(in.MapPath), plural(entries, "entry", "entries"), plural(r.Dirs, "directory", "directories"))
	fmt.Fprintf(&b, "Config: %s.", configName(in.ConfigSource))
	c.Details.Scope = append(c.Details.Scope, fmt.Sprintf("Checked %s against the directory map %s (%s, %s). Config: %s.",
		scope, in.MapPath, plural(entries, "entry", "entries"), plural(r.Dirs, "directory", "directories"), plainConfigName(in.ConfigSource)))
	if !in.Enforce {
		b.WriteString(" Report-only mode (`enforce: false`): findings do not fail the run.")
		c.Details.Scope = append(c.Details.Scope, "Report-only mode (enforce: false): findings do not fail the run.")
	}
	b.WriteString("\n")
	for _, n := range in.Notes {
		b.WriteString("\n> " + n + "\n")
		c.Details.Scope = append(c.Details.Scope, n)
	}
	if len(c.Findings) == 0 {
		b.WriteString("\nEvery directory is registered and every entry is annotated and exists.\n")
		return b.String()
	}
	// The fix lines take at most half of GitHub's limit; the findings table
	// gets the rest. Each says what it could not show.
	fix, fixCut := fixSection(in, MaxText/2)
	b.WriteString("\n" + levelCounts(c.Findings) + "\n\n")
	table, tableCut := findingsTable(c.Findings, MaxText-b.Len()-len(fix)-200)
	b.WriteString(table)
	b.WriteString(fix)
	for _, cut := range []string{tableCut, fixCut} {
		if cut != "" {
			c.Details.Cut = append(c.Details.Cut, cut)
		}
	}
	if b.Len() > MaxText {
		c.Details.Cut = append(c.Details.Cut, "the summary is cut at GitHub's 65,535 characters")
	}
	return clipText(b.String(), MaxText)
}

func configName(src string) string {
	if src == "" || src == "defaults" {
		return "built-in defaults"
	}
	return escape.Code(src)
}

func plainConfigName(src string) string {
	if src == "" || src == "defaults" {
		return "built-in defaults"
	}
	return src
}

func levelCounts(fs []Finding) string {
	n := map[string]int{}
	for _, f := range fs {
		n[f.Level]++
	}
	var parts []string
	for _, l := range []struct{ level, one, many string }{
		{LevelFailure, "failure", "failures"}, {LevelWarning, "warning", "warnings"}, {LevelNotice, "notice", "notices"},
	} {
		if n[l.level] > 0 {
			parts = append(parts, plural(n[l.level], l.one, l.many))
		}
	}
	return "**" + strings.Join(parts, ", ") + "**"
}

var levelIcon = map[string]string{LevelFailure: "❌", LevelWarning: "⚠️", LevelNotice: "ℹ️"}

// findingsTable renders findings as a Markdown table within budget
// characters, counting by kind what did not fit; cut says it in plain text.
func findingsTable(fs []Finding, budget int) (table, cut string) {
	var b strings.Builder
	b.WriteString("| | Kind | Path | Where | Message |\n|---|---|---|---|---|\n")
	left := map[string]int{}
	shown := 0
	for _, f := range fs {
		where := f.File
		if f.Line > 0 {
			where = fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		row := fmt.Sprintf("| %s | %s | %s | %s | %s |\n", levelIcon[f.Level], f.Kind, code(f.Path), code(where), cell(f.Message))
		if b.Len()+len(row) > budget {
			left[f.Kind]++
			continue
		}
		b.WriteString(row)
		shown++
	}
	if len(left) > 0 {
		var parts []string
		for _, k := range sortedKeys(left) {
			parts = append(parts, fmt.Sprintf("%d %s", left[k], k))
		}
		fmt.Fprintf(&b, "\n%d more findings are not shown here (GitHub's size limit): %s. Run `housekeeper check` locally for all of them.\n", len(fs)-shown, strings.Join(parts, ", "))
		cut = fmt.Sprintf("the summary's table shows %d of %d findings (GitHub's 65,535-character limit)", shown, len(fs))
	}
	return b.String(), cut
}

// fixSection shows the exact lines that register what is missing, within
// budget bytes; cut says in plain text what did not fit.
func fixSection(in DirsInput, budget int) (section, cut string) {
	r := in.Result
	if len(r.Fixes) == 0 {
		return "", ""
	}
	var b strings.Builder
	b.WriteString("\n### Register the new directories\n\n")
	fmt.Fprintf(&b, "Paste these lines into %s, then replace each `TODO` (a TODO still counts as missing, so the check passes once they are filled in):\n", escape.Code(in.MapPath))
	left := 0
	for _, g := range dirmap.GroupFixes(r.Fixes) {
		fence := escape.Fence(g.Lines...)
		p := placement(g.Before)
		head := fmt.Sprintf("\n%s (%s):\n\n%s\n", strings.ToUpper(p[:1])+p[1:], g.Format, fence)
		var lines []string
		size := b.Len() + len(head) + len(fence) + 400
		for i, l := range g.Lines {
			if size+len(l)+1 > budget {
				left += len(g.Lines) - i
				break
			}
			lines = append(lines, escape.Block(l))
			size += len(l) + 1
		}
		if len(lines) > 0 {
			b.WriteString(head + strings.Join(lines, "\n") + "\n" + fence + "\n")
		}
	}
	if left > 0 {
		fmt.Fprintf(&b, "\n%d more lines are not shown here (GitHub's size limit); `housekeeper check` prints them all.\n", left)
		cut = fmt.Sprintf("the summary leaves out %s to paste (GitHub's 65,535-character limit)", plural(left, "fix line", "fix lines"))
	}
	if in.FixCommand {
		b.WriteString("\nOr press **Add stub entries** above, or comment `/housekeeper fix dirs`, to commit them to this branch.\n")
	}
	return b.String(), cut
}

// code and cell place repeated text in a summary's table cells
// (internal/escape).
func code(s string) string { return escape.CellCode(s) }

func cell(s string) string { return escape.Cell(s) }
