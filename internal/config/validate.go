package config

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"gopkg.in/yaml.v3"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

var fingerprintRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*:[0-9a-f]{16}$`)

// validate checks values once they decoded, reporting every problem with
// the line of the key it concerns.
func validate(file string, c *Config, root *yaml.Node) Errors {
	var errs Errors
	fail := func(keyPath, format string, args ...any) {
		errs = append(errs, &Error{File: file, Line: lineOf(root, keyPath), Key: keyPath, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Version != 1 {
		fail("version", "unsupported version %d (1 is the only version so far)", c.Version)
	}
	// dirs
	switch m := c.Dirs.Map; {
	case strings.TrimSpace(m) == "":
		fail("dirs.map", "must name the map file, e.g. docs/dir.md")
	case path.IsAbs(m) || strings.HasPrefix(m, `\`):
		fail("dirs.map", "must be a repository-relative path, got %q", m)
	case hasDotDot(m):
		fail("dirs.map", "must not contain \"..\", got %q", m)
	}
	checkGlobs(c.Dirs.Ignore, "dirs.ignore", fail)
	for i, a := range c.Dirs.RequiredAnnotations {
		if strings.TrimSpace(a) == "" {
			fail(fmt.Sprintf("dirs.required_annotations[%d]", i), "must not be empty")
		}
	}
	for i, l := range c.Dirs.Layers {
		k := fmt.Sprintf("dirs.layers[%d]", i)
		if strings.TrimSpace(l.Path) == "" || !doublestar.ValidatePattern(strings.TrimSuffix(l.Path, "/")) {
			fail(k+".path", "invalid glob %q", l.Path)
		}
		if strings.TrimSpace(l.Layer) == "" {
			fail(k+".layer", "must name a layer, e.g. L1")
		} else if strings.ContainsAny(l.Layer, "|;#`\n\r") || len(l.Layer) > 64 {
			fail(k+".layer", "must be at most 64 characters without | ; # or backticks (it is written into the map), got %q", l.Layer)
		}
	}
	if c.Dirs.MaxDepth < 0 {
		fail("dirs.max_depth", "must be 0 (no limit) or more, got %d", c.Dirs.MaxDepth)
	}
	validateAnnotations(c.Dirs.Annotations, fail)
	// secrets
	for i, t := range c.Secrets.FailOn {
		if t != TierBootstrap && t != TierRuntime {
			fail(fmt.Sprintf("secrets.fail_on[%d]", i), "unknown tier %q (bootstrap or runtime)", t)
		}
	}
	checkGlobs(c.Secrets.ExcludePaths, "secrets.exclude_paths", fail)
	seen := map[string]int{}
	for i, ig := range c.Secrets.Ignore {
		k := fmt.Sprintf("secrets.ignore[%d]", i)
		if !fingerprintRE.MatchString(ig.Fingerprint) {
			fail(k+".fingerprint", "%q is not a fingerprint (RULE:16 hex digits, as the check run shows it)", ig.Fingerprint)
		}
		if strings.TrimSpace(ig.Reason) == "" {
			fail(k+".reason", "say why this finding is accepted")
		}
		if j, dup := seen[ig.Fingerprint]; dup {
			fail(k+".fingerprint", "already ignored by secrets.ignore[%d]", j)
		}
		seen[ig.Fingerprint] = i
	}
	if c.Secrets.MaxCommits < 1 || c.Secrets.MaxCommits > 250 {
		fail("secrets.max_commits", "must be between 1 and 250 (GitHub lists at most 250 commits), got %d", c.Secrets.MaxCommits)
	}
	if c.Secrets.MaxAnnotations < 0 {
		fail("secrets.max_annotations", "must be 0 or more, got %d", c.Secrets.MaxAnnotations)
	}
	if c.Secrets.MaxFileSize <= 0 {
		fail("secrets.max_file_size", "must be more than 0")
	}
	known := map[string]bool{}
	if specs, err := secrets.DefaultRuleSpecs(); err == nil {
		for _, s := range specs {
			known[s.ID] = true
			for _, a := range s.Aliases { // former ids still disable the rules they became
				known[a] = true
			}
		}
	}
	for i, spec := range c.Secrets.Rules.Add {
		k := fmt.Sprintf("secrets.rules.add[%d]", i)
		if _, err := secrets.CompileRules([]secrets.RuleSpec{spec}); err != nil {
			fail(k, "%v", err)
		}
		known[spec.ID] = true
	}
	if len(c.Secrets.Rules.Import) > MaxImports {
		fail("secrets.rules.import", "at most %d files, got %d", MaxImports, len(c.Secrets.Rules.Import))
	}
	for i, p := range c.Secrets.Rules.Import {
		if p == "" || strings.HasPrefix(p, "/") || hasDotDot(p) {
			fail(fmt.Sprintf("secrets.rules.import[%d]", i), "%q must be a path inside the repository", p)
		}
	}
	for i, id := range c.Secrets.Rules.Disable {
		if !known[id] {
			fail(fmt.Sprintf("secrets.rules.disable[%d]", i), "no rule %q", id)
		}
	}
	return errs
}

// validateAnnotations checks dirs.annotations: values and pattern exclude
// each other, patterns compile, verify and level belong to Namespace.
func validateAnnotations(anns map[string]Annotation, fail func(string, string, ...any)) {
	names := make([]string, 0, len(anns))
	for name := range anns {
		names = append(names, name)
	}
	sort.Strings(names)
	seen := map[string]string{}
	for _, name := range names {
		a := anns[name]
		k := "dirs.annotations." + name
		if other, dup := seen[strings.ToLower(name)]; dup {
			fail(k, "declared twice (also as %s; annotation names are case-insensitive)", other)
		}
		seen[strings.ToLower(name)] = name
		if len(a.Values) > 0 && a.Pattern != "" {
			fail(k, "set either values or pattern, not both")
		}
		for i, v := range a.Values {
			if strings.TrimSpace(v) == "" {
				fail(fmt.Sprintf("%s.values[%d]", k, i), "must not be empty")
			}
		}
		if a.Pattern != "" {
			if _, err := AnnotationPattern(a.Pattern); err != nil {
				fail(k+".pattern", "invalid regular expression: %v", err)
			}
		}
		namespace := strings.EqualFold(name, "Namespace")
		switch {
		case a.Verify != "" && !namespace:
			fail(k+".verify", "only Namespace can be verified")
		case a.Verify != "" && a.Verify != VerifyManifests:
			fail(k+".verify", "unknown value %q (manifests)", a.Verify)
		}
		switch {
		case a.Level != "" && !namespace:
			fail(k+".level", "only Namespace has a level (of its namespace-drift findings)")
		case a.Level != "" && a.Level != "warning" && a.Level != "failure" && a.Level != "notice":
			fail(k+".level", "unknown level %q (warning, failure or notice)", a.Level)
		}
	}
}

// AnnotationPattern compiles a declared pattern so that it must match the
// whole value.
func AnnotationPattern(p string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(p); err != nil {
		return nil, err
	}
	return regexp.Compile(`^(?:` + p + `)$`)
}

func hasDotDot(p string) bool {
	for _, c := range strings.Split(strings.ReplaceAll(p, `\`, "/"), "/") {
		if c == ".." {
			return true
		}
	}
	return false
}

func checkGlobs(globs []string, key string, fail func(string, string, ...any)) {
	for i, g := range globs {
		if strings.TrimSpace(g) == "" || !doublestar.ValidatePattern(g) {
			fail(fmt.Sprintf("%s[%d]", key, i), "invalid glob %q", g)
		}
	}
}

// lineOf finds the line of a dotted key path ("secrets.ignore[2].reason")
// in the document, falling back to the nearest ancestor found.
func lineOf(root *yaml.Node, keyPath string) int {
	n := root
	line := root.Line
	for _, part := range strings.Split(keyPath, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		next := (*yaml.Node)(nil)
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == name {
					line = n.Content[i].Line
					next = n.Content[i+1]
				}
			}
		}
		if next == nil {
			return line
		}
		n = next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

// ByteSize is a size in bytes written as a number or with a unit
// ("10MiB", "512KiB", "1GB").
type ByteSize int64

var sizeRE = regexp.MustCompile(`^\s*(\d+)\s*([KMGkmg]i?[Bb]?|[Bb])?\s*$`)

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a size such as 10MiB, got %s", describe(n))
	}
	*s = v
	return nil
}

// ParseByteSize reads "10MiB"-style sizes; KB/MB/GB are powers of 1000.
func ParseByteSize(v string) (ByteSize, error) {
	m := sizeRE.FindStringSubmatch(v)
	if m == nil {
		return 0, fmt.Errorf("invalid size %q", v)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q", v)
	}
	unit := strings.ToLower(m[2])
	mult := int64(1)
	switch {
	case unit == "" || unit == "b":
	case strings.Contains(unit, "i"):
		mult = map[byte]int64{'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30}[unit[0]]
	default:
		mult = map[byte]int64{'k': 1e3, 'm': 1e6, 'g': 1e9}[unit[0]]
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", v)
	}
	return ByteSize(n * mult), nil
}

func (s ByteSize) String() string {
	switch {
	case s >= 1<<30 && s%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", s>>30)
	case s >= 1<<20 && s%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", s>>20)
	case s >= 1<<10 && s%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", s>>10)
	}
	return fmt.Sprintf("%dB", int64(s))
}
