package main

import (
	"bytes"
	"context"
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
		res, err := scanner.ScanTree(ctx, workingFiles(repo, ch.files, progress(stderr, len(ch.files))))
		if err != nil {
			return nil, err
		}
		scan.AddTree(res)
	case o.staged:
		patch, err := repo.Patch(ctx, "")
		if err != nil {
			return nil, err
		}
		if err := addPatch(ctx, repo, scan, "", patch, "", true, listed); err != nil {
			return nil, err
		}
		scan.Allow(opener(reader(ctx, repo, "HEAD", ch.baseExists)))
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
		scan.Locate(ctx, opener(reader(ctx, repo, ch.head, true)))
		scan.Allow(opener(reader(ctx, repo, ch.base, true)))
	}
	c := checkrun.Secrets(checkrun.SecretsInput{Scan: scan, Config: cfg, ConfigSource: cfg.Source})
	return &c, nil
}

// addPatch scans one diff; YAML files are read whole at rev, since
// structural rules (Kubernetes Secrets, Helm values) need the document.
// Binary files (a NUL byte in the first 8 KiB, as the App decides) are not
// content-scanned: their names still count, and they are listed once as
// not scanned.
func addPatch(ctx context.Context, repo *checkout.Repo, scan *checkrun.SecretsScan, sha string, patch *checkout.Patch, rev string, head bool, listed map[string]bool) error {
	diffs, err := secrets.ParseDiff(patch.Text)
	if err != nil {
		return fmt.Errorf("read diff of %s: %w", orIndex(sha), err)
	}
	for _, b := range patch.Binary {
		diffs = append(diffs, secrets.FileDiff{NewPath: b, Binary: true})
		if !listed[b] && !scan.Scanner.Excluded(b) {
			listed[b] = true
			scan.AddSkipped(secrets.Skipped{Path: b, Reason: secrets.SkipBinary})
		}
	}
	content := func(p string) []byte {
		if !wholeFileNeeded(p) {
			return nil
		}
		data, ok, err := repo.ReadAt(ctx, rev, p)
		if err != nil || !ok {
			return nil
		}
		return data
	}
	// A deadline (interrupt) is recorded in the scan, which then fails.
	_ = scan.AddCommit(ctx, sha, diffs, content, head)
	return ctx.Err()
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

func reader(ctx context.Context, repo *checkout.Repo, rev string, exists bool) func(string) ([]byte, bool) {
	return func(p string) ([]byte, bool) {
		if !exists {
			return nil, false
		}
		data, ok, err := repo.ReadAt(ctx, rev, p)
		return data, err == nil && ok
	}
}

// opener adapts a reader of whole files to the streams the scan reads.
func opener(read func(string) ([]byte, bool)) func(string) (io.ReadCloser, bool) {
	return func(p string) (io.ReadCloser, bool) {
		data, ok := read(p)
		if !ok {
			return nil, false
		}
		return io.NopCloser(bytes.NewReader(data)), true
	}
}

// workingFiles feeds the working tree's regular files to the scanner;
// symbolic links are never opened.
func workingFiles(repo *checkout.Repo, files []checkout.File, tick func()) iter.Seq2[secrets.File, error] {
	return func(yield func(secrets.File, error) bool) {
		for _, f := range files {
			if tick != nil {
				tick()
			}
			if !f.Regular {
				continue
			}
			p := f.Path
			if !yield(secrets.File{Path: p, Size: f.Size, Open: func() (io.ReadCloser, error) { return repo.OpenWorking(p) }}, nil) {
				return
			}
		}
	}
}

// progress reports a long scan's advance on a terminal, never in pipes.
func progress(w io.Writer, total int) func() {
	f, ok := w.(*os.File)
	if !ok || total < 2000 {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	n := 0
	last := time.Now()
	return func() {
		n++
		if time.Since(last) > 200*time.Millisecond || n == total {
			last = time.Now()
			fmt.Fprintf(w, "\rscanning %d/%d files", n, total)
			if n == total {
				fmt.Fprint(w, "\r\033[K")
			}
		}
	}
}

func writeSARIF(w io.Writer, r checkrun.Report, rules []checkrun.RuleMeta) error {
	return checkrun.WriteSARIF(w, r, rules, version)
}
