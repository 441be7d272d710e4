package secrets

import (
	"bytes"
)

// SkipReason says why a file's content was not scanned.
type SkipReason string

// Reasons a file's content is not scanned. File-name rules still apply.
// Lock files, minified and generated files are text, and are scanned.
const (
	SkipTooLarge  SkipReason = "larger than max_file_size"
	SkipBinary    SkipReason = "binary (a NUL byte in its first 8 KiB)"
	SkipReadError SkipReason = "could not be read"
	SkipStopped   SkipReason = "the scan's deadline passed"
)

// Failing reports whether a file not scanned for this reason fails the
// run: only a binary file is known to hold no text to scan.
func (r SkipReason) Failing() bool { return r != SkipBinary }

// contentScan says why a file's content must not be scanned ("" when it
// may be). size is the file's size; head, when non-nil, its first bytes.
// Binary is judged by content only, as git does: a name proves nothing.
func contentScan(head []byte, size, maxSize int64) SkipReason {
	switch {
	case size > maxSize:
		return SkipTooLarge
	case isBinary(head):
		return SkipBinary
	}
	return ""
}

// isBinary: a NUL byte in the first 8 KiB, as git decides.
func isBinary(data []byte) bool {
	if len(data) > 8<<10 {
		data = data[:8<<10]
	}
	return bytes.IndexByte(data, 0) >= 0
}

// fileRule evaluates a file rule's content condition on the segment
// data[from:to] (its name matched: appliesTo): the regex must match with
// a value that is not a placeholder. The finding points at that match's
// line.
func (fs *fileScan) fileRule(r *Rule, from, to int) {
	for _, m := range r.re.FindAllSubmatchIndex(fs.data[from:to], 64) {
		vs, ve := m[0], m[1]
		for _, g := range r.secretIdx {
			if m[2*g] >= 0 {
				vs, ve = m[2*g], m[2*g+1]
				break
			}
		}
		if v := string(fs.data[from+vs : from+ve]); ve > vs && (placeholderFor(r, v) || !r.strongEnough(v)) {
			continue
		}
		// The value's line: a condition may read lines above it (comments).
		ls, _ := lineBounds(fs.data, from+vs)
		ln := fs.lineAt(ls)
		fs.cands = append(fs.cands, candidate{rule: r, tier: r.Tier, start: -1, end: -1, line: ln, endLine: ln, col: 1})
		fs.fileDone[r.index] = true
		return
	}
}
