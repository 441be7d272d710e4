package blind

import (
	"context"
	"iter"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// Scan runs the embedded engine over the corpus the way a whole-tree audit
// (`housekeeper check` without --base) does: ScanTree with the default
// options, suppressed findings left out.
func Scan(ctx context.Context, c *Corpus) ([]Finding, error) {
	s, err := secrets.New(secrets.Options{})
	if err != nil {
		return nil, err
	}
	files := func(yield func(secrets.File, error) bool) {
		for _, p := range c.Paths() {
			if !yield(secrets.ContentFile(p, c.Files[p]), nil) {
				return
			}
		}
	}
	res, err := s.ScanTree(ctx, iter.Seq2[secrets.File, error](files))
	if err != nil {
		return nil, err
	}
	out := make([]Finding, 0, len(res.Findings))
	for _, f := range res.Findings {
		if f.Suppressed {
			continue
		}
		out = append(out, Finding{Rule: f.RuleID, Kind: string(f.Kind), Tier: string(f.Tier), Path: f.Path, Line: f.Line, Redacted: f.Redacted, Message: f.Message()})
	}
	return out, nil
}
