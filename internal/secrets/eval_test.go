package secrets_test

import (
	"context"
	"fmt"
	"iter"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

// Evaluation scores the engine on a generated corpus.
type Evaluation struct {
	Planted, Found, TruePositives, Recalled int
	Misses, FalsePositives, WrongTier       []string
}

func (e Evaluation) Recall() float64    { return ratio(e.Recalled, e.Planted) }
func (e Evaluation) Precision() float64 { return ratio(e.TruePositives, e.Found) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func evaluate(t testing.TB, c corpus.Corpus) Evaluation {
	t.Helper()
	s := newScanner(t, secrets.Options{})
	res, err := s.ScanTree(context.Background(), corpusFiles(c))
	if err != nil {
		t.Fatalf("ScanTree: %v", err)
	}
	type key struct {
		path string
		line int
	}
	labels := map[key][]corpus.Label{}
	for _, l := range c.Labels {
		labels[key{l.Path, l.Line}] = append(labels[key{l.Path, l.Line}], l)
	}
	e := Evaluation{Planted: len(c.Labels), Found: len(res.Findings)}
	hit := map[corpus.Label]bool{}
	for _, f := range res.Findings {
		matched := false
		for _, l := range labels[key{f.Path, f.Line}] {
			if l.Rule != f.RuleID {
				continue
			}
			matched = true
			hit[l] = true
			if string(f.Tier) != l.Tier {
				e.WrongTier = append(e.WrongTier, fmt.Sprintf("%s:%d %s: tier %s, want %s", f.Path, f.Line, f.RuleID, f.Tier, l.Tier))
			}
		}
		if matched {
			e.TruePositives++
		} else {
			e.FalsePositives = append(e.FalsePositives, fmt.Sprintf("%s:%d %s", f.Path, f.Line, f.RuleID))
		}
	}
	for _, l := range c.Labels {
		if hit[l] {
			e.Recalled++
		} else {
			e.Misses = append(e.Misses, fmt.Sprintf("%s:%d %s", l.Path, l.Line, l.Rule))
		}
	}
	return e
}

func corpusFiles(c corpus.Corpus) iter.Seq2[secrets.File, error] {
	return func(yield func(secrets.File, error) bool) {
		for _, f := range c.Files {
			if !yield(secrets.ContentFile(f.Path, f.Content), nil) {
				return
			}
		}
	}
}

// TestEvaluationCorpus plants secrets of every rule in realistic files,
// next to look-alikes, and requires every planted finding found, at its
// expected tier, and nothing else: the corpus is the rules' own coverage
// (its figures for detection quality come from the blind and external
// corpora), so one missed plant or one look-alike reported is a bug.
func TestEvaluationCorpus(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			c := corpus.Generate(seed)
			e := evaluate(t, c)
			t.Logf("planted %d, found %d, recall %.3f, precision %.3f", e.Planted, e.Found, e.Recall(), e.Precision())
			for _, m := range e.Misses {
				t.Logf("miss: %s", m)
			}
			for _, fp := range e.FalsePositives {
				t.Logf("false positive: %s", fp)
			}
			for _, w := range e.WrongTier {
				t.Errorf("wrong tier: %s", w)
			}
			if len(e.Misses) > 0 || len(e.FalsePositives) > 0 {
				t.Errorf("recall %.3f, precision %.3f: want 1 each (%d missed, %d false positives)", e.Recall(), e.Precision(), len(e.Misses), len(e.FalsePositives))
			}
		})
	}
}

// TestCorpusCoversEveryRule: every embedded rule has a planted finding.
func TestCorpusCoversEveryRule(t *testing.T) {
	c := corpus.Generate(1)
	planted := map[string]bool{}
	for _, l := range c.Labels {
		planted[l.Rule] = true
	}
	s := newScanner(t, secrets.Options{})
	for _, r := range s.Rules().Rules() {
		if !planted[r.ID] {
			t.Errorf("rule %s has no planted finding in the corpus", r.ID)
		}
	}
}
