package checkrun

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/housekeeper-app/housekeeper/internal/config"
	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// SecretsScan applies the pull-request scope of the secrets check over the
// engine: every commit's added lines, one finding per fingerprint reported
// at its first commit, deleted secrets as notices, and inline allows only
// where the line is already on the base. The CLI (--base, --staged, audit)
// and the App feed it the same way.
type SecretsScan struct {
	Scanner *secrets.Scanner
	Audit   bool

	findings []secretFinding
	seen     map[string]int // fingerprint (+deleted) → index
	skipped  []secrets.Skipped
	commits  int // commits scanned one by one
	patches  int // diffs without a commit: the net diff, or the staged change
	files    int // file diffs scanned
	notes    []string
}

type secretFinding struct {
	secrets.Finding
	commit   string
	lineText string // the added line's text, to find it on the base; never rendered
	located  bool   // Line is the head's
}

// NewSecretsScan starts a scan.
func NewSecretsScan(s *secrets.Scanner, audit bool) *SecretsScan {
	return &SecretsScan{Scanner: s, Audit: audit, seen: map[string]int{}}
}

// Note adds a line to the summary (e.g. "net diff scanned").
func (s *SecretsScan) Note(n string) { s.notes = append(s.notes, n) }

func (s *SecretsScan) add(f secrets.Finding, commit, text string, located bool) {
	key := f.Fingerprint
	if f.Deleted {
		key += "\x00deleted"
	}
	if _, ok := s.seen[key]; ok {
		return
	}
	s.seen[key] = len(s.findings)
	s.findings = append(s.findings, secretFinding{Finding: f, commit: commit, lineText: text, located: located})
}

// AddCommit scans one commit's file diffs. content returns a file's full
// content at that commit when the caller has it (nil otherwise); head is
// set for the commit whose lines are the head's (a one-commit change, the
// net diff, or the staged change).
func (s *SecretsScan) AddCommit(sha string, diffs []secrets.FileDiff, content func(path string) []byte, head bool) {
	if sha == "" {
		s.patches++
	} else {
		s.commits++
	}
	s.files += len(diffs)
	for _, d := range diffs {
		var c []byte
		if content != nil && d.NewPath != "" && !d.Binary {
			c = content(d.NewPath)
		}
		for _, f := range s.Scanner.ScanChange(d, c) {
			s.add(f, sha, addedText(d, f.Line), head && !f.Deleted)
		}
	}
}

// AddTree adds a whole-tree scan (audit).
func (s *SecretsScan) AddTree(r secrets.TreeResult) {
	for _, f := range r.Findings {
		s.add(f, "", "", true)
	}
	s.skipped = append(s.skipped, r.Skipped...)
}

// AddSkipped records files that were not content-scanned.
func (s *SecretsScan) AddSkipped(sk ...secrets.Skipped) { s.skipped = append(s.skipped, sk...) }

func addedText(d secrets.FileDiff, line int) string {
	for _, l := range d.Added {
		if l.Line == line {
			return l.Text
		}
	}
	return ""
}

// Locate moves findings from earlier commits to the head file and line
// where the value still is; head returns a file's content at the head (ok
// false when it is gone). Findings no longer at the head keep their commit
// and are listed in the summary only.
func (s *SecretsScan) Locate(head func(path string) ([]byte, bool)) {
	byPath := map[string][]int{}
	for i, f := range s.findings {
		if !f.located && !f.Deleted {
			byPath[f.Path] = append(byPath[f.Path], i)
		}
	}
	for p, idx := range byPath {
		content, ok := head(p)
		if !ok {
			continue
		}
		at := map[string]secrets.Finding{}
		for _, hf := range s.Scanner.ScanContent(p, content) {
			at[hf.Fingerprint] = hf
		}
		for _, i := range idx {
			if hf, ok := at[s.findings[i].Fingerprint]; ok {
				s.findings[i].Line, s.findings[i].Column = hf.Line, hf.Column
				s.findings[i].located = true
			}
		}
	}
}

// Allow honours inline housekeeper:allow comments: always in an audit,
// else only where the same line is already on the base (base returns the
// file's base content), so an author cannot waive their own finding.
func (s *SecretsScan) Allow(base func(path string) ([]byte, bool)) {
	for i := range s.findings {
		f := &s.findings[i]
		if !f.Allowed || f.Suppressed {
			continue
		}
		if s.Audit {
			f.Suppressed, f.SuppressedBy = true, "inline housekeeper:allow"
			continue
		}
		if base == nil || f.lineText == "" {
			continue
		}
		if content, ok := base(f.Path); ok && hasLine(content, f.lineText) {
			f.Suppressed, f.SuppressedBy = true, "inline housekeeper:allow (line already on the base branch)"
		}
	}
}

func hasLine(content []byte, line string) bool {
	for _, l := range bytes.Split(content, []byte("\n")) {
		if string(bytes.TrimSuffix(l, []byte("\r"))) == line {
			return true
		}
	}
	return false
}

// Suppress marks findings accepted elsewhere (e.g. a /housekeeper ignore
// on the pull request), saying by whom.
func (s *SecretsScan) Suppress(by map[string]string) {
	for i := range s.findings {
		if why, ok := by[s.findings[i].Fingerprint]; ok && !s.findings[i].Suppressed {
			s.findings[i].Suppressed, s.findings[i].SuppressedBy = true, why
		}
	}
}

// SecretsInput is what the secrets check run is rendered from.
type SecretsInput struct {
	Scan         *SecretsScan
	Config       *config.Config
	ConfigSource string
	Notes        []string
}

// Secrets builds the housekeeper/secrets check run.
func Secrets(in SecretsInput) Check {
	s := in.Scan
	cfg := in.Config.Secrets
	c := Check{Name: NameSecrets, Findings: []Finding{}}
	for _, f := range s.findings {
		level := LevelFailure
		switch {
		case f.Deleted:
			level = LevelNotice
		case !cfg.FailsOn(string(f.Tier)):
			level = LevelWarning
		}
		file, line := f.Path, f.Line
		commit := f.commit
		if !f.located && !f.Deleted {
			file, line = "", 0 // no longer at the head: listed with its commit
		}
		if f.located && !s.Audit && f.commit != "" {
			commit = f.commit
		}
		msg := f.Message()
		if f.Deleted {
			msg = fmt.Sprintf("%s was on a line this change deletes. Deleting it does not remove it from history — rotate it.", f.Description)
		}
		c.Findings = append(c.Findings, Finding{
			Kind: string(f.Kind), Path: f.Path, File: file, Line: line, Level: level, Message: msg,
			Secret: &Secret{Rule: f.RuleID, Tier: string(f.Tier), Column: f.Column, Fingerprint: f.Fingerprint,
				Redacted: f.Redacted, Commit: commit, Suppressed: f.Suppressed, SuppressedBy: f.SuppressedBy, Description: f.Description},
		})
	}
	SortFindings(c.Findings)
	switch {
	case !cfg.Enforce:
		c.Conclusion = Neutral
	case c.Failed():
		c.Conclusion = Failure
	default:
		c.Conclusion = Success
	}
	c.Title = secretsTitle(c.Findings, s)
	c.Summary = secretsSummary(in, &c)
	return c
}

func secretsTitle(fs []Finding, s *SecretsScan) string {
	tiers := map[string]int{}
	open, suppressed, deleted := 0, 0, 0
	// A secret added and deleted again within the change is one secret:
	// its deletion notice is not counted a second time.
	counted := map[string]bool{}
	for _, f := range fs {
		if f.Level != LevelNotice {
			counted[f.Fingerprint] = true
		}
	}
	for _, f := range fs {
		switch {
		case f.Suppressed:
			suppressed++
		case f.Level == LevelNotice:
			if !counted[f.Fingerprint] {
				deleted++
			}
		default:
			open++
			tiers[f.Tier]++
		}
	}
	var parts []string
	if open > 0 {
		var t []string
		for _, tier := range []string{config.TierBootstrap, config.TierRuntime} {
			if tiers[tier] > 0 {
				t = append(t, fmt.Sprintf("%d %s", tiers[tier], tier))
			}
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", plural(open, "secret committed", "secrets committed"), strings.Join(t, ", ")))
	}
	if deleted > 0 {
		parts = append(parts, plural(deleted, "deleted secret to rotate", "deleted secrets to rotate"))
	}
	if suppressed > 0 {
		parts = append(parts, fmt.Sprintf("%d suppressed", suppressed))
	}
	if len(parts) == 0 {
		if s.Audit {
			return "No secrets in the tree"
		}
		switch {
		case s.files == 0 && s.commits == 0:
			return "No secrets: the change is empty"
		case s.commits == 0:
			return "No secrets in the change"
		}
		return fmt.Sprintf("No secrets in %s", plural(s.commits, "commit", "commits"))
	}
	return strings.Join(parts, ", ")
}

func secretsSummary(in SecretsInput, c *Check) string {
	s := in.Scan
	var b strings.Builder
	scope := "Scanned the whole tree (audit)."
	switch {
	case s.Audit:
	case s.files == 0 && s.commits == 0:
		scope = "The change is empty (no commit, no file changed): nothing to scan."
	case s.commits == 0:
		scope = "Scanned the added lines of the change."
	default:
		scope = fmt.Sprintf("Scanned the added lines of %s.", plural(s.commits, "commit", "commits"))
	}
	b.WriteString(scope)
	fmt.Fprintf(&b, " Config: %s.", configName(in.ConfigSource))
	scope += " Config: " + plainConfigName(in.ConfigSource) + "."
	if !in.Config.Secrets.Enforce {
		b.WriteString(" Report-only mode (`enforce: false`): findings do not fail the run.")
		scope += " Report-only mode (enforce: false): findings do not fail the run."
	}
	c.Details.Scope = append(c.Details.Scope, scope)
	b.WriteString("\n")
	for _, n := range append(append([]string{}, s.notes...), in.Notes...) {
		b.WriteString("\n> " + n + "\n")
		c.Details.Scope = append(c.Details.Scope, n)
	}
	sort.Slice(s.skipped, func(i, j int) bool { return s.skipped[i].Path < s.skipped[j].Path })
	for _, sk := range s.skipped {
		c.Details.NotScanned = append(c.Details.NotScanned, fmt.Sprintf("%s: %s", sk.Path, sk.Reason))
	}
	var open, suppressed []Finding
	for _, f := range c.Findings {
		if f.Suppressed {
			suppressed = append(suppressed, f)
		} else {
			open = append(open, f)
		}
	}
	c.Details.Advice = remediationAdvice(open)
	tail := remediationSection(open) + suppressedSection(suppressed) + skippedSection(s.skipped)
	if len(open) > 0 {
		b.WriteString("\n" + levelCounts(open) + "\n\n")
		table, cut := secretsTable(open, MaxText-b.Len()-len(tail)-200)
		b.WriteString(table)
		if cut != "" {
			c.Details.Cut = append(c.Details.Cut, cut)
		}
	} else if len(c.Findings) == 0 {
		b.WriteString("\nNo bootstrap or runtime secret found.\n")
	}
	if len(s.skipped) > skippedShown {
		c.Details.Cut = append(c.Details.Cut, fmt.Sprintf("the summary lists the first %d of the %d files not scanned", skippedShown, len(s.skipped)))
	}
	b.WriteString(tail)
	if b.Len() > MaxText {
		c.Details.Cut = append(c.Details.Cut, "the summary is cut at GitHub's 65,535 characters")
		return clipText(b.String(), MaxText)
	}
	return b.String()
}

// secretsTable renders open findings within budget characters; cut says,
// in plain text, what did not fit ("" when everything did).
func secretsTable(fs []Finding, budget int) (table, cut string) {
	var b strings.Builder
	b.WriteString("| | Tier | Rule | Where | Value | Fingerprint |\n|---|---|---|---|---|---|\n")
	left := map[string]int{}
	shown := 0
	for _, f := range fs {
		where := code(f.Path)
		switch {
		case f.File != "" && f.Line > 0:
			where = code(fmt.Sprintf("%s:%d", f.File, f.Line))
		case f.Commit != "" && f.Level != LevelNotice:
			where += " (only in commit " + code(shortSHA(f.Commit)) + ", no longer at the head)"
		}
		if f.Level == LevelNotice && f.Commit != "" {
			where += " (deleted in " + code(shortSHA(f.Commit)) + ")"
		}
		row := fmt.Sprintf("| %s | %s | %s | %s | %s | %s |\n", levelIcon[f.Level], f.Tier, code(f.Rule), where, code(f.Redacted), code(f.Fingerprint))
		if b.Len()+len(row) > budget {
			left[f.Rule+" in "+f.Path]++
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
		fmt.Fprintf(&b, "\n%d more findings are not shown here (GitHub's size limit): %s. Run `housekeeper check` locally for all of them.\n", len(fs)-shown, strings.Join(parts, "; "))
		cut = fmt.Sprintf("the summary's table shows %d of %d findings (GitHub's 65,535-character limit)", shown, len(fs))
	}
	return b.String(), cut
}

// remediationAdvice is remediationSection in plain text.
func remediationAdvice(open []Finding) []string {
	tiers := map[string]bool{}
	deleted := false
	for _, f := range open {
		if f.Level == LevelNotice {
			deleted = true
			continue
		}
		tiers[f.Tier] = true
	}
	var out []string
	if tiers[config.TierBootstrap] {
		out = append(out, secrets.RemediationBootstrap)
	}
	if tiers[config.TierRuntime] {
		out = append(out, secrets.RemediationRuntime)
	}
	if deleted {
		out = append(out, "A deleted secret is still in the repository's history: rotate it.")
	}
	if len(out) > 0 {
		out = append(out, "To accept a finding that is not a real credential: `/housekeeper ignore <fingerprint> <reason>` on the pull request, or the fingerprint in `secrets.ignore` in .github/housekeeper.yml.")
	}
	return out
}

func remediationSection(open []Finding) string {
	tiers := map[string]bool{}
	deleted := false
	for _, f := range open {
		if f.Level == LevelNotice {
			deleted = true
			continue
		}
		tiers[f.Tier] = true
	}
	if len(tiers) == 0 && !deleted {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n### Where these secrets belong\n\n")
	if tiers[config.TierBootstrap] {
		b.WriteString("- " + secrets.RemediationBootstrap + "\n")
	}
	if tiers[config.TierRuntime] {
		b.WriteString("- " + secrets.RemediationRuntime + "\n")
	}
	if deleted {
		b.WriteString("- A deleted secret is still in the repository's history: rotate it.\n")
	}
	b.WriteString("\nRemoving the value in a later commit does not remove it from history: rotate it, then remove it. To accept a finding that is not a real credential, a maintainer can comment `/housekeeper ignore <fingerprint> <reason>` or add it to `secrets.ignore` in `.github/housekeeper.yml`.\n")
	return b.String()
}

func suppressedSection(fs []Finding) string {
	if len(fs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n### Suppressed\n\n| Rule | Where | Fingerprint | By, and why |\n|---|---|---|---|\n")
	for _, f := range fs {
		where := f.Path
		if f.Line > 0 {
			where = fmt.Sprintf("%s:%d", f.Path, f.Line)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", code(f.Rule), code(where), code(f.Fingerprint), cell(f.SuppressedBy))
	}
	return b.String()
}

func skippedSection(sk []secrets.Skipped) string {
	if len(sk) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n### Not scanned\n\n%s not content-scanned:\n\n", plural(len(sk), "file was", "files were"))
	for i, s := range sk {
		if i == skippedShown {
			fmt.Fprintf(&b, "- … and %d more\n", len(sk)-skippedShown)
			break
		}
		fmt.Fprintf(&b, "- %s: %s\n", code(s.Path), s.Reason)
	}
	return b.String()
}

// skippedShown is how many files not scanned the summary lists.
const skippedShown = 50

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}

func clipText(s string, n int) string {
	const note = "\n\n… (cut at GitHub's size limit)\n"
	if len(s) <= n {
		return s
	}
	cut := n - len(note)
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + note
}

// NewScanner compiles the engine with a repository config's secrets
// settings; the CLI and the App both call it.
func NewScanner(cfg *config.Config) (*secrets.Scanner, error) {
	ignore := map[string]string{}
	for _, ig := range cfg.Secrets.Ignore {
		ignore[ig.Fingerprint] = cfg.Source + ": " + ig.Reason // the engine says "secrets.ignore: "; data, escaped where shown
	}
	return secrets.New(secrets.Options{
		Disable:      cfg.Secrets.Rules.Disable,
		Add:          cfg.Secrets.Rules.Add,
		ExcludePaths: cfg.Secrets.ExcludePaths,
		MaxFileSize:  int64(cfg.Secrets.MaxFileSize),
		Ignore:       ignore,
	})
}

// RuleMetas describes a scanner's rules for SARIF.
func RuleMetas(s *secrets.Scanner) []RuleMeta {
	var out []RuleMeta
	for _, r := range s.Rules().Rules() {
		out = append(out, RuleMeta{ID: r.ID, Description: r.Description, Tier: string(r.Tier), Help: secrets.Remediation(r.Tier)})
	}
	return out
}

// Skipped lists the files whose content was not scanned, and why.
func (s *SecretsScan) Skipped() []secrets.Skipped {
	return append([]secrets.Skipped(nil), s.skipped...)
}
