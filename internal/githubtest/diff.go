package githubtest

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// fileChange is one entry of a compare, a commit or a PR's file list.
type fileChange struct {
	Path      string
	PrevPath  string // renamed files
	Status    string // added, removed, modified, renamed, changed
	OldSHA    string
	NewSHA    string
	Additions int
	Deletions int
	Patch     string
	HasPatch  bool // false for binary files, pure renames/mode changes and patches GitHub omits as too large
}

// diffTrees compares two root trees ("" is the empty tree) file by file,
// sorted by path as GitHub lists them. Exact renames (same blob, one path
// gone, one added) are reported as "renamed", as GitHub's rename detection
// would.
func (o *objectStore) diffTrees(oldTree, newTree string, maxPatch int) []fileChange {
	var before, after map[string]fileEntry
	if oldTree != "" {
		before = o.flatten(oldTree)
	}
	if newTree != "" {
		after = o.flatten(newTree)
	}
	var changes []fileChange
	removedBySHA := map[string][]string{}
	for p, old := range before {
		if _, ok := after[p]; !ok {
			removedBySHA[old.SHA] = append(removedBySHA[old.SHA], p)
		}
	}
	for _, paths := range removedBySHA {
		sort.Strings(paths)
	}
	renamedFrom := map[string]bool{}
	var added []string
	for p := range after {
		if _, ok := before[p]; !ok {
			added = append(added, p)
		}
	}
	sort.Strings(added)
	for _, p := range added {
		cur := after[p]
		if froms := removedBySHA[cur.SHA]; len(froms) > 0 {
			from := froms[0]
			removedBySHA[cur.SHA] = froms[1:]
			renamedFrom[from] = true
			changes = append(changes, fileChange{Path: p, PrevPath: from, Status: "renamed", OldSHA: cur.SHA, NewSHA: cur.SHA})
			continue
		}
		changes = append(changes, o.fileDiff(p, "added", "", cur.SHA, maxPatch))
	}
	for p, old := range before {
		cur, ok := after[p]
		switch {
		case !ok && !renamedFrom[p]:
			changes = append(changes, o.fileDiff(p, "removed", old.SHA, "", maxPatch))
		case ok && cur.SHA != old.SHA:
			changes = append(changes, o.fileDiff(p, "modified", old.SHA, cur.SHA, maxPatch))
		case ok && cur.Mode != old.Mode:
			changes = append(changes, fileChange{Path: p, Status: "changed", OldSHA: old.SHA, NewSHA: cur.SHA})
		}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Path < changes[j].Path })
	return changes
}

func (o *objectStore) fileDiff(p, status, oldSHA, newSHA string, maxPatch int) fileChange {
	fc := fileChange{Path: p, Status: status, OldSHA: oldSHA, NewSHA: newSHA}
	oldData, newData := o.blobs[oldSHA], o.blobs[newSHA]
	if isBinary(oldData) || isBinary(newData) {
		return fc
	}
	patch, adds, dels := unifiedDiff(string(oldData), string(newData))
	fc.Additions, fc.Deletions = adds, dels
	if patch != "" && (maxPatch <= 0 || len(patch) <= maxPatch) {
		fc.Patch, fc.HasPatch = patch, true
	}
	return fc
}

// isBinary uses git's own test: a NUL byte in the first 8000 bytes.
func isBinary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0
}

// splitLines keeps each line's "\n" so that a last line without one
// differs from the same text with one, as in git.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

type editKind byte

const (
	editEqual editKind = iota
	editDelete
	editInsert
)

type edit struct {
	kind editKind
	a, b int // line index in old (a) and new (b)
}

// myersMaxD bounds the edit distance searched; beyond it a file is treated
// as wholly replaced, which keeps memory bounded for huge rewrites.
const myersMaxD = 4000

// diffLines returns the edit script turning a into b (Myers' O(ND) algorithm).
func diffLines(a, b []string) []edit {
	// Common prefix and suffix are cheap and shrink the search.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var edits []edit
	for i := 0; i < pre; i++ {
		edits = append(edits, edit{editEqual, i, i})
	}
	edits = append(edits, myers(a[pre:len(a)-suf], b[pre:len(b)-suf], pre)...)
	for i := 0; i < suf; i++ {
		edits = append(edits, edit{editEqual, len(a) - suf + i, len(b) - suf + i})
	}
	return edits
}

func myers(a, b []string, off int) []edit {
	n, m := len(a), len(b)
	replaceAll := func() []edit {
		out := make([]edit, 0, n+m)
		for i := range n {
			out = append(out, edit{editDelete, off + i, off})
		}
		for j := range m {
			out = append(out, edit{editInsert, off + n, off + j})
		}
		return out
	}
	if n == 0 || m == 0 {
		return replaceAll()
	}
	maxD := min(n+m, myersMaxD)
	v := make([]int, 2*maxD+4)
	var trace [][]int
	center := maxD + 1
	found := -1
	for d := 0; d <= maxD && found < 0; d++ {
		trace = append(trace, append([]int(nil), v[center-d-1:center+d+2]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[center+k-1] < v[center+k+1]) {
				x = v[center+k+1]
			} else {
				x = v[center+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[center+k] = x
			if x >= n && y >= m {
				found = d
				break
			}
		}
	}
	if found < 0 {
		return replaceAll()
	}
	// Walk the trace backwards to recover the path.
	var rev []edit
	x, y := n, m
	for d := found; d > 0; d-- {
		prev := trace[d] // v before step d, indexed k+d+1
		at := func(k int) int { return prev[k+d+1] }
		k := x - y
		var prevK int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x, y = x-1, y-1
			rev = append(rev, edit{editEqual, off + x, off + y})
		}
		if x == prevX {
			y--
			rev = append(rev, edit{editInsert, off + x, off + y})
		} else {
			x--
			rev = append(rev, edit{editDelete, off + x, off + y})
		}
	}
	for x > 0 && y > 0 {
		x, y = x-1, y-1
		rev = append(rev, edit{editEqual, off + x, off + y})
	}
	out := make([]edit, len(rev))
	for i, e := range rev {
		out[len(rev)-1-i] = e
	}
	return out
}

const diffContext = 3

// unifiedDiff formats the change from old to new the way GitHub's API
// gives a file's `patch`: only hunks (no ---/+++ headers), three lines of
// context, git's hunk header with the function context, "\ No newline at
// end of file" markers, and no trailing newline.
func unifiedDiff(oldText, newText string) (patch string, additions, deletions int) {
	a, b := splitLines(oldText), splitLines(newText)
	edits := diffLines(a, b)
	// Group changes into hunks: changes closer than 2*context lines share one.
	type span struct{ from, to int } // indexes into edits, inclusive
	var hunks []span
	for i, e := range edits {
		if e.kind == editEqual {
			continue
		}
		if e.kind == editInsert {
			additions++
		} else {
			deletions++
		}
		if len(hunks) > 0 {
			last := &hunks[len(hunks)-1]
			gap := 0
			for j := last.to + 1; j < i; j++ {
				gap++
			}
			if gap <= 2*diffContext {
				last.to = i
				continue
			}
		}
		hunks = append(hunks, span{i, i})
	}
	var out strings.Builder
	for h, hk := range hunks {
		from := max(0, hk.from-diffContext)
		to := min(len(edits)-1, hk.to+diffContext)
		var oldStart, newStart, oldCount, newCount int
		oldStart, newStart = edits[from].a, edits[from].b
		for _, e := range edits[from : to+1] {
			switch e.kind {
			case editEqual:
				oldCount++
				newCount++
			case editDelete:
				oldCount++
			case editInsert:
				newCount++
			}
		}
		if h > 0 {
			out.WriteByte('\n')
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@", hunkRange(oldStart, oldCount), hunkRange(newStart, newCount))
		if fn := funcContext(a, oldStart); fn != "" {
			out.WriteString(" " + fn)
		}
		for _, e := range edits[from : to+1] {
			var prefix byte
			var line string
			switch e.kind {
			case editEqual:
				prefix, line = ' ', a[e.a]
			case editDelete:
				prefix, line = '-', a[e.a]
			case editInsert:
				prefix, line = '+', b[e.b]
			}
			out.WriteByte('\n')
			out.WriteByte(prefix)
			if strings.HasSuffix(line, "\n") {
				out.WriteString(line[:len(line)-1])
			} else {
				out.WriteString(line)
				out.WriteString("\n\\ No newline at end of file")
			}
		}
	}
	return out.String(), additions, deletions
}

// hunkRange prints a hunk side as git does: "start,count", "start" alone
// when count is 1, and the line before the hunk when count is 0.
func hunkRange(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	default:
		return fmt.Sprintf("%d,%d", start+1, count)
	}
}

// funcContext is git's default hunk-header context: the nearest line above
// the hunk that starts with a letter, '_' or '$', trailing space trimmed,
// at most 80 bytes.
func funcContext(lines []string, start int) string {
	for i := min(start, len(lines)) - 1; i >= 0; i-- {
		l := lines[i]
		if l == "" {
			continue
		}
		c := l[0]
		if c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			l = strings.TrimRight(l, " \t\r\n")
			if len(l) > 80 {
				l = l[:80]
			}
			return l
		}
	}
	return ""
}
