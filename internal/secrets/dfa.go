package secrets

import (
	"regexp"
	"regexp/syntax"
	"slices"
)

// prefixDFA is a filter for an anchored regex: Match false means the
// regex does not match at the start of the text. It is a DFA over ASCII
// bytes, built once when the rule is first used. Go's regexp backtracks
// through the alternatives of an assignment's operator and value at every
// keyword hit (most of the time to say no); the DFA reads each byte once,
// and mostly stops within a few. Text holding a
// non-ASCII byte, where case folding reaches beyond ASCII, goes to the
// regexp instead; a regex with too many states gets no DFA. Assertions
// (^, $, \b) are taken to hold wherever they stand, which can only make
// Match say true where the regexp says false: the regexp runs after a
// true anyway.
type prefixDFA struct {
	re     *regexp.Regexp // the fallback, same regex
	class  [128]uint8
	nclass int
	trans  []int32 // state*nclass+class → state; state 0 is dead
	accept []bool
	start  int32
}

const maxDFAStates = 2048

// newPrefixDFA builds the DFA of re (which starts with ^), or returns nil.
func newPrefixDFA(re *regexp.Regexp) *prefixDFA {
	t, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	prog, err := syntax.Compile(t.Simplify())
	if err != nil {
		return nil
	}
	var runeInsts []int
	for pc, in := range prog.Inst {
		switch in.Op {
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			runeInsts = append(runeInsts, pc)
		}
	}
	d := &prefixDFA{re: re}
	// Byte classes: bytes every rune instruction treats alike.
	sig := map[string]uint8{}
	for b := range 128 {
		key := make([]byte, len(runeInsts))
		for i, pc := range runeInsts {
			if prog.Inst[pc].MatchRune(rune(b)) {
				key[i] = 1
			}
		}
		c, ok := sig[string(key)]
		if !ok {
			c = uint8(len(sig))
			if len(sig) == 128 {
				return nil
			}
			sig[string(key)] = c
		}
		d.class[b] = c
	}
	d.nclass = len(sig)
	rep := make([]rune, d.nclass) // a byte of each class
	for b := 127; b >= 0; b-- {
		rep[d.class[b]] = rune(b)
	}

	// closure adds pc and what it reaches without reading a byte.
	var closure func(set []uint32, seen []bool, pc uint32) []uint32
	closure = func(set []uint32, seen []bool, pc uint32) []uint32 {
		if seen[pc] {
			return set
		}
		seen[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			set = closure(set, seen, in.Out)
			return closure(set, seen, in.Arg)
		case syntax.InstCapture, syntax.InstNop, syntax.InstEmptyWidth:
			return closure(set, seen, in.Out)
		case syntax.InstFail:
			return set
		}
		return append(set, pc) // a rune instruction or the match
	}
	ids := map[string]int32{}
	var sets [][]uint32
	key := func(set []uint32) string {
		slices.Sort(set)
		b := make([]byte, 0, 4*len(set))
		for _, pc := range set {
			b = append(b, byte(pc), byte(pc>>8), byte(pc>>16), byte(pc>>24))
		}
		return string(b)
	}
	add := func(set []uint32) int32 {
		k := key(set)
		if id, ok := ids[k]; ok {
			return id
		}
		id := int32(len(sets))
		ids[k] = id
		sets = append(sets, set)
		acc := false
		for _, pc := range set {
			acc = acc || prog.Inst[pc].Op == syntax.InstMatch
		}
		d.accept = append(d.accept, acc)
		d.trans = append(d.trans, make([]int32, d.nclass)...)
		return id
	}
	add(nil) // dead
	d.start = add(closure(nil, make([]bool, len(prog.Inst)), uint32(prog.Start)))
	seen := make([]bool, len(prog.Inst))
	for s := 1; s < len(sets); s++ {
		if len(sets) > maxDFAStates {
			return nil
		}
		if d.accept[s] {
			continue // a match: Match stops here
		}
		for c := range d.nclass {
			clear(seen)
			var next []uint32
			for _, pc := range sets[s] {
				in := &prog.Inst[pc]
				if in.Op != syntax.InstMatch && in.MatchRune(rep[c]) {
					next = closure(next, seen, in.Out)
				}
			}
			d.trans[s*d.nclass+c] = add(next)
		}
	}
	// Accepting states as negative numbers, so that Match tests one
	// value per byte for "match" and "dead".
	for i, t := range d.trans {
		if t > 0 && d.accept[t] {
			d.trans[i] = -t
		}
	}
	if d.accept[d.start] {
		d.start = -d.start
	}
	return d
}

// Match reports whether the regex may match at the start of b (false:
// it does not).
func (d *prefixDFA) Match(b []byte) bool {
	s := d.start
	if s < 0 {
		return true
	}
	for _, c := range b {
		if c >= 0x80 {
			return d.re.Match(b)
		}
		s = d.trans[int(s)*d.nclass+int(d.class[c])]
		if s <= 0 {
			return s < 0 // a match, or the dead state
		}
	}
	return false
}
