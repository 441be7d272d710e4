package secrets

import (
	"bytes"
	"context"
	"fmt"
	"io"
	iofs "io/fs"
	"iter"
	"slices"
	"strings"
	"sync"
)

// File is one regular file of a tree. Open is called at most once, from a
// worker goroutine, possibly after the source has moved on to later files:
// a sequential source (a tar stream) should read the content itself and
// use ContentFile. Sources pass regular files only (never symlinks); the
// engine opens nothing by itself.
type File struct {
	Path string // repository-relative, forward slashes
	// Size is -1 when the source learns it only by opening the file (a
	// directory walk that reads names alone): the engine then takes it
	// from the opened reader's Stat method, as an *os.File has, and skips
	// a file too large as it would one whose size was given.
	Size int64
	Open func() (io.ReadCloser, error)
	// Done, when set, is called once the engine is finished with the file
	// (read, or never opened): a sequential source may then stream a large
	// file through Open and wait for Done before it moves on.
	Done func()
}

// ContentFile is a File whose content is already in memory.
func ContentFile(path string, content []byte) File {
	return File{
		Path: path,
		Size: int64(len(content)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil },
	}
}

// Skipped is a file whose content was not scanned, and why.
type Skipped struct {
	Path   string     `json:"path"`
	Reason SkipReason `json:"reason"`
	// Err is set for SkipReadError.
	Err error `json:"-"`
}

// TreeResult is a whole-tree scan's outcome.
type TreeResult struct {
	// Findings are sorted by path, line and column; one per fingerprint.
	Findings []Finding
	// Skipped lists the files whose content was not (fully) scanned: too
	// large, unreadable, cut by the deadline (these fail a run) and binary
	// (listed, not failing).
	Skipped []Skipped
	Stats   TreeStats
}

// TreeStats counts what a tree scan did.
type TreeStats struct {
	Files        int64 `json:"files"`
	ScannedFiles int64 `json:"scanned_files"`
	Bytes        int64 `json:"bytes"`
	Excluded     int64 `json:"excluded"`
	Binary       int64 `json:"binary"`
}

// ScanTree scans every file from files in parallel (Options.Workers
// goroutines), each streamed through a pooled window, so memory stays
// bounded by the number of workers whatever the files' sizes. When ctx
// ends it stops early and returns what it found with an error wrapping
// ctx.Err() (the files cut short are in Skipped); it returns a source's
// error (yielded with a zero File) as soon as it is seen.
func (s *Scanner) ScanTree(ctx context.Context, files iter.Seq2[File, error]) (TreeResult, error) {
	type result struct {
		findings []Finding
		skipped  *Skipped
		reason   SkipReason
		excluded bool
		size     int64
	}
	jobs := make(chan File, s.workers)
	results := make(chan result, s.workers)
	var wg sync.WaitGroup
	for range s.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				var r result
				r.findings, r.reason, r.excluded, r.size, r.skipped = s.scanFile(ctx, f)
				if f.Done != nil {
					f.Done()
				}
				results <- r
			}
		}()
	}
	var res TreeResult
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := range results {
			res.Stats.Files++
			switch {
			case r.excluded:
				res.Stats.Excluded++
			case r.reason == "":
				res.Stats.ScannedFiles++
				res.Stats.Bytes += r.size
			case r.reason == SkipBinary:
				res.Stats.Binary++
			}
			if r.skipped != nil {
				res.Skipped = append(res.Skipped, *r.skipped)
			}
			res.Findings = append(res.Findings, r.findings...)
		}
	}()
	var srcErr error
	for f, err := range files {
		if err != nil {
			srcErr = err
			break
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case jobs <- f:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	close(results)
	<-done
	if srcErr != nil {
		return res, fmt.Errorf("scan tree: %w", srcErr)
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("scan tree: %w", err)
	}
	slices.SortFunc(res.Findings, func(a, b Finding) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		if a.Column != b.Column {
			return a.Column - b.Column
		}
		return strings.Compare(a.RuleID, b.RuleID)
	})
	slices.SortFunc(res.Skipped, func(a, b Skipped) int { return strings.Compare(a.Path, b.Path) })
	res.Findings = Dedupe(res.Findings)
	return res, nil
}

// scanFile streams and scans one file.
func (s *Scanner) scanFile(ctx context.Context, f File) (findings []Finding, reason SkipReason, excluded bool, size int64, skipped *Skipped) {
	p := cleanPath(f.Path)
	if s.Excluded(p) {
		return nil, "", true, 0, nil
	}
	fs := getFileScan(s)
	defer putFileScan(fs)
	if f.Size > s.maxFileSize {
		fs.begin(ctx, p, false, false)
		return s.findings(fs, p), SkipTooLarge, false, 0, &Skipped{Path: p, Reason: SkipTooLarge}
	}
	if err := ctx.Err(); err != nil {
		fs.begin(ctx, p, false, false)
		return s.findings(fs, p), SkipStopped, false, 0, &Skipped{Path: p, Reason: SkipStopped, Err: err}
	}
	var err error
	if f.Open == nil {
		err = fmt.Errorf("read %s: no content", f.Path)
	} else {
		var rc io.ReadCloser
		if rc, err = f.Open(); err == nil && f.Size < 0 && tooLarge(rc, s.maxFileSize) {
			rc.Close()
			fs.begin(ctx, p, false, false)
			return s.findings(fs, p), SkipTooLarge, false, 0, &Skipped{Path: p, Reason: SkipTooLarge}
		}
		if err == nil {
			cr := &countingReader{r: rc}
			reason, err = s.scanStream(ctx, fs, p, cr, s.maxFileSize)
			rc.Close()
			size = cr.n
		} else {
			err = fmt.Errorf("open %s: %w", f.Path, err)
		}
	}
	if err != nil && reason == "" {
		reason = SkipReadError
		fs.begin(ctx, p, false, false)
	}
	if reason != "" {
		skipped = &Skipped{Path: p, Reason: reason, Err: err}
		size = 0
	}
	return s.findings(fs, p), reason, false, size, skipped
}

// tooLarge reports whether an opened file of unknown size is over limit,
// when the reader can tell (a reader that cannot is read up to the limit).
func tooLarge(rc io.Reader, limit int64) bool {
	st, ok := rc.(interface{ Stat() (iofs.FileInfo, error) })
	if !ok {
		return false
	}
	info, err := st.Stat()
	return err == nil && info.Size() > limit
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
