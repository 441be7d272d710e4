package checkrun

import (
	"fmt"
	"sort"
	"unicode/utf8"
)

// GitHub's limits on a check run's output, and the App's default cap.
const (
	MaxTitle                 = 255
	MaxAnnotationMessage     = 64 * 1024
	DefaultMaxAnnotations    = 500
	AnnotationsPerRequest    = 50
	annotationsCutMostListed = 10
)

// Posted is exactly what the App posts for a check run: its title, its
// summary (with a note on the annotations beyond the cap) and the
// annotations it sends. The App's publisher and the CLI's markdown and
// github formats both render from it, so they cannot disagree.
type Posted struct {
	Title       string
	Summary     string
	Annotations []Annotation
	// Cut says in plain text what the App leaves out of this run (the
	// summary's own cuts, and annotations beyond the cap); empty when
	// nothing.
	Cut []string
}

// Post applies GitHub's limits and the annotation cap (0: the default)
// to a check run.
func Post(c Check, maxAnnotations int) Posted {
	if maxAnnotations <= 0 {
		maxAnnotations = DefaultMaxAnnotations
	}
	p := Posted{Title: clipRunes(c.Title, MaxTitle), Summary: c.Summary, Cut: append([]string{}, c.Details.Cut...)}
	all := c.Annotations()
	for _, a := range all {
		a.Title = clipRunes(a.Title, MaxTitle)
		a.Message = clipRunes(a.Message, MaxAnnotationMessage)
		p.Annotations = append(p.Annotations, a)
	}
	if len(p.Annotations) > maxAnnotations {
		cut := all[maxAnnotations:]
		p.Summary = appendNote(p.Summary, annotationsCutNote(cut, maxAnnotations))
		p.Annotations = p.Annotations[:maxAnnotations]
		p.Cut = append(p.Cut, fmt.Sprintf("the App posts %d of %d annotations (max_annotations: %d); the summary counts the rest", maxAnnotations, len(all), maxAnnotations))
	}
	if p.Title != c.Title {
		p.Cut = append(p.Cut, fmt.Sprintf("the title is cut at GitHub's %d characters", MaxTitle))
	}
	return p
}

// annotationsCutNote counts, by title (kind or rule) and file, the
// annotations beyond the cap.
func annotationsCutNote(cut []Annotation, limit int) string {
	byTitle := map[string]int{}
	byFile := map[string]int{}
	for _, a := range cut {
		byTitle[a.Title]++
		byFile[a.Path]++
	}
	return fmt.Sprintf("%d more annotations beyond the first %d are not shown (by rule or kind: %s; by file: %s). Run `housekeeper check` locally for all of them.",
		len(cut), limit, countList(byTitle, annotationsCutMostListed), countList(byFile, annotationsCutMostListed))
}

// countList lists the most frequent keys first, "key n", at most most.
func countList(m map[string]int, most int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var s string
	for i, k := range keys {
		if i == most {
			s += fmt.Sprintf(", and %d more", len(keys)-most)
			break
		}
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", k, m[k])
	}
	return s
}

// appendNote adds a quoted note to a summary, cutting the summary rather
// than the note when both do not fit.
func appendNote(summary, note string) string {
	s := summary + "\n\n> " + note + "\n"
	if len(s) > MaxText {
		return clipRunes(summary, MaxText-len(note)-8) + "\n\n> " + note + "\n"
	}
	return s
}

// clipRunes shortens s to at most n bytes on a rune boundary.
func clipRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
