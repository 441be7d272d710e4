package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"
	"gopkg.in/yaml.v3"
)

// Tier says where a secret belongs (docs/secrets.md).
type Tier string

// Kind says how a rule finds things.
type Kind string

const (
	// Bootstrap secrets are needed before the cluster exists: cloud, VPS,
	// DNS, VCS and infrastructure-control credentials.
	Bootstrap Tier = "bootstrap"
	// Runtime secrets are used by running applications.
	Runtime Tier = "runtime"

	// KindSecret rules match a value in a file's content.
	KindSecret Kind = "secret"
	// KindFile rules match a file by its name (and optionally a content
	// condition); the file itself should not be committed.
	KindFile Kind = "file"
	// KindStructural rules parse the file (YAML) and judge literal values by
	// where they sit, e.g. data of a raw Kubernetes Secret.
	KindStructural Kind = "structural"
	// KindCapped is not a rule kind: it marks the one finding that says
	// how many more matches of a rule a file held past
	// MaxFindingsPerRule.
	KindCapped Kind = "capped"
)

// rules.yaml is the rule file people edit; rules_gen.go holds its rules
// as a Go literal, so that a process starts without parsing YAML (about
// 20 ms). TestGeneratedRulesMatchRuleFile fails while it is stale.
//go:generate go run ./internal/genrules rules.yaml rules_gen.go

// RuleSpec is one rule as written in rules.yaml and in the repository
// config's secrets.rules.add. Decoders should be strict (unknown keys are
// errors); CompileRules validates the values.
type RuleSpec struct {
	ID          string `yaml:"id"`
	Description string `yaml:"description"`
	// Aliases are former ids of the rule: fingerprints computed with them
	// still match secrets.ignore entries and accepted ignores, and
	// secrets.rules.disable may name them.
	Aliases []string `yaml:"aliases"`
	// Source names the vendor documentation (or SDK source) the rule's
	// format was written from; docs/secrets.md cites it.
	Source string `yaml:"source"`
	Tier   Tier   `yaml:"tier"`
	Kind   Kind   `yaml:"kind"`
	// Keywords are lower-case literals; a rule's regex only runs on lines
	// where one of them occurs (case-insensitively). Required for secret
	// rules.
	Keywords []string `yaml:"keywords"`
	// Regex finds the value. For file rules it is an optional content
	// condition.
	Regex string `yaml:"regex"`
	// SecretGroup is the capture group holding the value; 0 means the
	// first participating group named "secret", else group 1 if any, else
	// the whole match.
	SecretGroup int `yaml:"secret_group"`
	// Entropy is a floor on the value's Shannon entropy (bits per byte).
	Entropy float64 `yaml:"entropy"`
	// MinLength is a floor on the value's length in bytes.
	MinLength int `yaml:"min_length"`
	// Allow are regexes; a value matching any of them is not a finding.
	Allow []string `yaml:"allow"`
	// AllowLine are regexes; a match on a line matching any of them is not
	// a finding.
	AllowLine []string `yaml:"allow_line"`
	// AllowKey are regexes matched against the assignment's key (the
	// regex group named "key"): keys like password_file name a reference,
	// not a secret.
	AllowKey []string `yaml:"allow_key"`
	// Paths restrict the rule to files matching one of these doublestar
	// globs (matched against the repository-relative path, and against
	// the base name for globs without a slash). For file rules they are
	// the names the rule is about.
	Paths []string `yaml:"paths"`
	// ExcludePaths exempt matching files from the rule.
	ExcludePaths []string `yaml:"exclude_paths"`
	// PathRegex and ExcludePathRegex are regexes on the repository-relative
	// path (gitleaks' path and allowlist paths, from secrets.rules.import).
	PathRegex        string   `yaml:"path_regex"`
	ExcludePathRegex []string `yaml:"exclude_path_regex"`
	// Context, when set, is a regex that must match within ContextLines
	// lines around the value, or the path, for the rule to fire.
	Context      string `yaml:"context"`
	ContextLines int    `yaml:"context_lines"`
	// QuotedInCode: in source-code files (Go, Python, JS…) only quoted
	// values count, since there an unquoted value is an expression.
	QuotedInCode bool `yaml:"quoted_in_code"`
	// Multiline lets the regex see a private-key block from its BEGIN line
	// to its END line instead of one line.
	Multiline bool `yaml:"multiline"`
	// Generated: the format is a generator's output over printable ASCII
	// (WordPress salts, Django secret keys), so punctuation such as <, {{,
	// ${ or "..." is part of the value rather than a template or a stand-in.
	// Only the value's own shape marks a stand-in (one character repeated,
	// a run like abcdef) besides the rule's allow list; the regex must pin
	// the format (length, alphabet, key) tightly enough for that.
	Generated bool `yaml:"generated"`
	// BracedReferences: the file format expands only ${NAME} (npm's
	// .npmrc), so a value starting with a bare $ is literal text unless the
	// rest is a variable's name ($NPM_TOKEN, a mistake but no credential).
	BracedReferences bool `yaml:"braced_references"`
	// CredentialPosition: the value stands where only a credential goes (a
	// credential file's token field, a vendor's secret under its own name
	// with the format pinned), which says more than a word in the value:
	// words that name a test credential (test, fake, dummy, sample) do not
	// mark a stand-in there; references, templates, masking and the other
	// placeholder words still do.
	CredentialPosition bool `yaml:"credential_position"`
	// Specificity decides which rule wins when several match one value:
	// known token formats > structural rules > generic assignments.
	Specificity int `yaml:"specificity"`
	// BootstrapIf raises a runtime rule's finding to bootstrap when the
	// file or the key names infrastructure (docs/secrets.md).
	BootstrapIf *TierEscalation `yaml:"bootstrap_if"`
	// Structural names the built-in analyser of a structural rule.
	Structural string `yaml:"structural"`
	// Tests are the rule's own true- and false-positive samples. Samples
	// may use {{alnum N}}, {{hex N}}, {{upper N}}, {{lower N}},
	// {{digits N}}, {{b64 N}}, {{b64url N}} to stand for random text, so
	// that the rule file itself holds nothing that looks like a secret.
	Tests *RuleTests `yaml:"tests"`
}

// TierEscalation lists when a runtime finding is bootstrap instead.
type TierEscalation struct {
	Paths []string `yaml:"paths"`
	// Key is a regex matched against the assignment's key (the regex
	// group named "key"), or the line when there is none.
	Key string `yaml:"key"`
	// UnlessKey is a regex on the same text that keeps the rule's tier
	// although Key matches: an OAuth login's client secret under a key
	// naming GitHub is the application's, not GitHub access.
	UnlessKey string `yaml:"unless_key"`
}

// RuleTests are samples checked by the rule tests.
type RuleTests struct {
	Path    string   `yaml:"path"`
	Match   []string `yaml:"match"`
	NoMatch []string `yaml:"nomatch"`
}

// Rule is a compiled rule.
type Rule struct {
	RuleSpec
	// re is the regex as written, for a line-wide search; nil for a
	// secret rule evaluated anchored (see compileRegexes).
	re, context    *regexp.Regexp
	allow, allowLn []*regexp.Regexp
	allowKey       []*regexp.Regexp
	// allowAny, allowLnAny, allowKeyAny: each list as one alternation, so
	// that a candidate costs one match per list (nil when empty).
	allowAny, allowLnAny, allowKeyAny *regexp.Regexp
	// allowStart and allowElse split allowAny into its patterns anchored
	// at the value's start (one attempt) and the others.
	allowStart, allowElse *regexp.Regexp
	escKey, escUnless     *regexp.Regexp
	secretIdx             []int // candidate groups, first participating wins
	keyIdx                int
	analyser              structuralAnalyser
	index                 int
	pathRe                *regexp.Regexp
	paths, excludePaths   []glob // Paths and ExcludePaths
	exclPathRe            []*regexp.Regexp
	// assigns: the regex needs an assignment operator after its key, so
	// a line without ':', '=' or ',' after the keyword cannot match.
	assigns bool
	// anchored, for assignment rules whose key group holds the keyword,
	// is the regex anchored at the key's start (boundary: at the byte
	// before it), run once per keyword hit instead of over the line.
	anchored *regexp.Regexp
	boundary bool
	// opAfterKey: the operator follows the key after at most a quote and
	// blanks, so a hit whose identifier is followed by anything else is
	// no match (checked without the regex).
	opAfterKey bool
	// lineStart, for a regex that starts with (?m)^, is the regex
	// anchored at the start of its (one-line) window.
	lineStart *regexp.Regexp
	// afterKey, for an anchored rule, is what its regex demands after the
	// key (operator and value), anchored: checked from the identifier's
	// end before the whole regex, it rejects most hits without the cost of
	// matching the key's alternation.
	afterKey *regexp.Regexp
	// lazy: the regexes are compiled on first use (once), broken says
	// why they did not compile.
	lazy   bool
	once   sync.Once
	broken error
	// afterDFA and lineDFA filter afterKey's and lineStart's matches
	// (nil: no DFA for that regex).
	afterDFA, lineDFA *prefixDFA
	// tailStarts: the identifier bytes afterKey can start with (the '.'
	// of PHP's ".="), where the key may end inside an identifier.
	tailStarts [256]bool
}

// RuleSet is a compiled, ordered set of rules.
type RuleSet struct {
	rules   []*Rule
	byID    map[string]*Rule
	pf      *prefilter
	kwRules [][]int32 // keyword id → rule indexes
	// prefixes returns the token-format rules' literal value prefixes, by
	// first byte (vendorprefix.go), read from the regexes on first use:
	// most runs never ask.
	prefixes func() map[byte][]vendorPrefix
}

// Rules returns the rules in order.
func (rs *RuleSet) Rules() []*Rule { return rs.rules }

// Rule returns the rule with that id, or nil.
func (rs *RuleSet) Rule(id string) *Rule { return rs.byID[id] }

// DefaultRuleSpecs returns the embedded rule file's rules, decoded at
// build time (rules_gen.go). Each call gets its own slice, sharing the
// specs' inner slices, which callers must not modify. The error is always
// nil; it stays for callers written when the file was parsed at run time.
func DefaultRuleSpecs() ([]RuleSpec, error) {
	return slices.Clone(generatedRuleSpecs), nil
}

// ParseRuleSpecs strictly decodes a rule file: a YAML document with a
// top-level "rules" list.
func ParseRuleSpecs(data []byte) ([]RuleSpec, error) {
	var doc struct {
		// Definitions holds YAML anchors shared by rules.
		Definitions yaml.Node  `yaml:"definitions"`
		Rules       []RuleSpec `yaml:"rules"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse rule file: %w", err)
	}
	return doc.Rules, nil
}

// validRuleID reports whether id matches ^[a-z0-9][a-z0-9-]{0,63}$,
// checked by hand: the regex's bounded repetition compiles to a large
// program, and every process paid for it at start.
func validRuleID(id string) bool {
	if len(id) == 0 || len(id) > 64 || id[0] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// CompileRules validates and compiles rule specs. Errors name the rule's
// index and id and the offending field; every problem is reported.
func CompileRules(specs []RuleSpec) (*RuleSet, error) {
	return compileRules(specs, 0)
}

// compileRules is CompileRules with the first lazy specs' regexes
// compiled on first use: the embedded rules, already checked by the tests,
// so that a run pays only for the rules its files' keywords reach.
func compileRules(specs []RuleSpec, lazy int) (*RuleSet, error) {
	rs := &RuleSet{byID: map[string]*Rule{}}
	var errs []error
	var keywords []string
	kwIndex := map[string]int{}
	for i, spec := range specs {
		r, err := compileRule(spec, i < lazy)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %d (%q): %w", i, spec.ID, err))
			continue
		}
		if _, dup := rs.byID[r.ID]; dup {
			errs = append(errs, fmt.Errorf("rule %d (%q): id: duplicate rule id", i, spec.ID))
			continue
		}
		r.index = len(rs.rules)
		rs.rules = append(rs.rules, r)
		rs.byID[r.ID] = r
		for _, k := range r.Keywords {
			id, ok := kwIndex[k]
			if !ok {
				id = len(keywords)
				kwIndex[k] = id
				keywords = append(keywords, k)
				rs.kwRules = append(rs.kwRules, nil)
			}
			rs.kwRules[id] = append(rs.kwRules[id], int32(r.index))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	rs.pf = newPrefilter(keywords)
	rs.prefixes = sync.OnceValue(func() map[byte][]vendorPrefix { return vendorPrefixes(rs.rules) })
	return rs, nil
}

// compileRule validates a rule spec; its regexes are compiled now, or,
// when lazy, on the rule's first use (see ready).
func compileRule(spec RuleSpec, lazy bool) (*Rule, error) {
	r := &Rule{RuleSpec: spec, keyIdx: -1, assigns: assignmentRegex(spec.Regex), lazy: lazy}
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if !validRuleID(spec.ID) {
		fail("id", "must be 1-64 lower-case letters, digits or '-', starting with a letter or digit")
	}
	if spec.Tier != Bootstrap && spec.Tier != Runtime {
		fail("tier", "must be %q or %q, not %q", Bootstrap, Runtime, spec.Tier)
	}
	switch spec.Kind {
	case KindSecret:
		if len(spec.Keywords) == 0 {
			fail("keywords", "a secret rule needs at least one keyword")
		}
		if spec.Regex == "" {
			fail("regex", "a secret rule needs a regex")
		}
	case KindFile:
		if len(spec.Paths) == 0 && spec.PathRegex == "" {
			fail("paths", "a file rule needs at least one path glob (or a path_regex)")
		}
	case KindStructural:
		a, ok := structuralAnalysers[spec.Structural]
		if !ok {
			fail("structural", "unknown analyser %q (known: %s)", spec.Structural, strings.Join(structuralNames(), ", "))
		}
		r.analyser = a
	default:
		fail("kind", "must be %q, %q or %q, not %q", KindSecret, KindFile, KindStructural, spec.Kind)
	}
	if spec.Kind != KindStructural && spec.Structural != "" {
		fail("structural", "only structural rules name an analyser")
	}
	for i, k := range spec.Keywords {
		switch {
		case k == "":
			fail(fmt.Sprintf("keywords[%d]", i), "empty keyword")
		case k != strings.ToLower(k):
			fail(fmt.Sprintf("keywords[%d]", i), "%q must be lower-case", k)
		case len(k) > maxKeyword:
			fail(fmt.Sprintf("keywords[%d]", i), "longer than 64 bytes")
		}
	}
	checkGlobs := func(field string, globs []string) {
		for i, g := range globs {
			if !doublestar.ValidatePattern(g) {
				fail(fmt.Sprintf("%s[%d]", field, i), "invalid glob %q", g)
			}
		}
	}
	if len(spec.Regex) > 4096 {
		fail("regex", "longer than 4096 bytes")
	}
	if e := spec.BootstrapIf; e != nil {
		checkGlobs("bootstrap_if.paths", e.Paths)
	}
	if spec.Entropy < 0 || spec.Entropy > 8 {
		fail("entropy", "must be between 0 and 8 bits per byte")
	}
	if spec.MinLength < 0 {
		fail("min_length", "must not be negative")
	}
	if spec.ContextLines < 0 || spec.ContextLines > 200 {
		fail("context_lines", "must be between 0 and 200")
	}
	checkGlobs("paths", spec.Paths)
	checkGlobs("exclude_paths", spec.ExcludePaths)
	r.paths, r.excludePaths = newGlobs(spec.Paths), newGlobs(spec.ExcludePaths)
	if !lazy {
		errs = append(errs, r.compileRegexes()...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// ready compiles a lazy rule's regexes, once; a rule whose regexes do not
// compile is broken and applies to nothing (the embedded rules are
// compiled eagerly by the tests, so that cannot happen to them unseen).
func (r *Rule) ready() {
	if !r.lazy {
		return
	}
	r.once.Do(func() {
		if errs := r.compileRegexes(); len(errs) > 0 {
			r.broken = errors.Join(errs...)
		}
	})
}

// compileRegexes compiles the rule's regexes and derives what the engine
// needs from them; it returns every error, each naming its field.
func (r *Rule) compileRegexes() []error {
	spec := r.RuleSpec
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if r.assigns && spec.Kind == KindSecret && keyHoldsKeywords(spec) {
		// The key starts where its identifier starts: after a boundary the
		// regex demands, or because it absorbs any identifier prefix.
		boundary := strings.HasPrefix(strings.TrimPrefix(spec.Regex, "(?i)"), "(?:^|[^a-z0-9_.-])")
		if re, err := regexp.Compile(`^(?:` + spec.Regex + `)`); err == nil && (boundary || keyAbsorbsPrefix(spec.Regex)) {
			r.anchored, r.boundary = re, boundary
			r.opAfterKey = strings.Contains(spec.Regex, `)["']?[ \t]*(?:`)
			if keyIdentOnly(spec.Regex) {
				r.afterKey = afterKeyRegex(spec.Regex)
			}
			if r.afterKey != nil {
				r.tailStarts = identFirstBytes(r.afterKey.String())
				r.afterDFA = newPrefixDFA(r.afterKey)
			}
		}
	}
	// A multiline rule runs its regex over the whole block window, never
	// anchored at a line's start.
	if strings.HasPrefix(spec.Regex, "(?m)^") && !spec.Multiline {
		if re, err := regexp.Compile(`^(?:` + spec.Regex + `)`); err == nil {
			r.lineStart = re
			r.lineDFA = newPrefixDFA(re)
		}
	}
	if spec.Regex != "" && len(spec.Regex) <= 4096 {
		// A secret rule evaluated anchored (at its key, or at its one-line
		// window's start) never runs the regex line-wide, so that is not
		// compiled: the anchored form, the same regex inside ^(?:…), has
		// the same groups, and compiling a large rule twice was most of
		// its first use.
		re, err := r.anchored, error(nil)
		if re == nil && spec.Kind == KindSecret {
			re = r.lineStart
		}
		if re == nil || spec.Kind != KindSecret {
			if re, err = regexp.Compile(spec.Regex); err == nil {
				r.re = re
			}
		}
		if err != nil {
			fail("regex", "%v", err)
		} else {
			r.keyIdx = re.SubexpIndex("key")
			switch {
			case spec.SecretGroup < 0 || spec.SecretGroup > re.NumSubexp():
				fail("secret_group", "%d out of range: the regex has %d groups", spec.SecretGroup, re.NumSubexp())
			case spec.SecretGroup > 0:
				r.secretIdx = []int{spec.SecretGroup}
			default:
				r.secretIdx = secretGroups(re.SubexpNames(), 0)
			}
		}
	}
	compileList := func(field string, src []string) []*regexp.Regexp {
		var out []*regexp.Regexp
		for i, s := range src {
			re, err := regexp.Compile(s)
			if err != nil {
				fail(fmt.Sprintf("%s[%d]", field, i), "%v", err)
				continue
			}
			out = append(out, re)
		}
		return out
	}
	r.allow = compileList("allow", spec.Allow)
	r.allowLn = compileList("allow_line", spec.AllowLine)
	r.allowKey = compileList("allow_key", spec.AllowKey)
	r.allowAny = anyOf(r.allow)
	r.allowStart = anyOf(r.allow, true)
	r.allowElse = anyOf(r.allow, false)
	r.allowLnAny = anyOf(r.allowLn)
	r.allowKeyAny = anyOf(r.allowKey)
	if spec.Context != "" {
		re, err := regexp.Compile(spec.Context)
		if err != nil {
			fail("context", "%v", err)
		}
		r.context = re
	}
	if spec.PathRegex != "" {
		re, err := regexp.Compile(spec.PathRegex)
		if err != nil {
			fail("path_regex", "%v", err)
		}
		r.pathRe = re
	}
	r.exclPathRe = compileList("exclude_path_regex", spec.ExcludePathRegex)
	if e := spec.BootstrapIf; e != nil {
		if e.Key != "" {
			re, err := regexp.Compile(e.Key)
			if err != nil {
				fail("bootstrap_if.key", "%v", err)
			}
			r.escKey = re
		}
		if e.UnlessKey != "" {
			re, err := regexp.Compile(e.UnlessKey)
			if err != nil {
				fail("bootstrap_if.unless_key", "%v", err)
			}
			r.escUnless = re
		}
	}
	return errs
}

// assignmentRegex recognises the "key, operator, value" rules of the rule
// file: the regex starts with the key group and an operator follows it, so
// no match is possible on a line without ':', '=' or ',' (a quoted key
// passed as an argument, setProperty("K", "v")) after the keyword.
func assignmentRegex(re string) bool {
	re = strings.TrimPrefix(re, "(?i)")
	re = strings.TrimPrefix(re, "(?:^|[^a-z0-9_.-])")
	return strings.HasPrefix(re, "(?P<key>") && (strings.Contains(re, "(?::=|=>|=|:)") || strings.Contains(re, "(?::{0,3}=|"))
}

// afterKeyRegex returns the part of an assignment regex after its key
// group, anchored, or nil when the key group is not part of the regex's
// top-level sequence. The tail is cut from the source text (rebuilding it
// from the parsed tree is slow for case-folded classes); the leading flags
// go with it.
func afterKeyRegex(re string) *regexp.Regexp {
	t, err := syntax.Parse(re, syntax.Perl)
	if err != nil || t.Op != syntax.OpConcat {
		return nil
	}
	top := false
	for i, sub := range t.Sub {
		if sub.Op == syntax.OpCapture && sub.Name == "key" {
			top = i+1 < len(t.Sub)
		}
	}
	i := strings.Index(re, "(?P<key>")
	if !top || i < 0 {
		return nil
	}
	j := closeParen(re, i)
	if j < 0 || j+1 >= len(re) {
		return nil
	}
	flags := ""
	if m := leadingFlags().FindString(re); m != "" {
		flags = m
	}
	tail, err := regexp.Compile(`^(?:` + flags + re[j+1:] + `)`)
	if err != nil {
		return nil
	}
	return tail
}

// identFirstBytes returns the identifier bytes (identByte) a match of re
// can start with; all of them when that cannot be told (re may match the
// empty string, or does not parse).
func identFirstBytes(re string) (first [256]bool) {
	t, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return identByte
	}
	prog, err := syntax.Compile(t.Simplify())
	if err != nil {
		return identByte
	}
	// Follow the instructions that consume nothing from the start; the
	// rune instructions reached say what the first byte can be.
	seen := make([]bool, len(prog.Inst))
	stack := []uint32{uint32(prog.Start)}
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Out, in.Arg)
		case syntax.InstCapture, syntax.InstNop, syntax.InstEmptyWidth:
			stack = append(stack, in.Out)
		case syntax.InstMatch:
			return identByte
		case syntax.InstFail:
		default: // the rune instructions
			for b := range 256 {
				if identByte[b] && in.MatchRune(rune(b)) {
					first[b] = true
				}
			}
		}
	}
	return first
}

// keyIdentOnly: the regex's key group matches no ASCII byte outside
// identByte, so a key ends inside its identifier or at its end (where
// afterKey is tried).
func keyIdentOnly(re string) bool {
	t, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return false
	}
	key := findCapture(t, "key")
	if key == nil {
		return false
	}
	prog, err := syntax.Compile(key.Simplify())
	if err != nil {
		return false
	}
	for _, in := range prog.Inst {
		switch in.Op {
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			for b := range 128 {
				if !identByte[b] && in.MatchRune(rune(b)) {
					return false
				}
			}
		}
	}
	return true
}

// lazyRegexp compiles a package regex on first use: the larger ones
// (bounded repetitions expand) serve analysers most runs never call, and
// every CLI run would pay for them at start.
func lazyRegexp(src string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(src) })
}

var leadingFlags = lazyRegexp(`^\(\?[imsU]+\)`)

// closeParen returns the index of the parenthesis that closes the group
// opening at re[i], skipping escapes and character classes; -1 if none.
func closeParen(re string, i int) int {
	depth := 0
	for k := i; k < len(re); k++ {
		switch re[k] {
		case '\\':
			k++
		case '[':
			k++
			if k < len(re) && re[k] == '^' {
				k++
			}
			if k < len(re) && re[k] == ']' {
				k++
			}
			for k < len(re) && re[k] != ']' {
				if re[k] == '\\' {
					k++
				} else if re[k] == '[' && k+1 < len(re) && re[k+1] == ':' {
					if e := strings.Index(re[k:], ":]"); e > 0 {
						k += e + 1
					}
				}
				k++
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return k
			}
		}
	}
	return -1
}

// anyOf joins regexes into one that matches where any of them does;
// with a bool, only those that are (true) or are not (false) anchored at
// the start with "^".
func anyOf(res []*regexp.Regexp, anchored ...bool) *regexp.Regexp {
	var parts []string
	for _, re := range res {
		if len(anchored) > 0 && strings.HasPrefix(re.String(), "^") != anchored[0] {
			continue
		}
		parts = append(parts, "(?:"+re.String()+")")
	}
	if len(parts) == 0 {
		return nil
	}
	re, err := regexp.Compile(strings.Join(parts, "|"))
	if err != nil {
		return nil // cannot happen: each part compiled
	}
	return re
}

// keyHoldsKeywords: every keyword is made of key bytes, so a hit lies
// inside the key (the identifier the anchored regex starts at). A rule
// whose keywords hold other bytes is evaluated over the line.
func keyHoldsKeywords(spec RuleSpec) bool {
	for _, k := range spec.Keywords {
		for i := 0; i < len(k); i++ {
			if !identByte[k[i]] {
				return false
			}
		}
	}
	return true
}

// keyAbsorbsPrefix: the regex's key group starts, in every alternative,
// with a repetition of a class holding every key byte ([a-z0-9_.-]*), so
// its leftmost match starts at the start of the identifier around the
// keyword.
func keyAbsorbsPrefix(re string) bool {
	t, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return false
	}
	key := findCapture(t, "key")
	return key != nil && startsWithIdentStar(key.Sub[0])
}

func findCapture(t *syntax.Regexp, name string) *syntax.Regexp {
	if t.Op == syntax.OpCapture && t.Name == name {
		return t
	}
	for _, s := range t.Sub {
		if c := findCapture(s, name); c != nil {
			return c
		}
	}
	return nil
}

func startsWithIdentStar(t *syntax.Regexp) bool {
	switch t.Op {
	case syntax.OpConcat, syntax.OpCapture:
		return len(t.Sub) > 0 && startsWithIdentStar(t.Sub[0])
	case syntax.OpAlternate:
		for _, s := range t.Sub {
			if !startsWithIdentStar(s) {
				return false
			}
		}
		return len(t.Sub) > 0
	case syntax.OpStar:
		c := t.Sub[0]
		if c.Op != syntax.OpCharClass {
			return false
		}
		for b := 0; b < 256; b++ {
			if identByte[b] && !inClass(c.Rune, rune(b)) {
				return false
			}
		}
		return true
	}
	return false
}

func inClass(ranges []rune, r rune) bool {
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i] <= r && r <= ranges[i+1] {
			return true
		}
	}
	return false
}

// strongEnough: v reaches the rule's floors, its min_length and its
// entropy (when set).
func (r *Rule) strongEnough(v string) bool {
	return len(v) >= r.MinLength && (r.Entropy == 0 || entropy(v) >= r.Entropy)
}

// appliesTo reports whether the rule's path restrictions admit path.
func (r *Rule) appliesTo(path, base string) bool {
	if len(r.paths) > 0 && !matchGlobs(r.paths, path, base) {
		return false // before compiling: most rules never meet their files
	}
	if r.ready(); r.broken != nil {
		return false
	}
	if r.pathRe != nil && !r.pathRe.MatchString(path) {
		return false
	}
	for _, re := range r.exclPathRe {
		if re.MatchString(path) {
			return false
		}
	}
	return !matchGlobs(r.excludePaths, path, base)
}

// glob is a doublestar glob with its literal tail (see literalTail),
// worked out once: every file meets every path glob of the rules.
type glob struct{ pat, tail string }

func newGlobs(pats []string) []glob {
	out := make([]glob, len(pats))
	for i, g := range pats {
		out[i] = glob{g, literalTail(g)}
	}
	return out
}

// matchGlobs is matchAny over globs with their tails.
func matchGlobs(globs []glob, path, base string) bool {
	for _, g := range globs {
		if strings.HasSuffix(path, g.tail) && matchTailed(g.pat, path, base) {
			return true
		}
	}
	return false
}

// matchAny matches globs against the path; a glob without a slash also
// matches the base name, so "*.pem" means any .pem file at any depth.
func matchAny(globs []string, path, base string) bool {
	for _, g := range globs {
		// base ends path: a tail path lacks, base lacks too.
		if strings.HasSuffix(path, literalTail(g)) && matchTailed(g, path, base) {
			return true
		}
	}
	return false
}

// matchTailed matches g against path, and against base when g has no
// slash; path ends with g's literal tail.
func matchTailed(g, path, base string) bool {
	if ok, _ := doublestar.Match(g, path); ok {
		return true
	}
	if !strings.Contains(g, "/") {
		if ok, _ := doublestar.Match(g, base); ok {
			return true
		}
	}
	return false
}

// matchGlob is doublestar.Match, answering at once for the names that
// lack the glob's literal ending: every file is matched against every
// path glob of the rules, and most end with an extension.
func matchGlob(g glob, name string) bool {
	if !strings.HasSuffix(name, g.tail) {
		return false
	}
	ok, _ := doublestar.Match(g.pat, name)
	return ok
}

// literalTail is the end of glob g after its last special character,
// less a leading slash ("**/" matches no directory too): any name g
// matches ends with it.
func literalTail(g string) string {
	i := len(g)
	for ; i > 0; i-- {
		switch g[i-1] {
		case '*', '?', '[', ']', '{', '}', '\\', ',':
			return strings.TrimPrefix(g[i:], "/")
		}
	}
	return strings.TrimPrefix(g, "/")
}
