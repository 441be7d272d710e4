// Package blind builds and scores the blind evaluation corpus of the
// secrets engine: realistic files of many kinds, written from vendors'
// documented token formats without looking at the rule file, with every
// planted credential and every tricky non-credential labelled.
//
// The committed templates under testdata/templates hold no live-looking
// token: each planted value is a placeholder that a seeded generator fills
// in at evaluation time, so the corpus is deterministic yet nothing a push
// protection or another scanner would flag sits in the repository.
package blind

import (
	"bytes"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"path"
	"sort"
	"strings"
)

//go:embed all:testdata/templates
var templatesFS embed.FS

// Seed is the corpus's fixed seed; changing it changes every value but no
// label.
const Seed = 12

// Tier labels, spelled as the engine spells them.
const (
	Bootstrap = "bootstrap"
	Runtime   = "runtime"
)

// Label is one labelled line of the corpus. Positive lines hold a
// credential; negative lines hold something that looks like one but is
// not (a placeholder, a vendor's example key, a digest, a reference).
type Label struct {
	File string `json:"file"`
	Line int    `json:"line"`
	// EndLine is the last line of a multi-line value (a PEM block); a
	// finding anywhere in Line..EndLine counts.
	EndLine  int  `json:"end_line"`
	Positive bool `json:"positive"`
	// Neutral lines are neither: a finding there is by design of the
	// product (a raw Kubernetes Secret's non-credential literal) and counts
	// neither as found nor as a false alarm.
	Neutral bool   `json:"neutral,omitempty"`
	Family  string `json:"family"`
	// Tier is the expected tier of a positive (empty for negatives).
	Tier string `json:"tier,omitempty"`
	// Why says what a negative or neutral line is (empty for positives).
	Why string `json:"why,omitempty"`
	// Redacted is at most the first 4 characters of a planted value, for
	// listing misses without echoing the value.
	Redacted string `json:"-"`
}

// Corpus is the expanded corpus: file contents by path, and labels sorted
// by file and line.
type Corpus struct {
	Files  map[string][]byte
	Labels []Label
}

// Paths returns the corpus's file paths, sorted.
func (c *Corpus) Paths() []string {
	ps := make([]string, 0, len(c.Files))
	for p := range c.Files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// delim opens and closes a directive.
const delim = "@@"

// Build expands every template. Directives, between "@@" pairs:
//
//	@@P family tier generator@@  a planted credential (the generator's value)
//	@@N family: why@@            this line is a labelled negative (removed)
//	@@I family: why@@            this line is neutral (removed)
//	@@V generator@@              an unlabelled generated value (for negatives)
//
// Template files end in ".tmpl", which is dropped, so that names such as
// ".env" or "id_rsa" are not ignored by git or matched in the repository
// itself.
func Build() (*Corpus, error) {
	c := &Corpus{Files: map[string][]byte{}}
	err := fs.WalkDir(templatesFS, "testdata/templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !strings.HasSuffix(p, ".tmpl") {
			return fmt.Errorf("%s: template names end in .tmpl", p)
		}
		data, err := templatesFS.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimSuffix(strings.TrimPrefix(p, "testdata/templates/"), ".tmpl")
		out, labels, err := expand(rel, data)
		if err != nil {
			return err
		}
		c.Files[rel] = out
		c.Labels = append(c.Labels, labels...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(c.Labels, func(i, j int) bool {
		a, b := c.Labels[i], c.Labels[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	for i := 1; i < len(c.Labels); i++ {
		a, b := c.Labels[i-1], c.Labels[i]
		if a.File == b.File && b.Line <= a.EndLine {
			return nil, fmt.Errorf("%s:%d: two labels on one line", b.File, b.Line)
		}
	}
	return c, nil
}

// expand fills one template. Each value's generator is seeded by the
// file's path and the directive's index, so editing one template never
// changes another's values.
func expand(file string, tmpl []byte) ([]byte, []Label, error) {
	h := fnv.New64a()
	h.Write([]byte(file))
	var out bytes.Buffer
	var labels []Label
	line := 1
	rest := string(tmpl)
	pendingNeg := map[int]Label{}
	for n := 0; ; n++ {
		i := strings.Index(rest, delim)
		if i < 0 {
			out.WriteString(rest)
			break
		}
		out.WriteString(rest[:i])
		line += strings.Count(rest[:i], "\n")
		rest = rest[i+len(delim):]
		j := strings.Index(rest, delim)
		if j < 0 || strings.Contains(rest[:j], "\n") {
			return nil, nil, fmt.Errorf("%s:%d: unterminated @@ directive", file, line)
		}
		dir := rest[:j]
		rest = rest[j+len(delim):]
		rng := rand.New(rand.NewPCG(Seed, h.Sum64()+uint64(n)))
		kind, args, _ := strings.Cut(dir, " ")
		switch kind {
		case "P":
			f := strings.SplitN(args, " ", 3) // the generator may hold spaces
			if len(f) != 3 {
				return nil, nil, fmt.Errorf("%s:%d: want @@P family tier generator@@, got %q", file, line, dir)
			}
			if f[1] != Bootstrap && f[1] != Runtime {
				return nil, nil, fmt.Errorf("%s:%d: tier %q", file, line, f[1])
			}
			v, err := generate(f[2], rng)
			if err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %w", file, line, err)
			}
			out.WriteString(v)
			end := line + strings.Count(v, "\n")
			labels = append(labels, Label{File: file, Line: line, EndLine: end, Positive: true,
				Family: f[0], Tier: f[1], Redacted: redact(v)})
			line = end
		case "N", "I":
			fam, why, ok := strings.Cut(args, ":")
			if !ok || strings.TrimSpace(why) == "" {
				return nil, nil, fmt.Errorf("%s:%d: want @@%s family: why@@, got %q", file, line, kind, dir)
			}
			if _, dup := pendingNeg[line]; dup {
				return nil, nil, fmt.Errorf("%s:%d: two labels on one line", file, line)
			}
			pendingNeg[line] = Label{File: file, Line: line, EndLine: line, Neutral: kind == "I",
				Family: strings.TrimSpace(fam), Why: strings.TrimSpace(why)}
		case "V":
			v, err := generate(strings.TrimSpace(args), rng)
			if err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %w", file, line, err)
			}
			out.WriteString(v)
			line += strings.Count(v, "\n")
		default:
			return nil, nil, fmt.Errorf("%s:%d: unknown directive %q", file, line, dir)
		}
	}
	for _, l := range pendingNeg {
		for _, p := range labels {
			if l.Line >= p.Line && l.Line <= p.EndLine {
				return nil, nil, fmt.Errorf("%s:%d: line labelled both positive and negative", file, l.Line)
			}
		}
		labels = append(labels, l)
	}
	// A negative directive leaves its separating blank behind; trim
	// trailing blanks so lines look as people write them.
	lines := strings.Split(out.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return []byte(strings.Join(lines, "\n")), labels, nil
}

// redact keeps at most 4 characters and at most a quarter of a value.
func redact(v string) string {
	n := min(4, len(v)/4)
	if first, _, ok := strings.Cut(v, "\n"); ok && len(first) < len(v) {
		n = min(n, len(first))
	}
	return v[:n] + "…"
}

// Families lists the families labelled, sorted.
func (c *Corpus) Families() []string {
	seen := map[string]bool{}
	for _, l := range c.Labels {
		seen[l.Family] = true
	}
	out := make([]string, 0, len(seen))
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Kind of a corpus file, by directory: the first path element.
func Kind(file string) string {
	if i := strings.IndexByte(file, '/'); i > 0 {
		return file[:i]
	}
	return path.Base(file)
}
