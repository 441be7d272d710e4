// Package checkrun turns engine results into what GitHub shows on a commit:
// a check run's conclusion, title, Markdown summary, findings and
// annotations. The CLI prints the same values, so a developer sees locally
// exactly what the App posts.
package checkrun

import (
	"sort"

	"github.com/housekeeper-app/housekeeper/internal/escape"
)

// Check run names; branch protection requires them by name.
const (
	NameDirs    = "housekeeper/dirs"
	NameSecrets = "housekeeper/secrets"
)

// Conclusion of a completed check run.
type Conclusion string

const (
	Success Conclusion = "success"
	Failure Conclusion = "failure"
	Neutral Conclusion = "neutral"
)

// Levels as GitHub's annotation_level spells them.
const (
	LevelFailure = "failure"
	LevelWarning = "warning"
	LevelNotice  = "notice"
)

// MaxText is GitHub's limit on each check-run output field.
const MaxText = 65535

// Report is the JSON document the CLI prints (docs/output.md).
type Report struct {
	Checks []Check `json:"checks"`
	// MaxAnnotations is the annotation cap the App would apply
	// (secrets.max_annotations; 0: the default), for the formats that say
	// what the App would cut.
	MaxAnnotations int `json:"-"`
}

// Check is one check run.
type Check struct {
	Name       string     `json:"name"`
	Conclusion Conclusion `json:"conclusion"`
	Title      string     `json:"title"`
	Summary    string     `json:"summary"`
	Findings   []Finding  `json:"findings"`

	// FixText is the plain-text fix (the lines to paste and where), for
	// the CLI's text format.
	FixText string `json:"-"`
	// Details is what the summary tells a reader besides the findings, in
	// plain text, so the CLI's text format can act on it too.
	Details Details `json:"-"`
}

// Details is a run's context in plain text: what was checked and with
// which config, what was not scanned, what to do, and what the summary
// had to leave out to fit GitHub's limits.
type Details struct {
	Scope      []string
	NotScanned []string // "path: reason"
	Advice     []string
	// Cut says what the posted summary leaves out (the CLI shows it all).
	Cut []string
}

// Finding is one finding in the JSON contract. Secret findings carry the
// extra fields of *Secret; dirs findings leave it nil so they do not appear.
type Finding struct {
	Kind string `json:"kind"`
	*Secret
	// Path is the directory (dirs) or the file (secrets); the map's path for
	// missing-map and malformed-map.
	Path string `json:"path"`
	// File is where the annotation goes; Line is 1-based, 0 when none.
	File    string `json:"file"`
	Line    int    `json:"line"`
	Level   string `json:"level"`
	Message string `json:"message"`

	omitted int // a capped finding's count, for the title
}

// Secret holds the fields only secret findings have.
type Secret struct {
	Rule         string `json:"rule"`
	Tier         string `json:"tier"`
	Column       int    `json:"column"`
	Fingerprint  string `json:"fingerprint"`
	Redacted     string `json:"redacted"`
	Commit       string `json:"commit"`
	Suppressed   bool   `json:"suppressed"`
	SuppressedBy string `json:"suppressed_by"`
	// Description is the rule's description, for compact text output.
	Description string `json:"-"`
}

// SortFindings orders findings by file, line, kind, then path.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Path < b.Path
	})
}

// Failed reports whether the check's findings fail it (ignoring enforce).
func (c *Check) Failed() bool {
	for _, f := range c.Findings {
		if f.Level == LevelFailure && (f.Secret == nil || !f.Suppressed) {
			return true
		}
	}
	return false
}

// Annotation is one check-run annotation.
type Annotation struct {
	Path    string
	Line    int
	Level   string
	Title   string
	Message string
}

// Annotations returns the check's findings as annotations, suppressed ones
// left out; a finding without a line goes on line 1 of its file.
func (c *Check) Annotations() []Annotation {
	var out []Annotation
	for _, f := range c.Findings {
		if f.File == "" || (f.Secret != nil && f.Suppressed) {
			continue
		}
		line := f.Line
		if line < 1 {
			line = 1
		}
		title := f.Kind
		if f.Secret != nil {
			title = f.Rule + " (" + f.Tier + ")"
		}
		out = append(out, Annotation{Path: f.File, Line: line, Level: f.Level, Title: escape.Plain(title), Message: escape.Plain(f.Message)})
	}
	return out
}
