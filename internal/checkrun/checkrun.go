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

// Report is the JSON document the CLI prints (PRODUCT.md §2.10).
type Report struct {
	Checks []Check `json:"checks"`
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
