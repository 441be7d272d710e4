package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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
	Size int64
	Open func() (io.ReadCloser, error)
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
	// Skipped lists files the user should know were not content-scanned:
	// too large, or unreadable. Binary, lock and minified files are
	// counted in Stats only.
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
	Lock         int64 `json:"lock"`
	Minified     int64 `json:"minified"`
}

// ScanTree scans every file from files in parallel (Options.Workers
// goroutines) with pooled buffers, so memory stays bounded by workers ×
// MaxFileSize. It stops early, returning ctx.Err(), when ctx is done, and
// returns a source's error (yielded with a zero File) as soon as it is
// seen.
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
				r.findings, r.reason, r.excluded, r.size, r.skipped = s.scanFile(f)
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
			case r.reason == SkipLockFile:
				res.Stats.Lock++
			case r.reason == SkipMinified:
				res.Stats.Minified++
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

var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// scanFile reads and scans one file with a pooled buffer.
func (s *Scanner) scanFile(f File) (findings []Finding, reason SkipReason, excluded bool, size int64, skipped *Skipped) {
	p := cleanPath(f.Path)
	if s.Excluded(p) {
		return nil, "", true, 0, nil
	}
	reason = contentScan(p, nil, f.Size, s.maxFileSize)
	fs := getFileScan(s)
	defer putFileScan(fs)
	if reason != "" {
		fs.run(p, nil, false)
		if reason == SkipTooLarge {
			skipped = &Skipped{Path: p, Reason: reason}
		}
		return s.findings(fs.resolve(), p), reason, false, 0, skipped
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	data, err := readFile(f, *bp, s.maxFileSize)
	if cap(data) <= 16<<20 {
		*bp = data[:0] // keep the grown buffer for the next file
	}
	if err != nil {
		fs.run(p, nil, false)
		r := SkipReadError
		if errors.Is(err, errTooLarge) {
			r = SkipTooLarge
		}
		return s.findings(fs.resolve(), p), r, false, 0, &Skipped{Path: p, Reason: r, Err: err}
	}
	if isBinary(data) {
		fs.run(p, nil, false)
		return s.findings(fs.resolve(), p), SkipBinary, false, 0, nil
	}
	fs.run(p, data, true)
	return s.findings(fs.resolve(), p), "", false, int64(len(data)), nil
}

var errTooLarge = errors.New("file grew past max_file_size while reading")

// readFile reads f into buf (reusing its capacity), refusing more than limit
// bytes whatever Size said.
func readFile(f File, buf []byte, limit int64) ([]byte, error) {
	if f.Open == nil {
		return buf[:0], fmt.Errorf("read %s: no content", f.Path)
	}
	rc, err := f.Open()
	if err != nil {
		return buf[:0], fmt.Errorf("open %s: %w", f.Path, err)
	}
	defer rc.Close()
	want := int(min(limit, max(f.Size, 0))) + 1
	if cap(buf) < want {
		buf = make([]byte, 0, want)
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return buf, errTooLarge
			}
			buf = slices.Grow(buf, min(len(buf), int(limit)+1-len(buf))+1)
		}
		n, err := rc.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf, errTooLarge
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, fmt.Errorf("read %s: %w", f.Path, err)
		}
	}
}
