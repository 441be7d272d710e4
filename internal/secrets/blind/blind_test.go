package blind

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

var update = flag.Bool("update", false, "rewrite testdata/manifest.json")

// The manifest is the reviewable list of labels; it must match what the
// templates say.
func TestManifestGolden(t *testing.T) {
	c, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	// One label a line, so that a review reads it as a table.
	got := []byte("[\n")
	for i, l := range c.Labels {
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b...)
		if i < len(c.Labels)-1 {
			got = append(got, ',')
		}
		got = append(got, '\n')
	}
	got = append(got, "]\n"...)
	const golden = "testdata/manifest.json"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./internal/secrets/blind/ -update", golden)
	}
}

func TestBuildDeterministic(t *testing.T) {
	a, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	for p, data := range a.Files {
		if !bytes.Equal(data, b.Files[p]) {
			t.Errorf("%s differs between two builds", p)
		}
	}
}

// Every label points at a line that exists, and a positive's line holds the
// start of its planted value.
func TestLabelsPointAtLines(t *testing.T) {
	c, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	var pos, neg int
	for _, l := range c.Labels {
		lines := strings.Split(string(c.Files[l.File]), "\n")
		if l.Line < 1 || l.EndLine > len(lines) || l.EndLine < l.Line {
			t.Errorf("%s:%d-%d: outside the file's %d lines", l.File, l.Line, l.EndLine, len(lines))
			continue
		}
		text := lines[l.Line-1]
		if strings.TrimSpace(text) == "" {
			t.Errorf("%s:%d: labelled line is blank", l.File, l.Line)
		}
		if l.Positive {
			pos++
			if l.Tier != Bootstrap && l.Tier != Runtime {
				t.Errorf("%s:%d: tier %q", l.File, l.Line, l.Tier)
			}
			if p := strings.TrimSuffix(l.Redacted, "…"); !strings.Contains(text, p) {
				t.Errorf("%s:%d: line does not hold the value starting %q", l.File, l.Line, p)
			}
		} else if !l.Neutral {
			neg++
		}
		if strings.Contains(text, "@@") {
			t.Errorf("%s:%d: directive left in the output", l.File, l.Line)
		}
	}
	// A corpus this small would not measure anything.
	if pos < 250 || neg < 100 {
		t.Errorf("corpus has %d positives and %d negatives; want at least 250 and 100", pos, neg)
	}
}

// The evaluator on a hand-built corpus: every way a finding can count.
func TestEvaluate(t *testing.T) {
	c := &Corpus{
		Files: map[string][]byte{"a.env": nil, "b.yaml": nil, "c.p12": nil, "d.txt": nil, "e.txt": nil},
		Labels: []Label{
			{File: "a.env", Line: 1, EndLine: 1, Positive: true, Family: "aws", Tier: Bootstrap},
			{File: "a.env", Line: 2, EndLine: 4, Positive: true, Family: "key", Tier: Bootstrap},
			{File: "a.env", Line: 5, EndLine: 5, Positive: true, Family: "aws", Tier: Bootstrap},
			{File: "b.yaml", Line: 1, EndLine: 1, Family: "aws", Why: "example"},
			{File: "b.yaml", Line: 2, EndLine: 2, Neutral: true, Family: "k8s", Why: "by design"},
			{File: "c.p12", Line: 1, EndLine: 1, Positive: true, Family: "keystore", Tier: Runtime},
			{File: "d.txt", Line: 1, EndLine: 1, Positive: true, Family: "atlantis", Tier: Bootstrap},
			{File: "d.txt", Line: 2, EndLine: 2, Positive: true, Family: "atlantis", Tier: Bootstrap},
		},
	}
	fs := []Finding{
		{Path: "a.env", Line: 1, Tier: "bootstrap", Kind: "secret"},
		{Path: "a.env", Line: 3, Tier: "runtime", Kind: "secret"},  // inside the block, wrong tier
		{Path: "b.yaml", Line: 1, Tier: "runtime", Kind: "secret"}, // on a negative
		{Path: "b.yaml", Line: 2, Tier: "runtime", Kind: "secret"}, // neutral
		{Path: "c.p12", Line: 0, Tier: "bootstrap", Kind: "file"},  // file rule, wrong tier
		// The context note follows the label, as Finding.Message writes it.
		{Path: "d.txt", Line: 1, Tier: "bootstrap", Kind: "secret", Message: "GitHub token (ghp_…) [github-pat, Tier 1 — bootstrap]. Atlantis's GitHub token (`github.token`). " + secrets.RemediationBootstrap},
		{Path: "d.txt", Line: 2, Tier: "bootstrap", Kind: "secret", Message: "GitHub token (ghp_…) [github-pat, Tier 1 — bootstrap]. " + secrets.RemediationBootstrap}, // "Atlantis" only in the shared remediation
		{Path: "d.txt", Line: 7, Tier: "runtime", Kind: "secret"}, // unlabelled
		{Path: "e.txt", Line: 0, Tier: "runtime", Kind: "file"},   // file rule, no positive
	}
	r := Evaluate(c, fs)
	tot := r.Total
	if tot.Positives != 6 || tot.Found != 5 || tot.ByFile != 1 || tot.TierOK != 3 || tot.Negatives != 1 || tot.Flagged != 1 || tot.MsgWant != 2 || tot.MsgOK != 1 {
		t.Errorf("total = %+v", tot)
	}
	if len(r.Misses) != 1 || r.Misses[0].Label.Line != 5 {
		t.Errorf("misses = %+v", r.Misses)
	}
	if len(r.TierMisses) != 2 || len(r.Alarms) != 3 || r.Neutral != 1 || r.OnPositive != 5 || len(r.MessageMisses) != 1 {
		t.Errorf("tier misses %d, alarms %d, neutral %d, on positive %d, message misses %d", len(r.TierMisses), len(r.Alarms), r.Neutral, r.OnPositive, len(r.MessageMisses))
	}
	if got := r.Precision(); got != 5.0/8 {
		t.Errorf("precision = %v, want 5/8", got)
	}
}

// Regression floors, set below the figures measured when the corpus was
// written (see docs/secrets.md, "How detection is measured"): the engine
// may improve freely; a change that makes it worse on the blind corpus
// fails here.
const (
	floorRecall    = 0.70
	floorPrecision = 0.93
	floorTier      = 0.82
	floorMessage   = 1.0 // every Atlantis value names Atlantis
)

func TestEngineOnBlindCorpus(t *testing.T) {
	c, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Scan(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	r := Evaluate(c, fs)
	var buf bytes.Buffer
	r.Print(&buf, true)
	t.Log("\n" + buf.String())

	var pos int
	for _, l := range c.Labels {
		if l.Positive {
			pos++
		}
	}
	tot := r.Total
	if tot.Positives != pos || tot.Found+len(r.Misses) != pos || tot.TierOK+len(r.TierMisses) != tot.Found || tot.MsgOK+len(r.MessageMisses) != tot.MsgWant {
		t.Errorf("counts do not add up: %+v, %d misses, %d tier misses, %d positive labels", tot, len(r.Misses), len(r.TierMisses), pos)
	}
	if r.OnPositive+r.Neutral+len(r.Alarms) != r.Findings || r.Findings != len(fs) {
		t.Errorf("findings do not add up: %d on positives + %d neutral + %d alarms != %d", r.OnPositive, r.Neutral, len(r.Alarms), r.Findings)
	}
	for _, f := range fs {
		if _, ok := c.Files[f.Path]; !ok {
			t.Errorf("finding on %s, not a corpus file", f.Path)
		}
	}
	if got := tot.Recall(); got < floorRecall {
		t.Errorf("recall %.3f below the floor %.2f", got, floorRecall)
	}
	if got := r.Precision(); got < floorPrecision {
		t.Errorf("precision %.3f below the floor %.2f", got, floorPrecision)
	}
	if got := ratio(tot.MsgOK, tot.MsgWant); got < floorMessage {
		t.Errorf("context in messages %.3f below the floor %.2f", got, floorMessage)
	}
	if got := ratio(tot.TierOK, tot.Found); got < floorTier {
		t.Errorf("tier accuracy %.3f below the floor %.2f", got, floorTier)
	}
}
