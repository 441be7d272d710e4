package secrets

import (
	"bytes"
	"path"
	"slices"
	"sync"
	"unicode/utf8"
)

// Bounds on how much text a rule's regex sees around a keyword hit.
const (
	maxLineScan   = 4096     // beyond this a line is "long" (minified, data)
	longLineSlack = 1024     // bytes each side of a hit on a long line
	maxPEMBlock   = 64 << 10 // how far an END line may follow its BEGIN
	contextBytes  = 16 << 10 // how far a context window may reach
	allowMarker   = "housekeeper:allow"
)

// candidate is a match before overlap resolution. It holds the raw value,
// so it never leaves the package.
type candidate struct {
	rule       *Rule
	tier       Tier
	start, end int // value's byte range; -1 for file rules
	line, col  int
	value      string
	allowed    bool
	// note says where the value sits when that matters more than its
	// format (Atlantis's VCS token in chart values); see mergeNote.
	note string
	// former are (rule id, value) pairs this value was reported as before
	// a decoder found more (see mergeNote); their fingerprints still match.
	former [][2]string
}

func (c candidate) finding(p string) Finding {
	fd := Finding{
		RuleID:      c.rule.ID,
		Kind:        c.rule.Kind,
		Tier:        c.tier,
		Description: c.rule.Description,
		Path:        p,
		Line:        c.line,
		Column:      c.col,
		Redacted:    Redact(c.value),
		Fingerprint: Fingerprint(c.rule.ID, p, c.value),
		Remediation: Remediation(c.tier),
		Allowed:     c.allowed,
		Context:     c.note,
	}
	for _, f := range c.former {
		fd.FormerFingerprints = append(fd.FormerFingerprints, Fingerprint(f[0], p, f[1]))
	}
	return fd
}

// fileScan is the per-file scratch state, pooled so that the hot path does
// not allocate per file.
type fileScan struct {
	s          *Scanner
	path, base string
	ext        string
	data       []byte
	active     []int8 // per rule: 0 unknown, 1 applies, -1 does not
	doneUntil  []int  // per rule: window end already evaluated
	structTrig []bool
	cands      []candidate
	curPos     int // line cursor: offset and its 1-based line
	curLine    int
	lineStarts []int
	decoded    bool // scanning a decoded value (decode.go): no further decoding
}

var fileScanPool sync.Pool

func getFileScan(s *Scanner) *fileScan {
	fs, _ := fileScanPool.Get().(*fileScan)
	if fs == nil || fs.s != s {
		fs = &fileScan{s: s}
	}
	n := len(s.rules.rules)
	fs.active = resize(fs.active, n)
	fs.doneUntil = resize(fs.doneUntil, n)
	fs.structTrig = resize(fs.structTrig, n)
	return fs
}

func putFileScan(fs *fileScan) {
	fs.data = nil
	fs.cands = fs.cands[:0]
	fs.lineStarts = fs.lineStarts[:0]
	fileScanPool.Put(fs)
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// run collects candidates for one file.
func (fs *fileScan) run(p string, data []byte, scanContent bool) {
	fs.path, fs.base, fs.ext = p, path.Base(p), path.Ext(p)
	fs.data = data
	fs.curPos, fs.curLine = 0, 1
	rules := fs.s.rules.rules
	clear(fs.active)
	clear(fs.doneUntil)
	clear(fs.structTrig)
	if scanContent && encrypted(fs.ext, data) {
		scanContent = false // ciphertext: only file names count
	}
	for _, r := range rules {
		if r.Kind == KindFile && fs.applies(r) {
			fs.fileRule(r, scanContent)
		}
	}
	if !scanContent {
		return
	}
	kwRules := fs.s.rules.kwRules
	fs.s.rules.pf.scan(data, func(end int, ids []int32) bool {
		for _, kw := range ids {
			for _, ri := range kwRules[kw] {
				if end <= fs.doneUntil[ri] {
					continue
				}
				r := rules[ri]
				if !fs.applies(r) {
					continue
				}
				switch r.Kind {
				case KindSecret:
					ws, we := fs.window(r, end)
					if r.assigns && bytes.IndexAny(data[end:we], ":=,") < 0 {
						continue // no operator after this keyword on its line
					}
					fs.doneUntil[ri] = we
					fs.evalRule(r, ws, we)
				case KindStructural:
					fs.structTrig[ri] = true
					fs.doneUntil[ri] = len(data)
				}
			}
		}
		return true
	})
	for ri, trig := range fs.structTrig {
		if trig {
			fs.structural(rules[ri])
		}
	}
	fs.scanEncoded()
}

func (fs *fileScan) applies(r *Rule) bool {
	a := fs.active[r.index]
	if a == 0 {
		a = -1
		if r.appliesTo(fs.path, fs.base) {
			a = 1
		}
		fs.active[r.index] = a
	}
	return a > 0
}

// window picks the text a rule's regex sees for a keyword ending at end:
// its line, clipped on long lines, or a whole PEM block for multiline
// rules.
func (fs *fileScan) window(r *Rule, end int) (int, int) {
	data := fs.data
	lo := max(0, end-maxLineScan)
	ws := lo
	if i := bytes.LastIndexByte(data[lo:end], '\n'); i >= 0 {
		ws = lo + i + 1
	} else if lo > 0 {
		ws = max(0, end-longLineSlack)
	}
	from := end
	if r.Multiline {
		hi := min(len(data), end+maxPEMBlock)
		if i := bytes.Index(data[end:hi], []byte("-----END")); i >= 0 {
			from = end + i + len("-----END")
		}
	}
	hi := min(len(data), from+maxLineScan)
	we := hi
	if i := bytes.IndexByte(data[from:hi], '\n'); i >= 0 {
		we = from + i
	} else if hi < len(data) {
		we = min(len(data), from+longLineSlack)
	}
	return ws, we
}

// evalRule runs a rule's regex on data[ws:we] and keeps the matches that
// pass its filters.
func (fs *fileScan) evalRule(r *Rule, ws, we int) {
	w := fs.data[ws:we]
	for _, m := range r.re.FindAllSubmatchIndex(w, -1) {
		vs, ve := -1, -1
		for _, g := range r.secretIdx {
			if m[2*g] >= 0 {
				vs, ve = m[2*g], m[2*g+1]
				break
			}
		}
		if vs < 0 {
			continue
		}
		key := ""
		if r.keyIdx > 0 && m[2*r.keyIdx] >= 0 {
			key = string(w[m[2*r.keyIdx]:m[2*r.keyIdx+1]])
		}
		fs.consider(r, ws+vs, ws+ve, key)
	}
}

// consider applies a secret rule's filters to the value data[vs:ve].
func (fs *fileScan) consider(r *Rule, vs, ve int, key string) {
	data := fs.data
	v := data[vs:ve]
	if len(v) < r.MinLength || len(v) == 0 {
		return
	}
	if r.Entropy > 0 && entropy(string(v)) < r.Entropy {
		return
	}
	value := string(v)
	if placeholderFor(r, value) {
		return
	}
	for _, a := range r.allow {
		if a.MatchString(value) {
			return
		}
	}
	for _, a := range r.allowKey {
		if a.MatchString(key) {
			return
		}
	}
	if r.QuotedInCode && codeExts[fs.ext] {
		if vs == 0 || (data[vs-1] != '"' && data[vs-1] != '\'' && data[vs-1] != '`') {
			return
		}
	}
	ls, le := lineBounds(data, vs)
	line := data[ls:le]
	for _, a := range r.allowLn {
		if a.Match(line) {
			return
		}
	}
	if r.context != nil && !fs.inContext(r, ls, le) {
		return
	}
	tier := r.Tier
	if e := r.BootstrapIf; e != nil && tier == Runtime {
		if matchAny(e.Paths, fs.path, fs.base) {
			tier = Bootstrap
		} else if r.escKey != nil {
			subject := key
			if subject == "" {
				subject = string(line)
			}
			if r.escKey.MatchString(subject) {
				tier = Bootstrap
			}
		}
	}
	ln := fs.lineAt(vs)
	fs.cands = append(fs.cands, candidate{
		rule: r, tier: tier, start: vs, end: ve,
		line: ln, col: utf8.RuneCount(data[ls:vs]) + 1,
		value:   value,
		allowed: bytes.Contains(line, []byte(allowMarker)),
	})
}

// inContext reports whether the rule's context regex matches the path or
// the lines around [ls, le).
func (fs *fileScan) inContext(r *Rule, ls, le int) bool {
	if r.context.MatchString(fs.path) {
		return true
	}
	data := fs.data
	lo, hi := ls, le
	for n := 0; n < r.ContextLines && lo > 0 && ls-lo < contextBytes; n++ {
		i := bytes.LastIndexByte(data[max(0, lo-contextBytes):lo-1], '\n')
		if i < 0 {
			lo = max(0, lo-contextBytes)
			break
		}
		lo = max(0, lo-contextBytes) + i + 1
	}
	for n := 0; n < r.ContextLines && hi < len(data) && hi-le < contextBytes; n++ {
		i := bytes.IndexByte(data[hi+1:min(len(data), hi+1+contextBytes)], '\n')
		if i < 0 {
			hi = min(len(data), hi+1+contextBytes)
			break
		}
		hi = hi + 1 + i
	}
	return r.context.Match(data[lo:hi])
}

// lineBounds returns the line around offset off, clipped on long lines.
func lineBounds(data []byte, off int) (int, int) {
	lo := max(0, off-maxLineScan)
	ls := lo
	if i := bytes.LastIndexByte(data[lo:off], '\n'); i >= 0 {
		ls = lo + i + 1
	}
	hi := min(len(data), off+maxLineScan)
	le := hi
	if i := bytes.IndexByte(data[off:hi], '\n'); i >= 0 {
		le = off + i
	}
	return ls, le
}

// lineAt returns the 1-based line of offset off, moving a cursor so that
// mostly ascending look-ups cost only the bytes in between.
func (fs *fileScan) lineAt(off int) int {
	if off >= fs.curPos {
		fs.curLine += bytes.Count(fs.data[fs.curPos:off], []byte{'\n'})
	} else {
		fs.curLine -= bytes.Count(fs.data[off:fs.curPos], []byte{'\n'})
	}
	fs.curPos = off
	return fs.curLine
}

// offsetOf converts a 1-based line and byte column to an offset, for
// structural analysers that know positions only as lines and columns.
func (fs *fileScan) offsetOf(line, col int) int {
	if len(fs.lineStarts) == 0 {
		fs.lineStarts = append(fs.lineStarts, 0)
		for i, c := range fs.data {
			if c == '\n' {
				fs.lineStarts = append(fs.lineStarts, i+1)
			}
		}
	}
	if line < 1 || line > len(fs.lineStarts) {
		return len(fs.data)
	}
	return min(len(fs.data), fs.lineStarts[line-1]+max(0, col-1))
}

// encrypted reports a SOPS-encrypted file or a SealedSecret manifest: its
// values are ciphertext, and its plain keys were left plain on purpose.
func encrypted(ext string, data []byte) bool {
	switch ext {
	case ".yaml", ".yml", ".json", ".env", ".ini", ".txt", "":
	default:
		return false
	}
	if bytes.Contains(data, []byte("kind: SealedSecret")) {
		return true
	}
	if !bytes.Contains(data, []byte("ENC[AES256_GCM,")) {
		return false
	}
	return bytes.Contains(data, []byte("\nsops:")) || bytes.Contains(data, []byte(`"sops":`)) ||
		bytes.Contains(data, []byte("sops_version=")) || bytes.Contains(data, []byte("sops_mac="))
}

// resolve drops overlapping matches of one value in favour of the most
// specific rule (then the earlier rule), and sorts by position.
func (fs *fileScan) resolve() []candidate {
	fs.importedAllowlists()
	c := fs.cands
	slices.SortStableFunc(c, func(a, b candidate) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return better(b, a)
	})
	out := make([]candidate, 0, len(c))
	for _, x := range c {
		if x.start < 0 {
			out = append(out, x)
			continue
		}
		if n := len(out); n > 0 && out[n-1].start >= 0 && x.start < out[n-1].end {
			if better(x, out[n-1]) > 0 {
				x, out[n-1] = out[n-1], x
			}
			mergeNote(&out[n-1], x)
			continue
		}
		out = append(out, x)
	}
	slices.SortStableFunc(out, func(a, b candidate) int {
		if a.line != b.line {
			return a.line - b.line
		}
		if a.col != b.col {
			return a.col - b.col
		}
		return a.rule.index - b.rule.index
	})
	return out
}

// better is > 0 when a should win over b.
func better(a, b candidate) int {
	if a.rule.Specificity != b.rule.Specificity {
		return a.rule.Specificity - b.rule.Specificity
	}
	return b.rule.index - a.rule.index
}
