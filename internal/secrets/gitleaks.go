package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// Bring your own rules: a gitleaks-format TOML file (secrets.rules.import)
// is translated into rule specs, so a team keeps its custom rules when it
// moves. Only the rule and allowlist fields that change what is found are
// read; [extend] is not followed (the embedded rules stand in for that
// tool's defaults) and .gitleaksignore is out of scope.

// GitleaksFile is an imported rule file's path (for messages) and bytes.
type GitleaksFile struct {
	Path string
	Data []byte
}

// MaxGitleaksFile bounds an imported rule file.
const MaxGitleaksFile = 1 << 20

type glAllowlist struct {
	Description string   `toml:"description"`
	Condition   string   `toml:"condition"`
	RegexTarget string   `toml:"regexTarget"`
	Regexes     []string `toml:"regexes"`
	Paths       []string `toml:"paths"`
	StopWords   []string `toml:"stopwords"`
	Commits     []string `toml:"commits"`
	TargetRules []string `toml:"targetRules"`
}

type glRule struct {
	ID          string        `toml:"id"`
	Description string        `toml:"description"`
	Regex       string        `toml:"regex"`
	SecretGroup int           `toml:"secretGroup"`
	Entropy     float64       `toml:"entropy"`
	Keywords    []string      `toml:"keywords"`
	Path        string        `toml:"path"`
	Tags        []string      `toml:"tags"`
	Tier        string        `toml:"tier"`
	Allowlist   *glAllowlist  `toml:"allowlist"`
	Allowlists  []glAllowlist `toml:"allowlists"`
}

type glFile struct {
	Title  string `toml:"title"`
	Extend *struct {
		UseDefault    bool     `toml:"useDefault"`
		Path          string   `toml:"path"`
		URL           string   `toml:"url"`
		DisabledRules []string `toml:"disabledRules"`
	} `toml:"extend"`
	Allowlist  *glAllowlist  `toml:"allowlist"`
	Allowlists []glAllowlist `toml:"allowlists"`
	Rules      []glRule      `toml:"rules"`
}

// GlobalAllow is an imported file's global allowlist: it applies to every
// rule, embedded ones included.
type GlobalAllow struct {
	Regexes   []*regexp.Regexp // matched against the value
	Lines     []*regexp.Regexp // matched against the line
	Paths     []*regexp.Regexp // matched against the path
	StopWords []string         // lower-case; a value containing one is allowed
}

// importedSpecificity ranks a team's own rules with the token formats.
const importedSpecificity = 290

var rulesHeader = lazyRegexp(`(?m)^[ \t]*\[\[[ \t]*rules[ \t]*\]\]`)

// ImportGitleaks translates a gitleaks TOML file. Errors name the file,
// the line and the rule; notices say what was read differently or not at
// all.
func ImportGitleaks(f GitleaksFile) (specs []RuleSpec, global GlobalAllow, notices []string, err error) {
	if len(f.Data) > MaxGitleaksFile {
		return nil, global, nil, fmt.Errorf("%s: larger than %d bytes", f.Path, MaxGitleaksFile)
	}
	var doc glFile
	md, derr := toml.Decode(string(f.Data), &doc)
	if derr != nil {
		var pe toml.ParseError
		if errors.As(derr, &pe) {
			return nil, global, nil, fmt.Errorf("%s:%d: %s", f.Path, pe.Position.Line, pe.Message)
		}
		return nil, global, nil, fmt.Errorf("%s: %v", f.Path, derr)
	}
	var errs []error
	if und := md.Undecoded(); len(und) > 0 {
		var keys []string
		for _, k := range und {
			keys = append(keys, k.String())
		}
		errs = append(errs, fmt.Errorf("%s: unknown keys: %s", f.Path, strings.Join(keys, ", ")))
	}
	if e := doc.Extend; e != nil {
		if e.UseDefault {
			notices = append(notices, fmt.Sprintf("%s: [extend] useDefault: Housekeeper's embedded rules stand in for gitleaks' default rules.", f.Path))
		}
		if e.Path != "" || e.URL != "" {
			notices = append(notices, fmt.Sprintf("%s: [extend] path/url is not followed; import that file too if you need its rules.", f.Path))
		}
		if len(e.DisabledRules) > 0 {
			notices = append(notices, fmt.Sprintf("%s: [extend] disabledRules names gitleaks' rules; use secrets.rules.disable with Housekeeper's rule ids.", f.Path))
		}
	}
	lines := headerLines(f.Data)
	where := func(i int) string {
		if i < len(lines) {
			return fmt.Sprintf("%s:%d", f.Path, lines[i])
		}
		return f.Path
	}
	globals := doc.Allowlists
	if doc.Allowlist != nil {
		globals = append([]glAllowlist{*doc.Allowlist}, globals...)
	}
	for i, a := range globals {
		if len(a.TargetRules) > 0 {
			notices = append(notices, fmt.Sprintf("%s: global allowlist %d: targetRules is not supported; it applies to every rule.", f.Path, i))
		}
		if len(a.Commits) > 0 {
			notices = append(notices, fmt.Sprintf("%s: global allowlist %d: commits are not supported (pull requests are judged by content).", f.Path, i))
		}
		val, line, paths, err := compileAllowlist(a)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: global allowlist: %w", f.Path, err))
			continue
		}
		global.Regexes = append(global.Regexes, val...)
		global.Lines = append(global.Lines, line...)
		global.Paths = append(global.Paths, paths...)
		for _, w := range a.StopWords {
			global.StopWords = append(global.StopWords, strings.ToLower(w))
		}
	}
	for i, r := range doc.Rules {
		spec, ns, err := translateRule(r)
		for _, n := range ns {
			notices = append(notices, fmt.Sprintf("%s: rule %q: %s", where(i), r.ID, n))
		}
		if err == nil {
			_, err = compileRule(spec, false)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: rule %q: %w", where(i), r.ID, err))
			continue
		}
		specs = append(specs, spec)
	}
	if len(errs) > 0 {
		return nil, GlobalAllow{}, notices, errors.Join(errs...)
	}
	return specs, global, notices, nil
}

// headerLines returns the 1-based line of each [[rules]] header.
func headerLines(data []byte) []int {
	var out []int
	line, last := 1, 0
	for _, m := range rulesHeader().FindAllIndex(data, -1) {
		line += strings.Count(string(data[last:m[0]]), "\n")
		last = m[0]
		out = append(out, line)
	}
	return out
}

func translateRule(r glRule) (RuleSpec, []string, error) {
	var notes []string
	spec := RuleSpec{
		ID:          r.ID,
		Description: r.Description,
		Tier:        Runtime,
		Kind:        KindSecret,
		Regex:       r.Regex,
		SecretGroup: r.SecretGroup,
		Entropy:     r.Entropy,
		PathRegex:   r.Path,
		Specificity: importedSpecificity,
		Source:      "imported gitleaks rule",
	}
	if spec.Description == "" {
		spec.Description = r.ID
	}
	switch r.Tier {
	case "", "runtime":
	case "bootstrap":
		spec.Tier = Bootstrap
	default:
		return spec, nil, fmt.Errorf("tier: must be bootstrap or runtime, not %q", r.Tier)
	}
	for _, k := range r.Keywords {
		spec.Keywords = append(spec.Keywords, strings.ToLower(k))
	}
	switch {
	case r.Regex == "" && r.Path == "":
		return spec, nil, errors.New("needs a regex or a path")
	case r.Regex == "":
		spec.Kind = KindFile // a file that should not be committed
	case len(spec.Keywords) == 0 && r.Path != "":
		// No keywords, but the path bounds the files: the regex runs on
		// those files only, as a file rule's content condition.
		spec.Kind = KindFile
		notes = append(notes, "no keywords: the regex runs only on files matching its path, and the finding is the file")
	case len(spec.Keywords) == 0:
		return spec, nil, errors.New("keywords: none; Housekeeper runs a rule's regex only on lines holding one of its keywords (add keywords = [...], or a path)")
	}
	als := r.Allowlists
	if r.Allowlist != nil {
		als = append([]glAllowlist{*r.Allowlist}, als...)
	}
	for _, a := range als {
		if strings.EqualFold(a.Condition, "AND") {
			notes = append(notes, "allowlist condition AND is read as OR (each entry allows on its own)")
		}
		if len(a.Commits) > 0 {
			notes = append(notes, "allowlist commits are not supported")
		}
		target := strings.ToLower(a.RegexTarget)
		for _, re := range a.Regexes {
			switch target {
			case "", "secret":
				spec.Allow = append(spec.Allow, re)
			default: // "match" and "line": the match lies within the line
				spec.AllowLine = append(spec.AllowLine, re)
			}
		}
		spec.ExcludePathRegex = append(spec.ExcludePathRegex, a.Paths...)
		for _, w := range a.StopWords {
			spec.Allow = append(spec.Allow, "(?i)"+regexp.QuoteMeta(w))
		}
	}
	return spec, notes, nil
}

// compileAllowlist compiles a global allowlist's regexes; every bad one
// is reported by its index.
func compileAllowlist(a glAllowlist) (val, line, paths []*regexp.Regexp, err error) {
	var errs []error
	comp := func(field string, src []string) []*regexp.Regexp {
		var out []*regexp.Regexp
		for i, s := range src {
			re, err := regexp.Compile(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s[%d]: %v", field, i, err))
				continue
			}
			out = append(out, re)
		}
		return out
	}
	switch strings.ToLower(a.RegexTarget) {
	case "", "secret":
		val = comp("regexes", a.Regexes)
	default:
		line = comp("regexes", a.Regexes)
	}
	paths = comp("paths", a.Paths)
	return val, line, paths, errors.Join(errs...)
}

// gitleaksAllowMarker is gitleaks' inline allow comment. Where a team
// imports its gitleaks rules it counts like housekeeper:allow: only where
// the caller honours that (the line already on the base branch).
const gitleaksAllowMarker = "gitleaks:allow"

// importedAllowlists drops the candidates an imported global allowlist
// allows and marks lines carrying gitleaks:allow.
func (fs *fileScan) importedAllowlists() {
	g := fs.s.global
	if g == nil {
		return
	}
	out := fs.cands[:0]
	for _, c := range fs.cands {
		var line []byte
		if c.start >= 0 && c.start <= len(fs.data) {
			ls, le := lineBounds(fs.data, c.start)
			line = fs.data[ls:le]
		}
		if g.allowedGlobally(c, line) {
			continue
		}
		if c.allow == "" && line != nil && bytes.Contains(line, []byte(gitleaksAllowMarker)) {
			c.allow, c.allowLine = gitleaksAllowMarker, c.line
		}
		out = append(out, c)
	}
	fs.cands = out
}

// allowedGlobally applies the imported global allowlists to a candidate.
func (g *GlobalAllow) allowedGlobally(c candidate, line []byte) bool {
	if c.start < 0 {
		return false // file findings have no value to allow
	}
	l := strings.ToLower(c.value)
	for _, w := range g.StopWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	for _, re := range g.Regexes {
		if re.MatchString(c.value) {
			return true
		}
	}
	for _, re := range g.Lines {
		if re.Match(line) {
			return true
		}
	}
	return false
}

// excludedGlobally: a path the global allowlists exempt.
func (g *GlobalAllow) excludedGlobally(p string) bool {
	for _, re := range g.Paths {
		if re.MatchString(p) {
			return true
		}
	}
	return false
}
