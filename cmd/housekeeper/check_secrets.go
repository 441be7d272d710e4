package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path"
	"strings"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/checkout"
	"github.com/housekeeper-app/housekeeper/internal/checkrun"
	"github.com/housekeeper-app/housekeeper/internal/config"
	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// checkSecrets runs housekeeper/secrets: the whole tree in an audit, every
// commit's added lines with --base (as for a pull request), the staged
// change with --staged.
func checkSecrets(ctx context.Context, repo *checkout.Repo, ch *change, cfg *config.Config, newScanner func() (*secrets.Scanner, error), o checkOpts, stderr io.Writer) (*checkrun.Check, error) {
	scanner, err := newScanner()
	if err != nil {
		return nil, fmt.Errorf("secrets rules: %w", err)
	}
	scan := checkrun.NewSecretsScan(scanner, ch.audit)
	listed := map[string]bool{} // binary files already listed as not scanned
	switch {
	case ch.audit:
		for _, n := range emptyCheckoutNotes(repo, ch) {
			scan.Note(n)
		}
		tick, clear := progress(stderr, ch.list)
		res, err := scanner.ScanTree(ctx, workingFiles(repo, ch.list.Stream(), tick))
		clear()
		if err != nil {
			return nil, err
		}
		scan.AddTree(res)
		scan.Allow(nil) // an audit honours every inline allow (no base to compare with)
	case o.staged:
		patch, err := repo.Patch(ctx, "")
		if err != nil {
			return nil, err
		}
		if err := addPatch(ctx, repo, scan, "", patch, "", true, listed); err != nil {
			return nil, err
		}
		scan.Allow(opener(ctx, repo, "HEAD", ch.baseExists))
	default:
		commits, err := repo.Commits(ctx, ch.base, ch.head)
		if err != nil {
			return nil, err
		}
		if len(commits) > cfg.Secrets.MaxCommits {
			scan.Note(fmt.Sprintf("This change has %d commits, more than `max_commits` (%d): the net diff was scanned instead of each commit.", len(commits), cfg.Secrets.MaxCommits))
			patch, err := repo.RangePatch(ctx, ch.base, ch.head)
			if err != nil {
				return nil, err
			}
			if err := addPatch(ctx, repo, scan, "", patch, ch.head, true, listed); err != nil {
				return nil, err
			}
		} else {
			for i, c := range commits {
				if len(c.Parents) > 1 {
					continue // a merge's content comes from other commits
				}
				patch, err := repo.CommitPatch(ctx, c)
				if err != nil {
					return nil, err
				}
				if err := addPatch(ctx, repo, scan, c.SHA, patch, c.SHA, i == len(commits)-1, listed); err != nil {
					return nil, err
				}
			}
		}
		scan.Locate(ctx, opener(ctx, repo, ch.head, true))
		scan.Allow(opener(ctx, repo, ch.base, true))
	}
	c := checkrun.Secrets(checkrun.SecretsInput{Scan: scan, Config: cfg, ConfigSource: cfg.Source})
	return &c, nil
}

// addPatch scans one diff as git streams it, one file at a time: memory
// holds a file's lines up to diffBudget, never the patch. A file whose
// diff is larger is scanned whole from its new blob, every line counting
// as added (as the App does when GitHub shows no patch). YAML files are
// read whole at rev, up to structuralLimit, since structural rules
// (Kubernetes Secrets, Helm values) need the document. Binary files (a NUL
// byte in the first 8 KiB, as the App decides) are not content-scanned:
// their names still count, and they are listed once as not scanned.
func addPatch(ctx context.Context, repo *checkout.Repo, scan *checkrun.SecretsScan, sha string, patch *checkout.Patch, rev string, head bool, listed map[string]bool) error {
	_ = scan.AddCommit(ctx, sha, nil, nil, head) // counts the commit; the files follow
	rc := patch.Open(ctx)
	defer rc.Close()
	dr := secrets.NewDiffReader(rc, diffBudget)
	for {
		d, err := dr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("read diff of %s: %w", orIndex(sha), err)
		}
		var content []byte
		switch {
		case d.Truncated && d.NewPath != "":
			if blob, ok := patch.NewBlob(d.NewPath); ok {
				d.Open = func() (io.ReadCloser, error) { return repo.OpenBlob(ctx, blob), nil }
			} else {
				// Never scan part of a file silently.
				d.Open = func() (io.ReadCloser, error) {
					return nil, errors.New("its diff is too large and its content was not found")
				}
			}
		case d.NewPath != "" && !d.Binary && wholeFileNeeded(d.NewPath):
			content = readUpTo(ctx, repo, rev, d.NewPath, structuralLimit)
		}
		// A deadline (interrupt) is recorded in the scan, which then fails.
		if err := scan.AddDiff(ctx, sha, d, content, head); err != nil {
			return ctx.Err()
		}
	}
	for _, b := range patch.Binary {
		if !listed[b] && !scan.Scanner.Excluded(b) {
			listed[b] = true
			scan.AddSkipped(secrets.Skipped{Path: b, Reason: secrets.SkipBinary})
		}
		if err := scan.AddDiff(ctx, sha, secrets.FileDiff{NewPath: b, Binary: true}, nil, head); err != nil {
			return ctx.Err()
		}
	}
	return ctx.Err()
}

// diffBudget bounds the bytes of one file's diff held at a time: the
// scanner's own window, within which a file is scanned whole.
const diffBudget = 4 << 20

// structuralLimit: the largest document structural rules read (as the
// App's).
const structuralLimit = 4 << 20

// readUpTo reads a file at rev ("" for the index) if it is no larger than
// limit; nil otherwise (its added lines are then scanned on their own).
func readUpTo(ctx context.Context, repo *checkout.Repo, rev, p string, limit int) []byte {
	rc, ok := repo.OpenAt(ctx, rev, p)
	if !ok {
		return nil
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, int64(limit)+1))
	if err != nil || len(data) > limit {
		return nil
	}
	return data
}

func orIndex(sha string) string {
	if sha == "" {
		return "the index"
	}
	return sha
}

// wholeFileNeeded names the files whose structural rules read the whole
// document rather than the added lines alone.
func wholeFileNeeded(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".yaml", ".yml":
		return true
	}
	return false
}

// opener streams files at a revision ("" for the index); exists false
// (no commit yet) finds none.
func opener(ctx context.Context, repo *checkout.Repo, rev string, exists bool) func(string) (io.ReadCloser, bool) {
	return func(p string) (io.ReadCloser, bool) {
		if !exists {
			return nil, false
		}
		return repo.OpenAt(ctx, rev, p)
	}
}

// workingFiles feeds the working tree's regular files to the scanner as
// they are listed; symbolic links are never opened. A plain directory's
// listing gives no sizes (-1): the scanner learns them from the open file,
// opened without a second look at what the listing saw (OpenListed).
func workingFiles(repo *checkout.Repo, files iter.Seq2[checkout.File, error], tick func()) iter.Seq2[secrets.File, error] {
	return func(yield func(secrets.File, error) bool) {
		for f, err := range files {
			if err != nil {
				yield(secrets.File{}, err)
				return
			}
			tick()
			if !f.Regular {
				continue
			}
			p := f.Path
			if !yield(secrets.File{Path: p, Size: f.Size, Open: func() (io.ReadCloser, error) { return repo.OpenListed(p) }}, nil) {
				return
			}
		}
	}
}

// progress reports a long scan's advance on a terminal, never in pipes:
// tick counts a file handed to the scanner, clear wipes the line at the
// end. The total grows while the walk goes on.
func progress(w io.Writer, list *checkout.Listing) (tick, clear func()) {
	f, ok := w.(*os.File)
	if !ok {
		return func() {}, func() {}
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return func() {}, func() {}
	}
	return newProgress(w, list.Count, time.Now)
}

// newProgress writes "scanning n/total files" at most every 200 ms, the
// first after 200 ms (a small tree never shows it).
func newProgress(w io.Writer, count func() (int, bool), now func() time.Time) (tick, clear func()) {
	n, shown := 0, false
	last := now()
	tick = func() {
		n++
		if t := now(); t.Sub(last) >= 200*time.Millisecond {
			last, shown = t, true
			total, done := count()
			more := "+"
			if done {
				more = ""
			}
			fmt.Fprintf(w, "\rscanning %d/%d%s files", n, total, more)
		}
	}
	clear = func() {
		if shown {
			fmt.Fprint(w, "\r\033[K")
		}
	}
	return tick, clear
}

func writeSARIF(w io.Writer, r checkrun.Report, rules []checkrun.RuleMeta) error {
	return checkrun.WriteSARIF(w, r, rules, version)
}
