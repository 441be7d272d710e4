package secrets

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strings"

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
)

//go:embed rules.yaml
var embeddedRules []byte

// RuleSpec is one rule as written in rules.yaml and in the repository
// config's secrets.rules.add. Decoders should be strict (unknown keys are
// errors); CompileRules validates the values.
type RuleSpec struct {
	ID          string `yaml:"id"`
	Description string `yaml:"description"`
	Tier        Tier   `yaml:"tier"`
	Kind        Kind   `yaml:"kind"`
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
	re, context    *regexp.Regexp
	allow, allowLn []*regexp.Regexp
	allowKey       []*regexp.Regexp
	escKey         *regexp.Regexp
	secretIdx      []int // candidate groups, first participating wins
	keyIdx         int
	analyser       structuralAnalyser
	index          int
	// assigns: the regex needs an assignment operator after its key, so
	// a line without \':\' or \'=\' after the keyword cannot match.
	assigns bool
}

// RuleSet is a compiled, ordered set of rules.
type RuleSet struct {
	rules   []*Rule
	byID    map[string]*Rule
	pf      *prefilter
	kwRules [][]int32 // keyword id → rule indexes
}

// Rules returns the rules in order.
func (rs *RuleSet) Rules() []*Rule { return rs.rules }

// Rule returns the rule with that id, or nil.
func (rs *RuleSet) Rule(id string) *Rule { return rs.byID[id] }

// DefaultRuleSpecs returns the embedded rule file's rules.
func DefaultRuleSpecs() ([]RuleSpec, error) {
	return ParseRuleSpecs(embeddedRules)
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

var ruleIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// CompileRules validates and compiles rule specs. Errors name the rule's
// index and id and the offending field; every problem is reported.
func CompileRules(specs []RuleSpec) (*RuleSet, error) {
	rs := &RuleSet{byID: map[string]*Rule{}}
	var errs []error
	var keywords []string
	kwIndex := map[string]int{}
	for i, spec := range specs {
		r, err := compileRule(spec)
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
	return rs, nil
}

func compileRule(spec RuleSpec) (*Rule, error) {
	r := &Rule{RuleSpec: spec, keyIdx: -1, assigns: assignmentRegex(spec.Regex)}
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if !ruleIDRe.MatchString(spec.ID) {
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
		if len(spec.Paths) == 0 {
			fail("paths", "a file rule needs at least one path glob")
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
		case len(k) > 64:
			fail(fmt.Sprintf("keywords[%d]", i), "longer than 64 bytes")
		}
	}
	if len(spec.Regex) > 4096 {
		fail("regex", "longer than 4096 bytes")
	} else if spec.Regex != "" {
		re, err := regexp.Compile(spec.Regex)
		if err != nil {
			fail("regex", "%v", err)
		} else {
			r.re = re
			r.keyIdx = re.SubexpIndex("key")
			switch {
			case spec.SecretGroup < 0 || spec.SecretGroup > re.NumSubexp():
				fail("secret_group", "%d out of range: the regex has %d groups", spec.SecretGroup, re.NumSubexp())
			case spec.SecretGroup > 0:
				r.secretIdx = []int{spec.SecretGroup}
			default:
				for i, name := range re.SubexpNames() {
					if name == "secret" {
						r.secretIdx = append(r.secretIdx, i)
					}
				}
				if len(r.secretIdx) == 0 {
					if re.NumSubexp() > 0 {
						r.secretIdx = []int{1}
					} else {
						r.secretIdx = []int{0}
					}
				}
			}
		}
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
	if spec.Context != "" {
		re, err := regexp.Compile(spec.Context)
		if err != nil {
			fail("context", "%v", err)
		}
		r.context = re
	}
	checkGlobs := func(field string, globs []string) {
		for i, g := range globs {
			if !doublestar.ValidatePattern(g) {
				fail(fmt.Sprintf("%s[%d]", field, i), "invalid glob %q", g)
			}
		}
	}
	checkGlobs("paths", spec.Paths)
	checkGlobs("exclude_paths", spec.ExcludePaths)
	if e := spec.BootstrapIf; e != nil {
		checkGlobs("bootstrap_if.paths", e.Paths)
		if e.Key != "" {
			re, err := regexp.Compile(e.Key)
			if err != nil {
				fail("bootstrap_if.key", "%v", err)
			}
			r.escKey = re
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// assignmentRegex recognises the "key, operator, value" rules of the rule
// file: the regex starts with the key group and an operator follows it, so
// no match is possible on a line without ':' or '=' after the keyword.
func assignmentRegex(re string) bool {
	re = strings.TrimPrefix(re, "(?i)")
	re = strings.TrimPrefix(re, "(?:^|[^a-z0-9_.-])")
	return strings.HasPrefix(re, "(?P<key>") && strings.Contains(re, "(?::=|=>|=|:)")
}

// appliesTo reports whether the rule's path restrictions admit path.
func (r *Rule) appliesTo(path, base string) bool {
	if len(r.Paths) > 0 && !matchAny(r.Paths, path, base) {
		return false
	}
	return !matchAny(r.ExcludePaths, path, base)
}

// matchAny matches globs against the path; a glob without a slash also
// matches the base name, so "*.pem" means any .pem file at any depth.
func matchAny(globs []string, path, base string) bool {
	for _, g := range globs {
		if ok, _ := doublestar.Match(g, path); ok {
			return true
		}
		if !strings.Contains(g, "/") {
			if ok, _ := doublestar.Match(g, base); ok {
				return true
			}
		}
	}
	return false
}
