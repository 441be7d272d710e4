// Package config reads a repository's Housekeeper config
// (.github/housekeeper.yml): strictly decoded, so that an unknown key or a
// wrong type is an error naming the file, line and key, then validated into
// plain values the checks use.
package config

import (
	"fmt"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"gopkg.in/yaml.v3"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// Path is where a repository keeps its config.
const Path = ".github/housekeeper.yml"

// Tier names as config and findings spell them.
const (
	TierBootstrap = "bootstrap"
	TierRuntime   = "runtime"
)

// Config is a validated repository config.
type Config struct {
	Version int     `yaml:"version"`
	Dirs    Dirs    `yaml:"dirs"`
	Secrets Secrets `yaml:"secrets"`
	// Onboarding: whether the App opens an onboarding pull request in a
	// repository without a map (on by default).
	Onboarding Onboarding `yaml:"onboarding"`
	// Dashboard: keep a "Housekeeping dashboard" issue (off by default).
	Dashboard bool `yaml:"dashboard"`

	// Source names where the config came from ("defaults" when none), so
	// summaries can say which config applied.
	Source string `yaml:"-"`
}

// Dirs configures the housekeeper/dirs check.
type Dirs struct {
	Map      string `yaml:"map"`
	Required bool   `yaml:"required"`
	// Ignore is nil when unset (the default ["**/.*"] applies); a configured
	// list replaces the default.
	Ignore []string `yaml:"ignore"`
	// RequiredAnnotations is nil when unset (those of Function, Layer,
	// Namespace that the map uses apply).
	RequiredAnnotations []string `yaml:"required_annotations"`
	MaxDepth            int      `yaml:"max_depth"`
	Enforce             bool     `yaml:"enforce"`
	// Annotations declare the values an annotation may take, keyed by the
	// annotation's name as the map writes it.
	Annotations map[string]Annotation `yaml:"annotations"`
	// Layers give generated maps their Layer annotation: the first entry
	// whose glob matches a directory wins.
	Layers []Layer `yaml:"layers"`
}

// Layer maps directories (a doublestar glob over directory paths) to a
// layer name.
type Layer struct {
	Path  string `yaml:"path"`
	Layer string `yaml:"layer"`
}

// LayerOf returns the layer of the first entry matching dir, or "".
func (d Dirs) LayerOf(dir string) string {
	for _, l := range d.Layers {
		if ok, _ := doublestar.Match(strings.TrimSuffix(l.Path, "/"), dir); ok {
			return l.Layer
		}
	}
	return ""
}

// Onboarding is on, off or dry-run (log what would be opened, write
// nothing).
type Onboarding string

// Onboarding values.
const (
	OnboardingOn     Onboarding = "on"
	OnboardingOff    Onboarding = "off"
	OnboardingDryRun Onboarding = "dry-run"
)

// UnmarshalYAML accepts true, false or dry-run.
func (o *Onboarding) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		switch {
		case n.Tag == "!!bool":
			var b bool
			if err := n.Decode(&b); err == nil {
				*o = OnboardingOff
				if b {
					*o = OnboardingOn
				}
				return nil
			}
		case n.Value == "dry-run":
			*o = OnboardingDryRun
			return nil
		}
	}
	return fmt.Errorf("must be true, false or dry-run, got %s", describe(n))
}

// Annotation declares one annotation's accepted values: a set or a
// pattern matching the whole value. Verify and Level apply to Namespace
// only.
type Annotation struct {
	Values  []string `yaml:"values"`
	Pattern string   `yaml:"pattern"`
	// Verify is "manifests" to compare Namespace with what the manifests
	// under the entry deploy into.
	Verify string `yaml:"verify"`
	// Level of namespace-drift findings: warning (default), failure or
	// notice.
	Level string `yaml:"level"`
}

// VerifyManifests is the only value of Annotation.Verify.
const VerifyManifests = "manifests"

// Secrets configures the housekeeper/secrets check.
type Secrets struct {
	FailOn         []string `yaml:"fail_on"`
	ExcludePaths   []string `yaml:"exclude_paths"`
	Ignore         []Ignore `yaml:"ignore"`
	MaxCommits     int      `yaml:"max_commits"`
	MaxAnnotations int      `yaml:"max_annotations"`
	Rules          Rules    `yaml:"rules"`
	MaxFileSize    ByteSize `yaml:"max_file_size"`
	Enforce        bool     `yaml:"enforce"`
}

// Ignore is an accepted finding, kept for good.
type Ignore struct {
	Fingerprint string `yaml:"fingerprint"`
	Reason      string `yaml:"reason"`
}

// Rules extends or narrows the embedded secret rules.
type Rules struct {
	Disable []string `yaml:"disable"`
	// Add uses the embedded rule file's format.
	Add []secrets.RuleSpec `yaml:"add"`
	// Import lists gitleaks-format TOML rule files (repository paths),
	// read from the same ref as this config (ReadImports).
	Import []string `yaml:"import"`
	// Imported holds the files Import names once a loader has read them.
	Imported []secrets.GitleaksFile `yaml:"-"`
}

// MaxImports bounds secrets.rules.import.
const MaxImports = 8

// ReadImports reads the files secrets.rules.import names with read (from
// the config's own ref), so a pull request cannot bring rules or
// allowlists that judge it. A missing file is an error naming it.
func (c *Config) ReadImports(where string, read func(path string) ([]byte, bool, error)) error {
	c.Secrets.Rules.Imported = nil
	for i, p := range c.Secrets.Rules.Import {
		data, ok, err := read(p)
		if err != nil {
			return fmt.Errorf("secrets.rules.import[%d]: read %s: %w", i, p, err)
		}
		if !ok {
			return fmt.Errorf("secrets.rules.import[%d]: %s not found in %s", i, p, where)
		}
		if len(data) > secrets.MaxGitleaksFile {
			return fmt.Errorf("secrets.rules.import[%d]: %s is larger than %d bytes", i, p, secrets.MaxGitleaksFile)
		}
		c.Secrets.Rules.Imported = append(c.Secrets.Rules.Imported, secrets.GitleaksFile{Path: p, Data: data})
	}
	return nil
}

// Default returns the built-in config.
func Default() *Config {
	return &Config{
		Version: 1,
		Dirs: Dirs{
			Map:     "docs/dir.md",
			Enforce: true,
		},
		Secrets: Secrets{
			FailOn:         []string{TierBootstrap, TierRuntime},
			MaxCommits:     100,
			MaxAnnotations: 500,
			MaxFileSize:    100 << 20, // GitHub's own limit on a file
			Enforce:        true,
		},
		Onboarding: OnboardingOn,
		Source:     "defaults",
	}
}

// FailsOn reports whether findings of a tier fail the secrets check.
func (s Secrets) FailsOn(tier string) bool {
	for _, t := range s.FailOn {
		if t == tier {
			return true
		}
	}
	return false
}

// Error is one problem in a config file.
type Error struct {
	File string
	Line int
	Key  string // dotted path, e.g. dirs.max_depth
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Errors is every problem found in one config file.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}
