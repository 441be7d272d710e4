package secrets

import (
	"bytes"
	"context"
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

	// MaxFindingsPerRule is how many findings of one rule one file
	// reports; past it one KindCapped finding says how many more matches
	// there were (counted after the cheap filters only — length, entropy,
	// placeholders — so a findings-dense file costs little).
	MaxFindingsPerRule = 100
	// ctxEvery is how many bytes the keyword pass reads between two looks
	// at the context's deadline.
	ctxEvery = 1 << 20
)

// candidate is a match before overlap resolution. It holds the raw value,
// so it never leaves the package.
type candidate struct {
	rule       *Rule
	tier       Tier
	start, end int // value's absolute byte range; -1 for file rules
	line, col  int
	endLine    int // the line of the value's last byte
	value      string
	allow      string // the inline allow marker on the value's line(s), "" for none
	allowLine  int    // the line carrying it
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
		Allowed:     c.allow != "",
		AllowedBy:   c.allow,
		AllowedLine: c.allowLine,
		Context:     c.note,
	}
	for _, f := range c.former {
		fd.FormerFingerprints = append(fd.FormerFingerprints, Fingerprint(f[0], p, f[1]))
	}
	return fd
}

// fileScan is the per-file scratch state, pooled so that the hot path does
// not allocate per file.
//
// A file is scanned in one piece (data is the whole file) or streamed in
// segments (data is a window of it, origin its offset in the file): every
// offset inside fileScan is relative to data, candidates keep absolute
// ones.
type fileScan struct {
	s          *Scanner
	ctx        context.Context
	path, base string
	ext        string
	data       []byte
	origin     int    // offset of data[0] in the file
	streamed   bool   // data is a window of a larger file
	active     []int8 // per rule: 0 unknown, 1 applies, -1 does not
	doneUntil  []int  // per rule: window end already evaluated
	structTrig []bool
	fileDone   []bool // per file rule: its content condition matched
	anchorAt   []int  // per anchored rule: the key start last evaluated
	ctxc       []ctxCache
	keyMemo    []keyMemo
	kept       []int // per rule: candidates kept
	omitted    []int // per rule: candidates past MaxFindingsPerRule
	seen       map[seenKey]bool
	cands      []candidate
	curPos     int // line cursor: offset and its 1-based line
	curLine    int
	lineStarts []int
	// added, when set, admits only values on those lines (a change's
	// added lines); nil admits all.
	added func(line int) bool
	// lineMap, when set, maps the lines of data (the added lines of a
	// change, one after another) to the file's (see linesAt).
	lineMap []int
	decoded bool         // scanning a decoded value (decode.go): no further decoding
	pending []pendingHit // the keyword pass's scratch (prefilter.scan2)
}

// ctxCache remembers, per rule, where its context regex is known to match
// and a range where it is known not to, so that consecutive hits (a
// findings-dense file) search only the bytes their window adds.
type ctxCache struct {
	path       int8 // 0 unknown, 1 the path matches, -1 it does not
	escPath    int8 // the same for BootstrapIf.Paths
	noLo, noHi int  // no match starts in [noLo, noHi)
	mLo, mHi   int  // a match; mHi == 0 when none is known
}

// keyMemo remembers a rule's verdicts on the last key it saw: keys repeat
// (every line of a findings-dense file says "password").
type keyMemo struct {
	key                       string
	valid, allowed, escalates bool
}

type seenKey struct {
	rule  int
	value string
	line  int
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
	fs.fileDone = resize(fs.fileDone, n)
	fs.anchorAt = resize(fs.anchorAt, n)
	fs.ctxc = resize(fs.ctxc, n)
	fs.keyMemo = resize(fs.keyMemo, n)
	fs.kept = resize(fs.kept, n)
	fs.omitted = resize(fs.omitted, n)
	return fs
}

func putFileScan(fs *fileScan) {
	fs.data = nil
	fs.ctx = nil
	fs.added = nil
	fs.lineMap = nil
	fs.cands = fs.cands[:0]
	fs.lineStarts = fs.lineStarts[:0]
	clear(fs.seen)
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

// run collects candidates for a file held whole.
func (fs *fileScan) run(ctx context.Context, p string, data []byte, scanContent bool) error {
	if scanContent && encrypted(path.Ext(p), data) {
		scanContent = false // ciphertext: only file names count
	}
	fs.begin(ctx, p, scanContent, false)
	if !scanContent {
		return nil
	}
	if err := fs.segment(data, 0, 0, len(data)); err != nil {
		return err
	}
	fs.finish()
	return nil
}

// begin starts a file: its name rules, and the per-rule state.
func (fs *fileScan) begin(ctx context.Context, p string, scanContent, streamed bool) {
	fs.ctx = ctx
	fs.path, fs.base, fs.ext = p, path.Base(p), path.Ext(p)
	fs.data, fs.origin, fs.streamed = nil, 0, streamed
	fs.curPos, fs.curLine = 0, 1
	clear(fs.active)
	clear(fs.doneUntil)
	clear(fs.structTrig)
	clear(fs.fileDone)
	clear(fs.ctxc)
	clear(fs.keyMemo)
	for i := range fs.anchorAt {
		fs.anchorAt[i] = -1
	}
	clear(fs.kept)
	clear(fs.omitted)
	for _, r := range fs.s.rules.rules {
		if r.Kind == KindFile && fs.applies(r) {
			if r.re == nil {
				fs.cands = append(fs.cands, candidate{rule: r, tier: r.Tier, start: -1, end: -1})
			} else if !scanContent {
				fs.fileDone[r.index] = true // a content condition needs content
			}
		}
	}
}

// segment runs the rules on the keyword hits that end in data[from:to].
// data must reach far enough around that range for every window (the
// whole file, or the stream's look-behind and look-ahead); origin is
// data[0]'s offset in the file.
func (fs *fileScan) segment(data []byte, origin, from, to int) error {
	fs.data, fs.origin = data, origin
	rules := fs.s.rules.rules
	for _, r := range rules {
		// r.Regex, not r.re: the regex exists once applies compiled it.
		if r.Kind == KindFile && r.Regex != "" && !fs.fileDone[r.index] && fs.applies(r) {
			fs.fileRule(r, from, to)
		}
	}
	kwRules := fs.s.rules.kwRules
	hit := func(end int, ids []int32) {
		if end <= from {
			return // seen by the previous segment
		}
		for _, kw := range ids {
			for _, ri := range kwRules[kw] {
				if end <= fs.doneUntil[ri] {
					continue
				}
				r := rules[ri]
				if !fs.applies(r) {
					continue
				}
				switch {
				case r.anchored != nil:
					fs.evalAnchored(r, end-len(fs.s.rules.pf.keywords[kw]), end)
				case r.Kind == KindSecret:
					ws, we := fs.window(r, end)
					if r.assigns && bytes.IndexAny(data[end:we], ":=,") < 0 {
						continue // no operator after this keyword on its line
					}
					fs.doneUntil[ri] = we
					fs.evalRule(r, ws, we)
				case r.Kind == KindStructural:
					fs.structTrig[ri] = true
					fs.doneUntil[ri] = len(data)
				}
			}
		}
	}
	// Keywords are at most 64 bytes: start early enough to see one that
	// straddles from.
	var st uint32
	for lo := max(0, from-maxKeyword); lo < to; lo += ctxEvery {
		if err := fs.ctx.Err(); err != nil {
			return fs.stopped(lo, err)
		}
		st = fs.s.rules.pf.scanFrom(data[:min(to, lo+ctxEvery)], lo, st, &fs.pending, hit)
	}
	return nil
}

// finish runs the structural rules a file triggered (on files held whole).
func (fs *fileScan) finish() {
	if fs.streamed {
		return
	}
	for ri, trig := range fs.structTrig {
		if trig {
			fs.structural(fs.s.rules.rules[ri])
		}
	}
	fs.scanEncoded()
}

// shift drops the first n bytes of the window (the caller moves them out)
// keeping the cursors valid.
func (fs *fileScan) shift(n int) {
	fs.lineAt(n)
	fs.curPos -= n
	fs.origin += n
	for i := range fs.doneUntil {
		fs.doneUntil[i] -= n
		fs.anchorAt[i] -= n
		c := &fs.ctxc[i]
		c.noLo, c.noHi, c.mLo, c.mHi = c.noLo-n, c.noHi-n, c.mLo-n, c.mHi-n
		if c.mHi <= 0 {
			c.mLo, c.mHi = 0, 0
		}
	}
}

// StopError says where a scan stopped when its context ended.
type StopError struct {
	Path string
	Line int
	Err  error
}

func (e *StopError) Error() string {
	return "stopped at " + e.Path + " line " + itoa(e.Line) + ": " + e.Err.Error()
}

func (e *StopError) Unwrap() error { return e.Err }

func (fs *fileScan) stopped(off int, err error) error {
	return &StopError{Path: fs.path, Line: fs.lineAt(min(off, len(fs.data))), Err: err}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

// keep decides whether a candidate that passed its rule's filters is
// kept: once per value and line (a value repeated on another line is
// reported there too, so that every copy is seen and removed), and at
// most MaxFindingsPerRule per rule (the rest only counted).
func (fs *fileScan) keep(r *Rule, value string, line, endLine int) bool {
	if fs.added != nil {
		ok := false
		for l := line; l <= endLine && !ok; l++ {
			ok = fs.added(l)
		}
		if !ok {
			return false
		}
	}
	k := seenKey{r.index, value, line}
	if fs.seen[k] {
		return false
	}
	if fs.kept[r.index] >= MaxFindingsPerRule {
		fs.omitted[r.index]++
		return false
	}
	if fs.seen == nil {
		fs.seen = map[seenKey]bool{}
	}
	fs.seen[k] = true
	fs.kept[r.index]++
	return true
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
	re := r.re
	if r.lineStart != nil && !r.Multiline {
		re = r.lineStart // a one-line window: ^ is its start
		if r.lineDFA != nil && !r.lineDFA.Match(w) {
			return
		}
	}
	for _, m := range re.FindAllSubmatchIndex(w, -1) {
		fs.match(r, ws, m)
	}
}

// evalAnchored evaluates an assignment rule at one keyword hit
// data[ks:end]: its key is the identifier that holds the keyword, so the
// regex runs once, anchored at that identifier's start, up to the end of
// the line — not from every position of the line, which made
// keyword-dense code slow.
func (fs *fileScan) evalAnchored(r *Rule, ks, end int) {
	data := fs.data
	lo := max(0, ks-maxLineScan)
	is := ks
	for is > lo && identByte[data[is-1]] {
		is--
	}
	if is == fs.anchorAt[r.index] {
		return // another keyword of the same key
	}
	fs.anchorAt[r.index] = is
	hi := min(len(data), end+maxLineScan)
	we := hi
	if i := bytes.IndexByte(data[end:hi], '\n'); i >= 0 {
		we = end + i
	} else if hi < len(data) {
		we = min(len(data), end+longLineSlack)
	}
	ie := end
	for ie < we && identByte[data[ie]] {
		ie++
	}
	if r.opAfterKey {
		// The key ends where its identifier does; an operator follows,
		// after an optional quote and blanks.
		// A quoted key may also be a call's first argument, followed by
		// a comma: setProperty("KEY", "value").
		j := ie
		quoted := j < we && (data[j] == '"' || data[j] == '\'')
		if quoted {
			j++
		}
		for j < we && (data[j] == ' ' || data[j] == '\t') {
			j++
		}
		if j >= we || (data[j] != ':' && data[j] != '=' && (!quoted || data[j] != ',')) {
			return
		}
	} else if r.afterDFA == nil && bytes.IndexAny(data[end:we], ":=,") < 0 {
		// No operator (or the comma of a quoted key's call) after this
		// keyword on its line. (The DFA says so sooner: it stops within
		// a few bytes, this reads to the line's end.)
		return
	}
	if r.afterKey != nil && !fs.tailFits(r, is, ie, we) {
		return // operator and value do not fit
	}
	as := is
	if r.boundary && is > 0 {
		as = is - 1 // the regex starts with the byte before the key
	}
	if r.afterKey == nil && !r.anchored.Match(data[as:we]) {
		return // cheaper than asking for the groups of a match that is not there
	}
	if m := r.anchored.FindSubmatchIndex(data[as:we]); m != nil {
		fs.match(r, as, m)
	}
}

// tailFits reports whether the rule's regex after its key (afterKey)
// matches where the key can end: at the end of its identifier
// data[is:ie], or inside it before a byte the tail can start with. The
// key is made of identifier bytes, so it ends at one of those places.
func (fs *fileScan) tailFits(r *Rule, is, ie, we int) bool {
	data := fs.data
	if r.tailMatch(data[ie:we]) {
		return true
	}
	for k := is; k < ie; k++ {
		if r.tailStarts[data[k]] && r.tailMatch(data[k:we]) {
			return true
		}
	}
	return false
}

// tailMatch: afterKey may match at the start of b (its DFA when it has
// one).
func (r *Rule) tailMatch(b []byte) bool {
	if r.afterDFA != nil {
		return r.afterDFA.Match(b)
	}
	return r.afterKey.Match(b)
}

// identByte: the bytes an assignment's key is made of ([a-z0-9_.-], any
// case).
var identByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['_'], t['.'], t['-'] = true, true, true
	return t
}()

// match considers one regex match m, found in data[ws:].
func (fs *fileScan) match(r *Rule, ws int, m []int) {
	w := fs.data[ws:]
	vs, ve := -1, -1
	for _, g := range r.secretIdx {
		if m[2*g] >= 0 {
			vs, ve = m[2*g], m[2*g+1]
			break
		}
	}
	if vs < 0 {
		return
	}
	key := ""
	if r.keyIdx > 0 && m[2*r.keyIdx] >= 0 {
		key = string(w[m[2*r.keyIdx]:m[2*r.keyIdx+1]])
	}
	fs.consider(r, ws+vs, ws+ve, key)
}

// consider applies a secret rule's filters to the value data[vs:ve].
func (fs *fileScan) consider(r *Rule, vs, ve int, key string) {
	data := fs.data
	v := data[vs:ve]
	if len(v) == 0 || !r.strongEnough(string(v)) {
		return
	}
	if r.QuotedInCode && codeExts[fs.ext] {
		if vs == 0 || (data[vs-1] != '"' && data[vs-1] != '\'' && data[vs-1] != '`') {
			return
		}
	}
	value := string(v)
	if placeholderFor(r, value) {
		return
	}
	if r.Specificity < genericSpecificity && fs.s.rules.truncatedToken(value) {
		return // a vendor's prefix on a value too short to be its token
	}
	if fs.kept[r.index] >= MaxFindingsPerRule {
		// Capped: the rest are only counted, without the costlier
		// filters, so that a findings-dense file stays cheap.
		if fs.added != nil {
			ln := fs.lineAt(vs)
			if !fs.added(ln) {
				return
			}
		}
		fs.omitted[r.index]++
		return
	}
	if (r.allowStart != nil && r.allowStart.MatchString(value)) || (r.allowElse != nil && r.allowElse.MatchString(value)) {
		return
	}
	memo := &fs.keyMemo[r.index]
	if memo.key != key || !memo.valid {
		*memo = keyMemo{key: key, valid: true}
		memo.allowed = r.allowKeyAny != nil && r.allowKeyAny.MatchString(key)
		memo.escalates = r.escKey != nil && key != "" && r.escKey.MatchString(key) &&
			(r.escUnless == nil || !r.escUnless.MatchString(key))
	}
	if memo.allowed {
		return
	}
	ls, le := lineBounds(data, vs)
	line := data[ls:le]
	if r.allowLnAny != nil && r.allowLnAny.Match(line) {
		return
	}
	if r.context != nil && !fs.inContext(r, ls, le) {
		return
	}
	tier := r.Tier
	if e := r.BootstrapIf; e != nil && tier == Runtime {
		pm := &fs.ctxc[r.index].escPath
		if *pm == 0 {
			*pm = -1
			if matchAny(e.Paths, fs.path, fs.base) {
				*pm = 1
			}
		}
		switch {
		case *pm > 0:
			tier = Bootstrap
		case key != "":
			if memo.escalates {
				tier = Bootstrap
			}
		case r.escKey != nil && r.escKey.Match(line) && (r.escUnless == nil || !r.escUnless.Match(line)):
			tier = Bootstrap
		}
	}
	ln := fs.lineAt(vs)
	endLine := ln + bytes.Count(v, []byte{'\n'})
	if !fs.keep(r, value, ln, endLine) {
		return
	}
	c := candidate{
		rule: r, tier: tier, start: fs.origin + vs, end: fs.origin + ve,
		line: ln, col: utf8.RuneCount(data[ls:vs]) + 1, endLine: endLine,
		value: value,
	}
	c.allow, c.allowLine = fs.allowedAt(ls, le, ve, ln)
	fs.cands = append(fs.cands, c)
}

// allowedAt looks for an inline allow on the value's line or, for a value
// spanning several lines (a private key block), on any of them, and
// returns its marker and the line that carries it.
func (fs *fileScan) allowedAt(ls, le, ve, line int) (string, int) {
	if m, l := lineAllow(fs.data[ls:le], line); m != "" || ve <= le {
		return m, l
	}
	_, last := lineBounds(fs.data, ve-1)
	i, m := indexAllowMarker(fs.data[le:last])
	if i < 0 {
		return "", 0
	}
	return m, line + bytes.Count(fs.data[le:le+i], []byte{'\n'})
}

// inlineAllowMarkers are the inline allow comments: Housekeeper's own and
// detect-secrets' (its current and its legacy spelling), so a team that
// moves keeps the lines it already reviewed. Each counts as
// housekeeper:allow does: only where the line is already on the base
// branch (always in an audit), so an author cannot waive their own finding.
var inlineAllowMarkers = [][]byte{
	[]byte(allowMarker),
	[]byte("pragma: allowlist secret"),
	[]byte("pragma: whitelist secret"),
}

// lineAllow is the inline allow marker a line carries, "" for none, with
// the line's number (0 for none) as a candidate keeps them.
func lineAllow(line []byte, n int) (string, int) {
	if _, m := indexAllowMarker(line); m != "" {
		return m, n
	}
	return "", 0
}

// indexAllowMarker returns where the first inline allow comment in b
// starts and which marker it is, or -1 and "".
func indexAllowMarker(b []byte) (int, string) {
	first := -1
	var marker []byte
	for _, m := range inlineAllowMarkers {
		if i := bytes.Index(b, m); i >= 0 && (first < 0 || i < first) {
			first, marker = i, m
		}
	}
	return first, string(marker)
}

// inContext reports whether the rule's context regex matches the path or
// the lines around [ls, le). Consecutive calls reuse what earlier ones
// learnt (ctxCache), so each searches only the bytes its window adds.
func (fs *fileScan) inContext(r *Rule, ls, le int) bool {
	c := &fs.ctxc[r.index]
	if c.path == 0 {
		c.path = -1
		if r.context.MatchString(fs.path) {
			c.path = 1
		}
	}
	if c.path > 0 {
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
	if c.mHi > c.mLo && c.mLo >= lo && c.mHi <= hi {
		return true
	}
	// A context regex is a short alternation: a match that straddles the
	// known-clean range's end starts at most ctxOverlap bytes before it.
	const ctxOverlap = 32
	from := lo
	if c.noLo <= lo && c.noHi > lo {
		if c.noHi >= hi {
			return false
		}
		from = max(lo, c.noHi-ctxOverlap)
	}
	m := r.context.FindIndex(data[from:hi])
	end := hi
	if m != nil {
		c.mLo, c.mHi = from+m[0], from+m[1]
		end = from + m[0]
	}
	if c.noLo <= from && c.noHi >= from {
		c.noHi = max(c.noHi, end)
	} else {
		c.noLo, c.noHi = from, end
	}
	return m != nil
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
	if m := fs.lineMap; m != nil {
		at := func(l int) int {
			if l > 0 && l < len(m) {
				return m[l]
			}
			return l
		}
		for i := range out {
			c := &out[i]
			c.line, c.endLine = at(c.line), at(c.endLine)
			if c.allowLine > 0 {
				c.allowLine = at(c.allowLine)
			}
		}
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
