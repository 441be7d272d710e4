package blind

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// Finding is what the evaluation needs of a scanner's finding; it is filled
// from the engine's findings or from `housekeeper check --format json`.
type Finding struct {
	Rule     string `json:"rule"`
	Kind     string `json:"kind"`
	Tier     string `json:"tier"`
	Path     string `json:"path"`
	Line     int    `json:"line"`
	Redacted string `json:"redacted"`
	Message  string `json:"message"`
}

// messageWants names, per family, what a finding's message must say: the
// issue's infrastructure cases must name whose credential it is.
var messageWants = map[string]string{
	"atlantis": "Atlantis",
}

// FamilyScore is one family's figures.
type FamilyScore struct {
	Family    string
	Positives int // labelled positive lines
	Found     int // positives with a finding on their line(s) or a file finding
	ByFile    int // of Found, those seen only through a file rule
	TierOK    int // of Found, those whose finding has the expected tier
	MsgWant   int // of Found, those whose family expects words in the message
	MsgOK     int // of MsgWant, those whose message has them
	Negatives int // labelled negative lines
	Flagged   int // negatives with a finding
}

// Recall is Found/Positives (1 when there are no positives).
func (s FamilyScore) Recall() float64 { return ratio(s.Found, s.Positives) }

// Precision is Found/(Found+Flagged) over the family's labelled lines.
func (s FamilyScore) Precision() float64 { return ratio(s.Found, s.Found+s.Flagged) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Miss is a positive no finding covered, or a finding with the wrong tier.
type Miss struct {
	Label Label
	Got   string // the tier found, for a tier miss
}

// Alarm is a finding on no positive: on a labelled negative (Label set) or
// on an unlabelled line.
type Alarm struct {
	Finding Finding
	Label   *Label
}

// Report is an evaluation's outcome.
type Report struct {
	Families   []FamilyScore
	Total      FamilyScore
	Findings   int // findings considered (suppressed ones are not passed in)
	Neutral    int // findings on neutral lines, counted neither way
	OnPositive int // findings that cover a positive (by line or file)
	Alarms     []Alarm
	Misses     []Miss
	TierMisses []Miss
	// MessageMisses are found positives whose message lacks what
	// messageWants asks of their family.
	MessageMisses []Miss
}

// Precision over all findings but the neutral ones: findings that cover a
// positive, out of all.
func (r *Report) Precision() float64 {
	return ratio(r.OnPositive, r.OnPositive+len(r.Alarms))
}

// Evaluate scores findings against the corpus's labels. A positive is
// found when a finding's line falls in its lines, or when a file rule
// flags its file (counted apart in ByFile). A finding on no positive is an
// alarm, labelled or not; a file finding is an alarm only in a file with
// no positive.
func Evaluate(c *Corpus, findings []Finding) *Report {
	byFile := map[string][]int{}
	for i, l := range c.Labels {
		byFile[l.File] = append(byFile[l.File], i)
	}
	lineHits := make([][]Finding, len(c.Labels))
	fileHits := map[string][]Finding{}
	r := &Report{Findings: len(findings)}
	for _, f := range findings {
		hit := -1
		for _, i := range byFile[f.Path] {
			l := c.Labels[i]
			if f.Line >= l.Line && f.Line <= l.EndLine {
				hit = i
				break
			}
		}
		if f.Kind == "file" {
			if hasPositive(c, byFile[f.Path]) {
				fileHits[f.Path] = append(fileHits[f.Path], f)
				r.OnPositive++
				continue
			}
		}
		if hit >= 0 && c.Labels[hit].Neutral {
			r.Neutral++
			continue
		}
		if hit >= 0 && c.Labels[hit].Positive {
			lineHits[hit] = append(lineHits[hit], f)
			r.OnPositive++
			continue
		}
		a := Alarm{Finding: f}
		if hit >= 0 {
			l := c.Labels[hit]
			a.Label = &l
		}
		r.Alarms = append(r.Alarms, a)
	}
	fam := map[string]*FamilyScore{}
	score := func(name string) *FamilyScore {
		if fam[name] == nil {
			fam[name] = &FamilyScore{Family: name}
		}
		return fam[name]
	}
	for i, l := range c.Labels {
		if l.Neutral {
			continue
		}
		s := score(l.Family)
		if !l.Positive {
			s.Negatives++
			continue
		}
		s.Positives++
		hits := lineHits[i]
		if len(hits) == 0 {
			hits = fileHits[l.File]
			if len(hits) > 0 {
				s.ByFile++
			}
		}
		if len(hits) == 0 {
			r.Misses = append(r.Misses, Miss{Label: l})
			continue
		}
		s.Found++
		if want, ok := messageWants[l.Family]; ok {
			s.MsgWant++
			if hasMessage(hits, want) {
				s.MsgOK++
			} else {
				r.MessageMisses = append(r.MessageMisses, Miss{Label: l, Got: "no " + want + " in the message"})
			}
		}
		if tiers(hits) == l.Tier {
			s.TierOK++
		} else {
			r.TierMisses = append(r.TierMisses, Miss{Label: l, Got: tiers(hits)})
		}
	}
	for _, a := range r.Alarms {
		if a.Label != nil {
			score(a.Label.Family).Flagged++
		}
	}
	names := make([]string, 0, len(fam))
	for n := range fam {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := *fam[n]
		r.Families = append(r.Families, s)
		r.Total.Positives += s.Positives
		r.Total.Found += s.Found
		r.Total.ByFile += s.ByFile
		r.Total.TierOK += s.TierOK
		r.Total.MsgWant += s.MsgWant
		r.Total.MsgOK += s.MsgOK
		r.Total.Negatives += s.Negatives
		r.Total.Flagged += s.Flagged
	}
	r.Total.Family = "total"
	return r
}

// hasMessage looks for want in the part of a message that is the
// finding's own: its description and its context note (Finding.Context,
// which the engine writes after the " [rule, tier]." label), not the label
// and not the remediation that every finding of a tier shares (it names
// the Atlantis environment for every Tier 1 finding).
func hasMessage(fs []Finding, want string) bool {
	for _, f := range fs {
		own := f.Message
		for _, r := range []string{secrets.RemediationBootstrap, secrets.RemediationRuntime} {
			own = strings.ReplaceAll(own, r, "")
		}
		if i := strings.Index(own, " ["); i >= 0 {
			if j := strings.Index(own[i:], "]"); j >= 0 {
				own = own[:i] + own[i+j+1:]
			}
		}
		if strings.Contains(strings.ToLower(own), strings.ToLower(want)) {
			return true
		}
	}
	return false
}

func hasPositive(c *Corpus, idx []int) bool {
	for _, i := range idx {
		if c.Labels[i].Positive {
			return true
		}
	}
	return false
}

// tiers is the tier the findings give a value: the line's own finding
// first; where several findings disagree, both are named (never right).
func tiers(fs []Finding) string {
	seen := map[string]bool{}
	var out []string
	for _, f := range fs {
		if !seen[f.Tier] {
			seen[f.Tier] = true
			out = append(out, f.Tier)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "+")
}

// Print writes the report as plain text: a per-family table, the totals,
// then every miss, tier miss and false alarm (values redacted).
func (r *Report) Print(w io.Writer, verbose bool) {
	fmt.Fprintf(w, "%-22s %5s %5s %7s %6s %5s %5s %9s %7s\n", "family", "pos", "found", "recall", "tierOK", "neg", "flag", "precision", "byfile")
	row := func(s FamilyScore) {
		fmt.Fprintf(w, "%-22s %5d %5d %6.1f%% %6d %5d %5d %8.1f%% %7d\n", s.Family, s.Positives, s.Found, 100*s.Recall(), s.TierOK, s.Negatives, s.Flagged, 100*s.Precision(), s.ByFile)
	}
	for _, s := range r.Families {
		row(s)
	}
	row(r.Total)
	unl := 0
	for _, a := range r.Alarms {
		if a.Label == nil {
			unl++
		}
	}
	fmt.Fprintf(w, "\nrecall %.1f%% (%d/%d positives; %d only through a file rule)\n", 100*r.Total.Recall(), r.Total.Found, r.Total.Positives, r.Total.ByFile)
	fmt.Fprintf(w, "negatives flagged %.1f%% (%d/%d)\n", 100*ratio(r.Total.Flagged, r.Total.Negatives), r.Total.Flagged, r.Total.Negatives)
	fmt.Fprintf(w, "precision %.1f%% (%d of %d findings on a positive; %d false alarms: %d on labelled negatives, %d on unlabelled lines; %d on neutral lines not counted)\n",
		100*r.Precision(), r.OnPositive, r.OnPositive+len(r.Alarms), len(r.Alarms), len(r.Alarms)-unl, unl, r.Neutral)
	fmt.Fprintf(w, "tier accuracy %.1f%% (%d/%d found positives with the expected tier)\n", 100*ratio(r.Total.TierOK, r.Total.Found), r.Total.TierOK, r.Total.Found)
	fmt.Fprintf(w, "messages %d/%d found positives name their context (%s)\n", r.Total.MsgOK, r.Total.MsgWant, wants())
	if !verbose {
		return
	}
	fmt.Fprintf(w, "\nmisses (%d):\n", len(r.Misses))
	for _, m := range r.Misses {
		fmt.Fprintf(w, "  %s:%d  %s (%s) %s\n", m.Label.File, m.Label.Line, m.Label.Family, m.Label.Tier, m.Label.Redacted)
	}
	fmt.Fprintf(w, "\ntier misses (%d):\n", len(r.TierMisses))
	for _, m := range r.TierMisses {
		fmt.Fprintf(w, "  %s:%d  %s want %s got %s\n", m.Label.File, m.Label.Line, m.Label.Family, m.Label.Tier, m.Got)
	}
	fmt.Fprintf(w, "\nmessage misses (%d):\n", len(r.MessageMisses))
	for _, m := range r.MessageMisses {
		fmt.Fprintf(w, "  %s:%d  %s: %s\n", m.Label.File, m.Label.Line, m.Label.Family, m.Got)
	}
	fmt.Fprintf(w, "\nfalse alarms (%d):\n", len(r.Alarms))
	for _, a := range r.Alarms {
		why := "unlabelled line"
		if a.Label != nil {
			why = "negative " + a.Label.Family + ": " + a.Label.Why
		}
		fmt.Fprintf(w, "  %s:%d  %s (%s) %s — %s\n", a.Finding.Path, a.Finding.Line, a.Finding.Rule, a.Finding.Tier, a.Finding.Redacted, why)
	}
}

func wants() string {
	var out []string
	for f, w := range messageWants {
		out = append(out, f+": "+w)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// Markdown writes the per-family table and the totals as Markdown, for
// docs/secrets.md.
func (r *Report) Markdown(w io.Writer) {
	fmt.Fprintln(w, "| Family | Positives | Found | Recall | Right tier | Negatives | Flagged | Precision |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|")
	row := func(s FamilyScore) {
		fmt.Fprintf(w, "| %s | %d | %d | %.1f%% | %d | %d | %d | %.1f%% |\n", s.Family, s.Positives, s.Found, 100*s.Recall(), s.TierOK, s.Negatives, s.Flagged, 100*s.Precision())
	}
	for _, s := range r.Families {
		row(s)
	}
	t := r.Total
	t.Family = "**total**"
	row(t)
	fmt.Fprintf(w, "\nRecall %.1f%% (%d/%d), negatives flagged %.1f%% (%d/%d), precision over all findings %.1f%% (%d/%d), tier accuracy %.1f%% (%d/%d), context in the message %d/%d.\n",
		100*r.Total.Recall(), r.Total.Found, r.Total.Positives,
		100*ratio(r.Total.Flagged, r.Total.Negatives), r.Total.Flagged, r.Total.Negatives,
		100*r.Precision(), r.OnPositive, r.OnPositive+len(r.Alarms),
		100*ratio(r.Total.TierOK, r.Total.Found), r.Total.TierOK, r.Total.Found, r.Total.MsgOK, r.Total.MsgWant)
}
