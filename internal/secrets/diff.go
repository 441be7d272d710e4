package secrets

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// DiffLine is one added or deleted line of a change.
type DiffLine struct {
	// Line is 1-based: in the new file for an added line, in the old file
	// for a deleted one.
	Line int
	// Text is the line without its newline (and without a trailing CR).
	Text string
}

// FileDiff is one file's change, from git's unified diff or GitHub's
// per-file patch.
type FileDiff struct {
	// OldPath and NewPath are repository-relative; "" for /dev/null (a new
	// or a deleted file).
	OldPath, NewPath string
	Binary           bool
	Added, Deleted   []DiffLine
	// Open, when set, reads the new file whole: every line of it counts as
	// added (a new file, or one whose patch is not available). The engine
	// streams it, so its size does not bound memory; Added is then unused.
	Open func() (io.ReadCloser, error)
	// Truncated: a DiffReader kept the first lines only, the file's diff
	// being over its budget; the caller scans the new file whole (Open),
	// as when GitHub shows no patch.
	Truncated bool
}

// Path is where the file lives after the change (its old path when it was
// deleted).
func (d FileDiff) Path() string {
	if d.NewPath != "" {
		return d.NewPath
	}
	return d.OldPath
}

// ParseDiff parses `git diff` / `git show -p` / `git log -p` output: several
// files, renames, mode changes, binary markers, "\ No newline at end of
// file" and CRLF line endings. Commit headers between files are skipped.
// Combined diffs of merge commits (@@@) are skipped, since merge commits
// are not scanned. Lines are read in place: the diff's lines share one
// copy of it. DiffReader reads the same from a stream.
func ParseDiff(data []byte) ([]FileDiff, error) {
	var out []FileDiff
	p := &diffParser{lr: &lineReader{s: string(data)}}
	for {
		d, err := p.next()
		if err != nil || d == nil {
			return out, err
		}
		out = append(out, *d)
	}
}

// DiffReader reads `git diff` output from a stream one file at a time, so
// that memory holds one file's lines, up to a budget, never the patch.
type DiffReader struct {
	p diffParser
}

// NewDiffReader reads diffs from r keeping at most limit bytes (> 0) of
// one file's lines (a line's text and its bookkeeping); a file whose lines
// go over it comes back Truncated.
func NewDiffReader(r io.Reader, limit int) *DiffReader {
	limit = max(limit, 1)
	// A line is held up to the budget (a longer added line truncates its
	// file anyway), and a header line up to 64 KiB whatever the budget.
	lr := &streamLines{br: bufio.NewReaderSize(r, 64<<10), max: max(limit, 64<<10)}
	return &DiffReader{p: diffParser{lr: lr, limit: limit}}
}

// Next returns the next file's diff, or io.EOF after the last one; a read
// error or a malformed hunk header ends the stream.
func (r *DiffReader) Next() (FileDiff, error) {
	d, err := r.p.next()
	switch {
	case err != nil:
		return FileDiff{}, err
	case d == nil:
		if sl, ok := r.p.lr.(*streamLines); ok && sl.err != nil {
			return FileDiff{}, sl.err
		}
		return FileDiff{}, io.EOF
	}
	return *d, nil
}

// diffLineCost is what one kept line costs besides its text: the DiffLine
// and the string's own allocation, so that a budget holds for a diff of
// empty lines too.
const diffLineCost = 48

// diffParser reads file diffs one after another from lr. limit, when set,
// bounds the bytes kept of one file's lines.
type diffParser struct {
	lr    lineSource
	limit int
}

// next reads one file's diff; nil at the end.
func (p *diffParser) next() (*FileDiff, error) {
	var cur *FileDiff
	kept := 0
	for {
		l, ok := p.lr.peek()
		if !ok {
			return cur, nil
		}
		isFile := strings.HasPrefix(l, "diff --git ")
		combined := strings.HasPrefix(l, "diff --cc ") || strings.HasPrefix(l, "diff --combined ")
		if cur != nil && (isFile || combined) {
			return cur, nil
		}
		p.lr.next()
		switch {
		case isFile:
			cur = &FileDiff{}
			cur.OldPath, cur.NewPath = gitHeaderPaths(l[len("diff --git "):])
		case combined:
			// Skip the combined diff up to the next file.
			p.skipFile()
		case cur == nil:
			// Commit headers, messages and anything before the first file.
		case strings.HasPrefix(l, "--- "):
			cur.OldPath = diffPath(l[4:], "a/")
		case strings.HasPrefix(l, "+++ "):
			cur.NewPath = diffPath(l[4:], "b/")
		case strings.HasPrefix(l, "rename from "):
			cur.OldPath = unquotePath(l[len("rename from "):])
		case strings.HasPrefix(l, "rename to "):
			cur.NewPath = unquotePath(l[len("rename to "):])
		case strings.HasPrefix(l, "new file mode"):
			cur.OldPath = ""
		case strings.HasPrefix(l, "deleted file mode"):
			cur.NewPath = ""
		case strings.HasPrefix(l, "Binary files ") || l == "GIT binary patch":
			cur.Binary = true
		case strings.HasPrefix(l, "@@ "):
			budget := -1
			if p.limit > 0 {
				budget = p.limit - kept
			}
			used, err := parseHunk(l, p.lr, cur, budget)
			kept += used
			if err != nil {
				return cur, fmt.Errorf("parse diff of %s: %w", cur.Path(), err)
			}
			if cur.Truncated {
				p.skipFile()
			}
		}
	}
}

// skipFile passes the lines up to the next file's header. No line of a
// hunk starts with "diff " (each starts with " ", "+", "-" or "\\").
func (p *diffParser) skipFile() {
	if sl, ok := p.lr.(*streamLines); ok {
		sl.skipTo("diff ")
		return
	}
	for {
		n, ok := p.lr.peek()
		if !ok || strings.HasPrefix(n, "diff ") {
			return
		}
		p.lr.next()
	}
}

// ParsePatch parses GitHub's per-file "patch" field: hunks only, no
// headers.
func ParsePatch(path, patch string) (FileDiff, error) {
	d := FileDiff{OldPath: path, NewPath: path}
	lr := &lineReader{s: patch}
	for {
		l, ok := lr.next()
		if !ok {
			break
		}
		if strings.HasPrefix(l, "@@ ") {
			if _, err := parseHunk(l, lr, &d, -1); err != nil {
				return d, fmt.Errorf("parse patch of %s: %w", path, err)
			}
		}
	}
	return d, nil
}

// lineSource yields a diff's lines (split on LF, a CR before it dropped).
type lineSource interface {
	peek() (string, bool)
	next() (string, bool)
}

// lineReader yields the lines of s without copying them.
type lineReader struct {
	s   string
	pos int
}

func (r *lineReader) peek() (string, bool) {
	if r.pos >= len(r.s) {
		return "", false
	}
	rest := r.s[r.pos:]
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[:i]
	}
	return strings.TrimSuffix(rest, "\r"), true
}

func (r *lineReader) next() (string, bool) {
	l, ok := r.peek()
	if ok {
		if i := strings.IndexByte(r.s[r.pos:], '\n'); i >= 0 {
			r.pos += i + 1
		} else {
			r.pos = len(r.s)
		}
	}
	return l, ok
}

// streamLines yields the lines of a stream. A line longer than max is cut
// to max bytes (the rest is read past, never held) and flagged cut.
type streamLines struct {
	br   *bufio.Reader
	max  int
	buf  []byte
	line string
	cut  bool // the current line was longer than max
	have bool // line is read and not yet taken
	err  error
}

func (r *streamLines) peek() (string, bool) {
	if !r.have && !r.read(true) {
		return "", false
	}
	return r.line, true
}

func (r *streamLines) next() (string, bool) {
	l, ok := r.peek()
	r.have = false
	return l, ok
}

// read reads the next line into line (keep) or past it (!keep); false at
// the end or on an error (kept in err).
func (r *streamLines) read(keep bool) bool {
	if r.err != nil {
		return false
	}
	r.buf, r.cut = r.buf[:0], false
	started := false
	for {
		chunk, err := r.br.ReadSlice('\n')
		started = started || len(chunk) > 0
		if keep {
			if room := r.max - len(r.buf); len(chunk) > room {
				r.buf, r.cut = append(r.buf, chunk[:max(room, 0)]...), true
			} else {
				r.buf = append(r.buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if !started {
				return false
			}
		case err != nil:
			r.err = err
			return false
		}
		break
	}
	if keep {
		r.line, r.have = string(bytes.TrimSuffix(bytes.TrimSuffix(r.buf, []byte("\n")), []byte("\r"))), true
	}
	if cap(r.buf) > 64<<10 {
		r.buf = nil // a long line's buffer is not kept for the next ones
	}
	return true
}

// skipTo reads past lines up to one starting with prefix (kept for peek),
// holding none of them.
func (r *streamLines) skipTo(prefix string) {
	for {
		if r.have {
			if strings.HasPrefix(r.line, prefix) {
				return
			}
			r.have = false
		}
		b, err := r.br.Peek(len(prefix))
		if err == nil && string(b) == prefix {
			r.read(true)
			return
		}
		if !r.read(false) {
			return
		}
	}
}

// parseHunk parses one hunk whose header ("@@ -a,b +c,d @@") is head,
// reading its lines from lr. Counts decide where the hunk ends, so a
// deleted line that starts with "-- " is not mistaken for a header.
// budget, unless negative, is how many bytes of lines may still be kept:
// past it (or on a line cut short by a stream) d is Truncated and the
// hunk's remaining lines are left to the caller. It returns the bytes kept.
func parseHunk(head string, lr lineSource, d *FileDiff, budget int) (used int, err error) {
	oldStart, oldCount, newStart, newCount, err := hunkHeader(head)
	if err != nil {
		return 0, err
	}
	sl, _ := lr.(*streamLines)
	o, n := oldStart, newStart
	for oldCount > 0 || newCount > 0 {
		l, ok := lr.peek()
		if !ok {
			break
		}
		if l == "" {
			// Some tools strip the space of an empty context line.
			lr.next()
			o, n, oldCount, newCount = o+1, n+1, oldCount-1, newCount-1
			continue
		}
		switch l[0] {
		case ' ':
			o, n, oldCount, newCount = o+1, n+1, oldCount-1, newCount-1
		case '+', '-':
			if budget >= 0 && (used+len(l)+diffLineCost > budget || (sl != nil && sl.cut)) {
				d.Truncated = true
				return used, nil
			}
			used += len(l) + diffLineCost
			if l[0] == '+' {
				d.Added = append(d.Added, DiffLine{Line: n, Text: l[1:]})
				n, newCount = n+1, newCount-1
			} else {
				d.Deleted = append(d.Deleted, DiffLine{Line: o, Text: l[1:]})
				o, oldCount = o+1, oldCount-1
			}
		case '\\':
			// "\ No newline at end of file"
		default:
			return used, nil // truncated hunk: stop here, keep what we have
		}
		lr.next()
	}
	for {
		l, ok := lr.peek()
		if !ok || !strings.HasPrefix(l, `\`) {
			return used, nil
		}
		lr.next()
	}
}

func hunkHeader(l string) (oldStart, oldCount, newStart, newCount int, err error) {
	rest, ok := strings.CutPrefix(l, "@@ -")
	end := strings.Index(rest, " @@")
	if !ok || end < 0 {
		return 0, 0, 0, 0, fmt.Errorf("malformed hunk header %.80q", l)
	}
	oldR, newR, ok := strings.Cut(rest[:end], " +")
	if !ok {
		return 0, 0, 0, 0, fmt.Errorf("malformed hunk header %.80q", l)
	}
	if oldStart, oldCount, err = hunkRange(oldR); err == nil {
		newStart, newCount, err = hunkRange(newR)
	}
	if err != nil {
		return 0, 0, 0, 0, fmt.Errorf("malformed hunk header %.80q: %w", l, err)
	}
	return oldStart, oldCount, newStart, newCount, nil
}

func hunkRange(s string) (start, count int, err error) {
	a, b, has := strings.Cut(s, ",")
	if start, err = strconv.Atoi(a); err != nil || start < 0 {
		return 0, 0, fmt.Errorf("bad range %q", s)
	}
	count = 1
	if has {
		if count, err = strconv.Atoi(b); err != nil || count < 0 {
			return 0, 0, fmt.Errorf("bad range %q", s)
		}
	}
	// Bound counts so hostile input cannot make a hunk claim the world.
	if start > 1<<30 || count > 1<<30 {
		return 0, 0, fmt.Errorf("range too large %q", s)
	}
	return start, count, nil
}

// gitHeaderPaths reads "a/X b/Y" from a diff --git line; the --- / +++ and
// rename lines, when present, override it.
func gitHeaderPaths(s string) (string, string) {
	if strings.HasPrefix(s, `"`) {
		a, rest, ok := cutQuoted(s)
		if !ok {
			return "", ""
		}
		return strings.TrimPrefix(a, "a/"), diffPath(strings.TrimSpace(rest), "b/")
	}
	// Unquoted: "a/P b/P". With identical halves split in the middle.
	if n := len(s); n%2 == 1 && s[n/2] == ' ' {
		a, b := s[:n/2], s[n/2+1:]
		if strings.TrimPrefix(a, "a/") == strings.TrimPrefix(b, "b/") {
			return strings.TrimPrefix(a, "a/"), strings.TrimPrefix(b, "b/")
		}
	}
	if i := strings.Index(s, " b/"); i >= 0 {
		return strings.TrimPrefix(s[:i], "a/"), s[i+3:]
	}
	return "", ""
}

// diffPath reads a --- / +++ path: /dev/null, a quoted C string, or a
// plain path, optionally followed by a tab and a timestamp.
func diffPath(s, prefix string) string {
	if i := strings.IndexByte(s, '\t'); i >= 0 && !strings.HasPrefix(s, `"`) {
		s = s[:i]
	}
	s = unquotePath(s)
	if s == "/dev/null" {
		return ""
	}
	return strings.TrimPrefix(s, prefix)
}

func unquotePath(s string) string {
	if strings.HasPrefix(s, `"`) {
		if q, _, ok := cutQuoted(s); ok {
			return q
		}
	}
	return s
}

// cutQuoted unquotes git's C-style quoted path at the start of s.
func cutQuoted(s string) (string, string, bool) {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			q, err := strconv.Unquote(s[:i+1])
			if err != nil {
				return "", "", false
			}
			return q, s[i+1:], true
		}
	}
	return "", "", false
}

// ScanChange scans one file's change. Findings are reported on added
// lines only; a secret on a deleted line becomes a notice (Deleted set,
// Line in the old file). content is the file's full content at the
// commit, when the caller has it: structural rules and multi-line values
// need it; with nil content the added lines are scanned on their own, at
// their line numbers. A diff with Open is streamed whole. A change that
// adds a file matching a file rule reports it.
//
// skip says why the new file's content was not (fully) scanned ("" when
// it was, or when the change removes the file); err is a read error or a
// *StopError when ctx ended, with the findings found until then.
func (s *Scanner) ScanChange(ctx context.Context, d FileDiff, content []byte) (out []Finding, skip SkipReason, err error) {
	p := cleanPath(d.Path())
	if d.NewPath != "" && !s.Excluded(p) {
		fs := getFileScan(s)
		switch {
		case d.Binary:
			// Never content-scanned, but their names count.
			fs.begin(ctx, p, false, false)
			skip = SkipBinary
		case d.Open != nil:
			var rc io.ReadCloser
			if rc, err = d.Open(); err != nil {
				fs.begin(ctx, p, false, false)
				skip, err = SkipReadError, fmt.Errorf("open %s: %w", p, err)
				if ctx.Err() != nil {
					// Cut by the deadline before it could be read.
					skip, err = SkipStopped, &StopError{Path: p, Line: 1, Err: ctx.Err()}
				}
			} else {
				skip, err = s.scanStream(ctx, fs, p, rc, s.maxFileSize)
				rc.Close()
			}
		default:
			if content == nil {
				content, fs.lineMap = linesAt(d.Added)
			} else {
				fs.added = addedLines(d.Added)
			}
			skip = contentScan(content, int64(len(content)), s.maxFileSize)
			err = fs.run(ctx, p, content, skip == "")
			if err != nil {
				skip = SkipStopped
			}
		}
		for _, f := range s.findings(fs, p) {
			// A file rule counts when the change adds the file or lines.
			if f.Kind != KindFile || d.OldPath == "" || d.Open != nil || len(d.Added) > 0 {
				out = append(out, f)
			}
		}
		putFileScan(fs)
	}
	if len(d.Deleted) > 0 && d.OldPath != "" && err == nil {
		if p := cleanPath(d.OldPath); !s.Excluded(p) {
			content, lineMap := linesAt(d.Deleted)
			fs := getFileScan(s)
			fs.lineMap = lineMap
			err = fs.run(ctx, p, content, contentScan(content, int64(len(content)), s.maxFileSize) == "")
			for _, c := range fs.resolve() {
				if c.start < 0 || c.rule.Kind != KindSecret {
					continue
				}
				f := c.finding(p)
				f.Deleted = true
				f.Allowed, f.AllowedBy, f.AllowedLine = false, "", 0
				s.suppress(&f)
				out = append(out, f)
			}
			putFileScan(fs)
		}
	}
	return Dedupe(out), skip, err
}

// addedLines tells whether a line is one of ls (sorted by line, as a
// patch lists them), without a set as large as the change.
func addedLines(ls []DiffLine) func(int) bool {
	return func(line int) bool {
		i := sort.Search(len(ls), func(i int) bool { return ls[i].Line >= line })
		return i < len(ls) && ls[i].Line == line
	}
}

// linesAt builds a text of the given lines, one after another, with one
// empty line where the file has lines in between (so values never join
// across hunks), and the map from its lines to the file's: its size is
// the lines', not the file's.
func linesAt(ls []DiffLine) ([]byte, []int) {
	var b bytes.Buffer
	lines := make([]int, 1, len(ls)+1) // lines[k] is line k+... of the file; [0] unused
	prev := 0
	for _, l := range ls {
		if prev > 0 && l.Line != prev+1 {
			b.WriteByte('\n')
			lines = append(lines, 0)
		}
		b.WriteString(l.Text)
		b.WriteByte('\n')
		lines = append(lines, l.Line)
		prev = l.Line
	}
	return b.Bytes(), lines
}
