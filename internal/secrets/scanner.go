package secrets

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// DefaultMaxFileSize is the size above which a text file is not scanned
// (and reported as not scanned) unless Options.MaxFileSize says
// otherwise: GitHub's own limit on a file, so every file GitHub holds is
// scanned by default.
const DefaultMaxFileSize = 100 << 20

// Options configure a Scanner; they mirror the repository config's secrets
// section.
type Options struct {
	// Disable lists rule ids of the embedded rule file to turn off.
	Disable []string
	// Add are extra rules, in the rule file's format. An added rule may
	// reuse the id of a disabled embedded rule to replace it.
	Add []RuleSpec
	// ExcludePaths are doublestar globs of files never scanned.
	ExcludePaths []string
	// MaxFileSize: larger files are not content-scanned, and say so
	// (0: DefaultMaxFileSize).
	MaxFileSize int64
	// Ignore maps fingerprints to the reason they are accepted; matching
	// findings are marked Suppressed (not dropped).
	Ignore map[string]string
	// Workers bounds ScanTree's parallelism (0: GOMAXPROCS).
	Workers int
	// Gitleaks are imported gitleaks-format rule files
	// (secrets.rules.import), read from the same ref as the config.
	Gitleaks []GitleaksFile
}

// Scanner holds compiled rules. It is safe for concurrent use.
type Scanner struct {
	rules       *RuleSet
	exclude     []glob
	maxFileSize int64
	ignore      map[string]string
	workers     int
	global      *GlobalAllow // imported global allowlists, nil without imports
	notices     []string
}

// New compiles the embedded rules, minus Disable, plus Add.
func New(opts Options) (*Scanner, error) {
	specs, err := DefaultRuleSpecs()
	if err != nil {
		return nil, err
	}
	disabled := map[string]bool{}
	for _, id := range opts.Disable {
		disabled[id] = true
	}
	known := map[string]bool{}
	var all []RuleSpec
	for _, s := range specs {
		known[s.ID] = true
		off := disabled[s.ID]
		for _, a := range s.Aliases {
			// Disabling a former id disables every rule it became.
			known[a] = true
			off = off || disabled[a]
		}
		if !off {
			all = append(all, s)
		}
	}
	for _, id := range opts.Disable {
		if !known[id] {
			return nil, fmt.Errorf("disable rule %q: no such rule", id)
		}
	}
	embedded := len(all) // compiled on first use; the tests compile them all
	all = append(all, opts.Add...)
	var global *GlobalAllow
	var notices []string
	for _, f := range opts.Gitleaks {
		specs, g, ns, err := ImportGitleaks(f)
		notices = append(notices, ns...)
		if err != nil {
			return nil, fmt.Errorf("secrets.rules.import: %w", err)
		}
		all = append(all, specs...)
		if global == nil {
			global = &GlobalAllow{}
		}
		global.Regexes = append(global.Regexes, g.Regexes...)
		global.Lines = append(global.Lines, g.Lines...)
		global.Paths = append(global.Paths, g.Paths...)
		global.StopWords = append(global.StopWords, g.StopWords...)
	}
	rs, err := compileRules(all, embedded)
	if err != nil {
		return nil, fmt.Errorf("compile rules: %w", err)
	}
	for i, g := range opts.ExcludePaths {
		if !doublestar.ValidatePattern(g) {
			return nil, fmt.Errorf("exclude_paths[%d]: invalid glob %q", i, g)
		}
	}
	s := &Scanner{
		rules:       rs,
		exclude:     newGlobs(opts.ExcludePaths),
		maxFileSize: opts.MaxFileSize,
		ignore:      opts.Ignore,
		workers:     opts.Workers,
		global:      global,
		notices:     notices,
	}
	if s.maxFileSize <= 0 {
		s.maxFileSize = DefaultMaxFileSize
	}
	if s.workers <= 0 {
		s.workers = runtime.GOMAXPROCS(0)
	}
	return s, nil
}

// Notices say how imported rule files were read (parts not followed or
// read differently); the check run shows them.
func (s *Scanner) Notices() []string { return s.notices }

// Rules returns the compiled rule set.
func (s *Scanner) Rules() *RuleSet { return s.rules }

// Excluded reports whether path matches Options.ExcludePaths.
func (s *Scanner) Excluded(path string) bool {
	for _, g := range s.exclude {
		if matchGlob(g, path) {
			return true
		}
	}
	return s.global != nil && s.global.excludedGlobally(path)
}

// Scan scans a whole file held in memory: file rules by name, and, unless
// the file is binary or larger than MaxFileSize, its content. Findings are
// sorted by line and column and deduplicated (one per value and line, the
// most specific rule winning; at most MaxFindingsPerRule per rule, then one
// KindCapped finding). When ctx ends it returns what it found so far and a
// *StopError saying where it stopped.
func (s *Scanner) Scan(ctx context.Context, path string, content []byte) ([]Finding, error) {
	path = cleanPath(path)
	if s.Excluded(path) {
		return nil, nil
	}
	fs := getFileScan(s)
	defer putFileScan(fs)
	err := fs.run(ctx, path, content, contentScan(content, int64(len(content)), s.maxFileSize) == "")
	return s.findings(fs, path), err
}

// ScanContent is Scan without a deadline, for small inputs (rule samples,
// tests).
func (s *Scanner) ScanContent(path string, content []byte) []Finding {
	f, _ := s.Scan(context.Background(), path, content)
	return f
}

// findings turns a file's resolved candidates into findings, adds one
// KindCapped finding per rule that had more than MaxFindingsPerRule, and
// applies Ignore.
func (s *Scanner) findings(fs *fileScan, path string) []Finding {
	cands := fs.resolve()
	out := make([]Finding, 0, len(cands))
	type at struct {
		fp   string
		line int
	}
	seen := map[at]bool{}
	for _, c := range cands {
		f := c.finding(path)
		if seen[at{f.Fingerprint, f.Line}] {
			continue
		}
		seen[at{f.Fingerprint, f.Line}] = true
		for _, a := range c.rule.Aliases {
			f.FormerFingerprints = append(f.FormerFingerprints, Fingerprint(a, path, c.value))
		}
		s.suppress(&f)
		out = append(out, f)
	}
	return append(out, fs.capped(path)...)
}

// capped returns one KindCapped finding per rule whose matches in this
// file went past MaxFindingsPerRule.
func (fs *fileScan) capped(path string) []Finding {
	var out []Finding
	for ri, n := range fs.omitted {
		if n == 0 {
			continue
		}
		r := fs.s.rules.rules[ri]
		out = append(out, Finding{
			RuleID: r.ID, Kind: KindCapped, Tier: r.Tier, Description: r.Description,
			Path: path, Remediation: Remediation(r.Tier), Omitted: n,
			// One per rule and file, so that Dedupe keeps one per scan.
			Fingerprint: Fingerprint(r.ID+"+capped", path, ""),
		})
	}
	return out
}

func (s *Scanner) suppress(f *Finding) {
	for _, fp := range f.Fingerprints() {
		if reason, ok := s.ignore[fp]; ok {
			f.Suppressed = true
			f.SuppressedBy = "secrets.ignore: " + reason
			return
		}
	}
}

// cleanPath makes a path repository-relative with forward slashes.
func cleanPath(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	return strings.TrimPrefix(p, "/")
}

// Dedupe keeps the first finding of each fingerprint and line (and, for
// deleted-line notices, of each fingerprint: one notice says to rotate),
// preserving order.
func Dedupe(fs []Finding) []Finding {
	type key struct {
		fp      string
		deleted bool
		line    int
	}
	seen := map[key]bool{}
	out := fs[:0:0]
	for _, f := range fs {
		k := key{f.Fingerprint, f.Deleted, f.Line}
		if f.Deleted {
			k.line = 0
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}
