package secrets

import (
	"bytes"
	"fmt"
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
// are not scanned.
func ParseDiff(data []byte) ([]FileDiff, error) {
	var out []FileDiff
	var cur *FileDiff
	lines := splitLines(data)
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "diff --git "):
			flush()
			cur = &FileDiff{}
			cur.OldPath, cur.NewPath = gitHeaderPaths(l[len("diff --git "):])
		case strings.HasPrefix(l, "diff --cc ") || strings.HasPrefix(l, "diff --combined "):
			flush()
			// Skip the combined diff up to the next file.
			for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "diff ") {
				i++
			}
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
			n, err := parseHunk(lines[i:], cur)
			if err != nil {
				return out, fmt.Errorf("parse diff of %s: %w", cur.Path(), err)
			}
			i += n - 1
		}
	}
	flush()
	return out, nil
}

// ParsePatch parses GitHub's per-file "patch" field: hunks only, no
// headers.
func ParsePatch(path, patch string) (FileDiff, error) {
	d := FileDiff{OldPath: path, NewPath: path}
	lines := splitLines([]byte(patch))
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "@@ ") {
			n, err := parseHunk(lines[i:], &d)
			if err != nil {
				return d, fmt.Errorf("parse patch of %s: %w", path, err)
			}
			i += n - 1
		}
	}
	return d, nil
}

// parseHunk parses one hunk starting at lines[0] ("@@ -a,b +c,d @@") and
// returns how many lines it used. Counts decide where the hunk ends, so a
// deleted line that starts with "-- " is not mistaken for a header.
func parseHunk(lines []string, d *FileDiff) (int, error) {
	oldStart, oldCount, newStart, newCount, err := hunkHeader(lines[0])
	if err != nil {
		return 1, err
	}
	o, n := oldStart, newStart
	i := 1
	for ; i < len(lines) && (oldCount > 0 || newCount > 0); i++ {
		l := lines[i]
		if l == "" {
			// Some tools strip the space of an empty context line.
			o, n, oldCount, newCount = o+1, n+1, oldCount-1, newCount-1
			continue
		}
		switch l[0] {
		case ' ':
			o, n, oldCount, newCount = o+1, n+1, oldCount-1, newCount-1
		case '+':
			d.Added = append(d.Added, DiffLine{Line: n, Text: l[1:]})
			n, newCount = n+1, newCount-1
		case '-':
			d.Deleted = append(d.Deleted, DiffLine{Line: o, Text: l[1:]})
			o, oldCount = o+1, oldCount-1
		case '\\':
			// "\ No newline at end of file"
		default:
			return i, nil // truncated hunk: stop here, keep what we have
		}
	}
	for i < len(lines) && strings.HasPrefix(lines[i], `\`) {
		i++
	}
	return i, nil
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

// splitLines splits on LF and drops a CR before it.
func splitLines(data []byte) []string {
	s := string(data)
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
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

// ScanChange scans one file's change. Findings are reported on added lines
// only; a secret on a deleted line becomes a notice (Deleted set, Line in
// the old file). content is the file's full content at the commit, when
// the caller has it: structural rules and multi-line values need it; with
// nil content the added lines are scanned on their own, at their line
// numbers. A change that adds a file matching a file rule reports it.
func (s *Scanner) ScanChange(d FileDiff, content []byte) []Finding {
	var out []Finding
	if p := cleanPath(d.Path()); d.NewPath != "" && !d.Binary && !s.Excluded(p) {
		added := make(map[int]bool, len(d.Added))
		for _, l := range d.Added {
			added[l.Line] = true
		}
		synthetic := content == nil
		if synthetic {
			content = linesAt(d.Added)
		}
		fs := getFileScan(s)
		fs.run(p, content, contentScan(p, content, int64(len(content)), s.maxFileSize) == "")
		for _, c := range fs.resolve() {
			if c.start < 0 {
				// A file rule: the change adds the file, or adds lines.
				if d.OldPath == "" || len(d.Added) > 0 {
					out = append(out, c.finding(p))
				}
				continue
			}
			if spanAdded(fs, c, added) {
				out = append(out, c.finding(p))
			}
		}
		putFileScan(fs)
	} else if p != "" && d.Binary && d.NewPath != "" && !s.Excluded(p) {
		// Binary files are never content-scanned, but their names count.
		fs := getFileScan(s)
		fs.run(p, nil, false)
		for _, c := range fs.resolve() {
			out = append(out, c.finding(p))
		}
		putFileScan(fs)
	}
	if len(d.Deleted) > 0 && d.OldPath != "" {
		p := cleanPath(d.OldPath)
		if !s.Excluded(p) {
			content := linesAt(d.Deleted)
			fs := getFileScan(s)
			fs.run(p, content, contentScan(p, content, int64(len(content)), s.maxFileSize) == "")
			for _, c := range fs.resolve() {
				if c.start < 0 || c.rule.Kind != KindSecret {
					continue
				}
				f := c.finding(p)
				f.Deleted = true
				f.Allowed = false
				out = append(out, f)
			}
			putFileScan(fs)
		}
	}
	seen := map[string]bool{}
	res := out[:0]
	for _, f := range out {
		k := f.Fingerprint
		if f.Deleted {
			k += "\x00deleted"
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		s.suppress(&f)
		res = append(res, f)
	}
	return res
}

// spanAdded reports whether any line of the candidate's value was added.
func spanAdded(fs *fileScan, c candidate, added map[int]bool) bool {
	if added[c.line] {
		return true
	}
	end := c.line + bytes.Count(fs.data[c.start:min(c.end, len(fs.data))], []byte{'\n'})
	for l := c.line + 1; l <= end; l++ {
		if added[l] {
			return true
		}
	}
	return false
}

// linesAt builds a text where each given line sits at its line number and
// every other line is empty, so that line numbers need no mapping.
func linesAt(ls []DiffLine) []byte {
	var b bytes.Buffer
	cur := 1
	for _, l := range ls {
		if l.Line < cur || l.Line > cur+1<<20 {
			// Out of order or absurd: append on the next line.
			l.Line = cur
		}
		for ; cur < l.Line; cur++ {
			b.WriteByte('\n')
		}
		b.WriteString(l.Text)
		b.WriteByte('\n')
		cur++
	}
	return b.Bytes()
}
