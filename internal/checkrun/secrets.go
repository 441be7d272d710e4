package checkrun

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
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
	capped   []secrets.Finding
	stopped  error // the deadline ended the scan (a *secrets.StopError, or why)
	commits  int   // commits scanned one by one
	patches  int   // diffs without a commit: the net diff, or the staged change
	files    int   // file diffs scanned
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
	if f.Kind == secrets.KindCapped {
		s.addCapped(f)
		return
	}
	// One finding per secret and place: a value the head holds on two
	// lines is reported on both; one found in an earlier commit (not yet
	// located) is one finding until Locate places it.
	key := f.Fingerprint
	switch {
	case f.Deleted:
		key += "\x00deleted"
	case located:
		key += "\x00" + strconv.Itoa(f.Line)
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
// net diff, or the staged change). Files not (fully) scanned are recorded
// with their reason. When ctx ends it records where the scan stopped and
// returns the *secrets.StopError: the caller stops scanning and renders
// what was found, which fails.
func (s *SecretsScan) AddCommit(ctx context.Context, sha string, diffs []secrets.FileDiff, content func(path string) []byte, head bool) error {
	if sha == "" {
		s.patches++
	} else {
		s.commits++
	}
	for _, d := range diffs {
		var c []byte
		if content != nil && d.NewPath != "" && !d.Binary && d.Open == nil {
			c = content(d.NewPath)
		}
		if err := s.AddDiff(ctx, sha, d, c, head); err != nil {
			return err
		}
	}
	return nil
}

// AddDiff scans one file's diff of a commit counted by AddCommit (content
// as for AddCommit, or nil), for callers that produce diffs one at a time
// (a tarball). It returns only a *secrets.StopError, as AddCommit.
func (s *SecretsScan) AddDiff(ctx context.Context, sha string, d secrets.FileDiff, content []byte, head bool) error {
	s.files++
	fs, skip, err := s.Scanner.ScanChange(ctx, d, content)
	for _, f := range fs {
		text := addedText(d, f.Line)
		if f.Allowed && f.AllowedLine != f.Line {
			text = addedText(d, f.AllowedLine)
		}
		s.add(f, sha, text, head && !f.Deleted)
	}
	var stop *secrets.StopError
	if errors.As(err, &stop) {
		s.Stop(err)
		return err
	}
	if skip != "" {
		s.AddSkipped(secrets.Skipped{Path: d.Path(), Reason: skip, Err: err})
	}
	return nil
}

// AddTree adds a whole-tree scan (audit).
func (s *SecretsScan) AddTree(r secrets.TreeResult) {
	for _, f := range r.Findings {
		s.add(f, "", "", true)
	}
	s.AddSkipped(r.Skipped...)
}

// AddSkipped records files that were not content-scanned.
func (s *SecretsScan) AddSkipped(sk ...secrets.Skipped) {
	for _, k := range sk {
		if k.Reason == secrets.SkipStopped {
			continue // said once, by Stop
		}
		if s.Scanner.Excluded(k.Path) {
			continue // secrets.exclude_paths waives it
		}
		s.skipped = append(s.skipped, k)
	}
}

// Stop records that the scan ended at its deadline (err says where): the
// run fails, listing what was found until then.
func (s *SecretsScan) Stop(err error) {
	if s.stopped == nil {
		s.stopped = err
	}
}

func addedText(d secrets.FileDiff, line int) string {
	i := sort.Search(len(d.Added), func(i int) bool { return d.Added[i].Line >= line })
	if i < len(d.Added) && d.Added[i].Line == line {
		return d.Added[i].Text
	}
	return ""
}

// Locate moves findings from earlier commits to the head file and line
// where the value still is; head opens a file at the head (ok false when
// it is gone), which is streamed. Findings no longer at the head keep
// their commit and are listed in the summary only.
func (s *SecretsScan) Locate(ctx context.Context, head func(path string) (io.ReadCloser, bool)) {
	byPath := map[string][]int{}
	for i, f := range s.findings {
		if !f.located && !f.Deleted {
			byPath[f.Path] = append(byPath[f.Path], i)
		}
	}
	for _, p := range sortedPaths(byPath) {
		idx := byPath[p]
		rc, ok := head(p)
		if !ok {
			continue
		}
		at := map[string][]secrets.Finding{}
		found, _, _ := s.Scanner.ScanReader(ctx, p, rc) // cut short: fewer located, none lost
		rc.Close()
		for _, hf := range found {
			at[hf.Fingerprint] = append(at[hf.Fingerprint], hf)
		}
		for _, i := range idx {
			if hfs := at[s.findings[i].Fingerprint]; len(hfs) > 0 {
				s.findings[i].Line, s.findings[i].Column = hfs[0].Line, hfs[0].Column
				s.findings[i].located = true
			}
		}
	}
	s.dropRepeats()
}

// dropRepeats removes a finding Locate placed where another finding of
// the same secret already is (the value was added by an earlier commit
// and again by the head's).
func (s *SecretsScan) dropRepeats() {
	// Only located findings can meet: add keeps one unlocated finding and
	// one deletion notice per fingerprint.
	type place struct {
		fp   string
		line int
	}
	seen := map[place]bool{}
	out := s.findings[:0]
	for _, f := range s.findings {
		if f.located && !f.Deleted {
			k := place{f.Fingerprint, f.Line}
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, f)
	}
	s.findings = out
}

func sortedPaths(m map[string][]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Allow honours inline allow comments (housekeeper:allow and the markers
// the engine accepts alongside it): always in an audit, else only where
// the line that carries it is already on the base (base opens the file's
// base content, which is streamed), so an author cannot waive their own
// finding. SuppressedBy names the marker the line carries.
func (s *SecretsScan) Allow(base func(path string) (io.ReadCloser, bool)) {
	want := map[string]map[string]bool{} // path → base lines to look for
	for i := range s.findings {
		f := &s.findings[i]
		if !f.Allowed || f.Suppressed {
			continue
		}
		if s.Audit {
			f.Suppressed, f.SuppressedBy = true, inlineAllow(f.Finding)
			continue
		}
		if base == nil || f.lineText == "" {
			continue
		}
		if want[f.Path] == nil {
			want[f.Path] = map[string]bool{}
		}
		want[f.Path][f.lineText] = false
	}
	for p, lines := range want {
		rc, ok := base(p)
		if !ok {
			continue
		}
		markLines(rc, lines)
		rc.Close()
	}
	for i := range s.findings {
		f := &s.findings[i]
		if f.Allowed && !f.Suppressed && !s.Audit && want[f.Path][f.lineText] {
			f.Suppressed, f.SuppressedBy = true, inlineAllow(f.Finding)+" (line already on the base branch)"
		}
	}
}

// inlineAllow is the SuppressedBy text for an honoured inline allow:
// "inline " and the marker written on the line.
func inlineAllow(f secrets.Finding) string {
	m := f.AllowedBy
	if m == "" {
		m = "housekeeper:allow" // a Finding built without the engine
	}
	return "inline " + m
}

// markLines sets lines[l] for each line l of r found in it, reading r as a
// stream; a line longer than 64 KiB is never matched (fail closed).
func markLines(r io.Reader, lines map[string]bool) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		l, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil {
				return
			}
			continue
		}
		t := string(bytes.TrimSuffix(bytes.TrimSuffix(l, []byte("\n")), []byte("\r")))
		if _, ok := lines[t]; ok {
			lines[t] = true
		}
		if err != nil {
			return
		}
	}
}

// Suppress marks findings accepted elsewhere (e.g. a /housekeeper ignore
// on the pull request), saying by whom.
func (s *SecretsScan) Suppress(by map[string]string) {
	for i := range s.findings {
		if s.findings[i].Suppressed {
			continue
		}
		// Former fingerprints: an ignore accepted before a rule id changed.
		for _, fp := range s.findings[i].Fingerprints() {
			if why, ok := by[fp]; ok {
				s.findings[i].Suppressed, s.findings[i].SuppressedBy = true, why
				break
			}
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
	c.Findings = append(c.Findings, s.unscannedFindings(cfg)...)
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
	// A secret on several lines is one secret (each line is annotated).
	type kind struct {
		fp         string
		suppressed bool
		level      string
	}
	once := map[kind]bool{}
	// A secret added and deleted again within the change is one secret:
	// its deletion notice is not counted a second time.
	counted := map[string]bool{}
	for _, f := range fs {
		if f.Secret != nil && f.Level != LevelNotice {
			counted[f.Fingerprint] = true
		}
	}
	for _, f := range fs {
		switch {
		case f.Secret == nil:
			continue // not scanned, or not listed: titled by unscannedTitle
		case once[kind{f.Fingerprint, f.Suppressed, f.Level}]:
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
		if f.Secret != nil {
			once[kind{f.Fingerprint, f.Suppressed, f.Level}] = true
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
	parts = append(parts, unscannedTitle(fs)...)
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
		line := fmt.Sprintf("%s: %s", sk.Path, sk.Reason)
		if n := len(c.Details.NotScanned); n > 0 && c.Details.NotScanned[n-1] == line {
			continue // the same file met twice (in a commit and at the head)
		}
		c.Details.NotScanned = append(c.Details.NotScanned, line)
	}
	for _, n := range s.Scanner.Notices() {
		// Imported rule files name paths and rule ids from the repository.
		b.WriteString("\n> " + noticeText(n) + "\n")
	}
	var open, suppressed, unscanned []Finding
	for _, f := range c.Findings {
		switch {
		case f.Secret == nil:
			unscanned = append(unscanned, f)
		case f.Suppressed:
			suppressed = append(suppressed, f)
		default:
			open = append(open, f)
		}
	}
	c.Details.Advice = remediationAdvice(open)
	tail := remediationSection(open) + suppressedSection(suppressed) + unscannedSection(unscanned)
	if len(open) > 0 {
		b.WriteString("\n" + levelCounts(open) + "\n\n")
		table, cut := secretsTable(open, MaxText-b.Len()-len(tail)-200)
		b.WriteString(table)
		if cut != "" {
			c.Details.Cut = append(c.Details.Cut, cut)
		}
	} else if len(suppressed) == 0 {
		b.WriteString("\nNo bootstrap or runtime secret found.\n")
	}
	if n := countFailingUnscanned(unscanned); n > skippedShown {
		c.Details.Cut = append(c.Details.Cut, fmt.Sprintf("the summary lists the first %d of the %d files not scanned", skippedShown, n))
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

// skippedShown is how many failing files not scanned the summary lists
// (unscannedSection).
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
	if len(cfg.Secrets.Rules.Imported) != len(cfg.Secrets.Rules.Import) {
		// A loader that did not read the imports must not scan without
		// the team's rules and allowlists.
		return nil, fmt.Errorf("secrets.rules.import: %d file(s) listed, %d read", len(cfg.Secrets.Rules.Import), len(cfg.Secrets.Rules.Imported))
	}
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
		Gitleaks:     cfg.Secrets.Rules.Imported,
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

// Skipped lists the files whose content was not scanned and fail a run
// (too large, unreadable), and why; binary files are left out.
func (s *SecretsScan) Skipped() []secrets.Skipped {
	var out []secrets.Skipped
	for _, k := range s.skipped {
		if k.Reason.Failing() { // binary files are counted, not listed as problems
			out = append(out, k)
		}
	}
	return out
}

// noticeText makes an imported rule file's notice (it names paths and rule
// ids from the repository) safe in a quoted Markdown line: no HTML, no
// code span to break out of, no mention, one line.
func noticeText(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "`", "'", "@", "@\u200b", "\r", " ", "\n", " ").Replace(s)
}

func countFailingUnscanned(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Kind == KindNotScanned && f.Level == LevelFailure {
			n++
		}
	}
	return n
}
