package secrets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Streaming: a file up to wholeLimit is held whole (structural rules and
// SOPS detection read the document); a larger one is scanned through a
// window of that size, so memory per file is bounded whatever its size.
// The window keeps lookBehind bytes before, and lookAhead bytes after, the
// hits it evaluates: more than any rule's window, PEM block or context
// reaches.
const (
	wholeLimit = maxStructuralSize
	lookBehind = 64 << 10
	lookAhead  = 128 << 10
)

var windowPool = sync.Pool{New: func() any { b := make([]byte, wholeLimit+1); return &b }}

// scanStream scans a file read from r into fs (begun by it), all of whose
// lines count. It returns why the content was not (fully) scanned, "" when
// it was. A file over limit is scanned up to limit and reported too large;
// a read error keeps what was found before it.
func (s *Scanner) scanStream(ctx context.Context, fs *fileScan, p string, r io.Reader, limit int64) (SkipReason, error) {
	bp := windowPool.Get().(*[]byte)
	defer windowPool.Put(bp)
	buf := *bp
	n, eof, err := fill(r, buf, 0)
	if err != nil {
		fs.begin(ctx, p, false, false)
		if ctx.Err() != nil {
			// The deadline ended the read (a download, say): say where.
			return SkipStopped, &StopError{Path: p, Line: 1, Err: ctx.Err()}
		}
		return SkipReadError, err
	}
	if isBinary(buf[:n]) {
		fs.begin(ctx, p, false, false)
		return SkipBinary, nil
	}
	if eof {
		if int64(n) > limit {
			fs.begin(ctx, p, false, false)
			return SkipTooLarge, nil
		}
		return "", fs.run(ctx, p, buf[:n], true)
	}
	fs.begin(ctx, p, true, true)
	from := 0
	for {
		var reason SkipReason
		if over := int64(fs.origin+n) - limit; over > 0 {
			n -= int(over) // scan up to the limit, then say the rest was not
			eof, reason = true, SkipTooLarge
		}
		to := n
		if !eof {
			to = n - lookAhead
		}
		if err := fs.segment(buf[:n], fs.origin, from, to); err != nil {
			return SkipStopped, err
		}
		if eof {
			return reason, nil
		}
		drop := to - lookBehind
		fs.shift(drop)
		copy(buf, buf[drop:n])
		n -= drop
		from = to - drop
		if n, eof, err = fill(r, buf, n); err != nil {
			if ctx.Err() != nil {
				return SkipStopped, fs.stopped(from, ctx.Err())
			}
			return SkipReadError, fmt.Errorf("read %s after byte %d: %w", p, fs.origin+n, err)
		}
	}
}

// fill reads into buf[n:] until it is full or the reader ends.
func fill(r io.Reader, buf []byte, n int) (int, bool, error) {
	m, err := io.ReadFull(r, buf[n:])
	n += m
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return n, true, nil
	case err != nil:
		return n, false, err
	}
	return n, false, nil
}

// ScanReader scans a file whose every line counts (a file a change adds
// whole, or one whose diff is not available), reading it from r as a
// stream: memory stays bounded whatever the file's size. skip says why the
// content was not (fully) scanned ("" when it was); err is a read error or
// a *StopError when ctx ended. Findings are those of Scan.
func (s *Scanner) ScanReader(ctx context.Context, path string, r io.Reader) (findings []Finding, skip SkipReason, err error) {
	path = cleanPath(path)
	if s.Excluded(path) {
		return nil, "", nil
	}
	fs := getFileScan(s)
	defer putFileScan(fs)
	skip, err = s.scanStream(ctx, fs, path, r, s.maxFileSize)
	return s.findings(fs, path), skip, err
}
