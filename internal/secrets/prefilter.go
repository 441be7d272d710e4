package secrets

import "slices"

// prefilter is a case-insensitive Aho–Corasick automaton compiled to a dense
// DFA over byte classes. One pass over a file finds every keyword of every
// rule, so regular expressions only ever run on the few lines around a hit.
//
// Bytes that occur in no keyword share one class, which keeps the transition
// table small enough to stay in cache (states × classes). States are stored
// pre-multiplied by the class count, and a state with output carries
// acceptBit so the hot loop needs one load and one test per byte.
type prefilter struct {
	class    [256]uint8
	nclass   uint32
	trans    []uint32
	outputs  [][]int32 // state index → keyword ids ending there (incl. via failure links)
	keywords []string
}

const acceptBit = 1 << 31

func newPrefilter(keywords []string) *prefilter {
	p := &prefilter{keywords: keywords}
	// Byte classes: class 0 is "in no keyword"; upper- and lower-case ASCII
	// letters share a class so the automaton folds case for free.
	var used [256]bool
	for _, k := range keywords {
		for i := 0; i < len(k); i++ {
			used[lower(k[i])] = true
		}
	}
	n := uint8(1)
	for c := 0; c < 256; c++ {
		if used[c] {
			p.class[c] = n
			n++
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		p.class[c] = p.class[c+'a'-'A']
	}
	p.nclass = uint32(n)

	// Trie, in one flat table that becomes the DFA's (one allocation, not
	// one per node, and no second table: this runs at every start).
	nc := uint32(n)
	const none = ^uint32(0)
	size := 1
	for _, k := range keywords {
		size += len(k)
	}
	// size bounds the node count: the slices never grow (growing outs, a
	// slice of pointers, cost more than the automaton at every start).
	trans := make([]uint32, 0, size*int(nc)) // pages are touched as used
	fail := make([]uint32, 0, size)
	outs := make([][]int32, 0, size)
	newNode := func() uint32 {
		n := len(trans)
		trans = trans[:n+int(nc)]
		for i := n; i < len(trans); i++ {
			trans[i] = none
		}
		fail = append(fail, 0)
		outs = append(outs, nil)
		return uint32(len(fail) - 1)
	}
	newNode()
	for id, k := range keywords {
		s := uint32(0)
		for i := 0; i < len(k); i++ {
			c := uint32(p.class[k[i]])
			if trans[s*nc+c] == none {
				t := newNode()
				trans[s*nc+c] = t
			}
			s = trans[s*nc+c]
		}
		outs[s] = append(outs[s], int32(id))
	}
	// BFS for failure links, completing the goto function into a DFA.
	queue := make([]uint32, 0, len(fail))
	for c := range nc {
		if t := trans[c]; t != none {
			fail[t] = 0
			queue = append(queue, t)
		} else {
			trans[c] = 0
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := fail[s]
		if len(outs[f]) > 0 {
			outs[s] = append(outs[s], outs[f]...)
		}
		for c := range nc {
			if t := trans[s*nc+c]; t != none {
				fail[t] = trans[f*nc+c]
				queue = append(queue, t)
			} else {
				trans[s*nc+c] = trans[f*nc+c]
			}
		}
	}
	// States pre-multiplied by the class count, acceptBit where a keyword
	// ends.
	for i, t := range trans {
		v := t * nc
		if len(outs[t]) > 0 {
			v |= acceptBit
		}
		trans[i] = v
	}
	for _, out := range outs {
		slices.Sort(out)
	}
	p.trans, p.outputs = trans, outs
	return p
}

// scanFrom runs the automaton over data[from:] from state st, calling
// hit(end, keywordIDs) for every position where at least one keyword ends
// (end is the index just past the keyword's last byte), in order, and
// returns the state it ended in, so that a long input can be scanned in
// pieces. pend is scratch space for hits held back (see scan2).
func (p *prefilter) scanFrom(data []byte, from int, st uint32, pend *[]pendingHit, hit func(end int, ids []int32)) uint32 {
	if len(data)-from < minSplit {
		return p.scan1(data, from, len(data), st, hit)
	}
	return p.scan2(data, from, st, pend, hit)
}

// scan1 runs the automaton over data[from:to].
func (p *prefilter) scan1(data []byte, from, to int, st uint32, hit func(end int, ids []int32)) uint32 {
	trans, class := p.trans, &p.class
	s := st
	for i := from; i < to; i++ {
		s = trans[s+uint32(class[data[i]])]
		if s&acceptBit != 0 {
			s &^= acceptBit
			hit(i+1, p.outputs[s/p.nclass])
		}
	}
	return s
}

// maxKeyword bounds a keyword's length (rules.go refuses longer ones): the
// automaton's state after reading that many bytes from the start state is
// the state it would be in after reading everything before them.
const maxKeyword = 64

// minSplit is the shortest input scanned as two halves.
const minSplit = 4 * maxKeyword

// maxPending bounds the hits the second half holds back (a var for tests).
var maxPending = 1024

// pendingHit is a hit of scan2's second half, reported once the first
// half's are.
type pendingHit struct {
	end   int
	state uint32
}

// scan2 runs the automaton over two halves of data[from:] at once: the
// second half starts maxKeyword bytes early from the start state, which
// brings it to the true state by the half's first byte. A byte's
// transition waits on the one before it, so one pass runs at the speed of
// a chain of dependent loads; two independent chains nearly double it. The
// second half's hits are held back (up to maxPending, after which the
// halves finish one after the other) and reported after the first's, so
// hits still come in order.
func (p *prefilter) scan2(data []byte, from int, st uint32, pend *[]pendingHit, hit func(end int, ids []int32)) uint32 {
	trans, class := p.trans, &p.class
	mid := from + (len(data)-from+maxKeyword)/2
	sa, sb := st, uint32(0)
	i, j := from, mid-maxKeyword
	held := (*pend)[:0]
	for i < mid && len(held) < maxPending {
		sa = trans[sa+uint32(class[data[i]])]
		sb = trans[sb+uint32(class[data[j]])]
		i++
		j++
		if (sa|sb)&acceptBit != 0 {
			if sa&acceptBit != 0 {
				sa &^= acceptBit
				hit(i, p.outputs[sa/p.nclass])
			}
			if sb&acceptBit != 0 {
				sb &^= acceptBit
				if j > mid { // hits up to mid are the first half's
					held = append(held, pendingHit{j, sb})
				}
			}
		}
	}
	// Both halves are done (j at the end), or held is full (then j is
	// past the split, since only hits past it are held): the first half
	// finishes, the held hits follow, and the second half goes on.
	p.scan1(data, i, mid, sa, hit)
	for _, h := range held {
		hit(h.end, p.outputs[h.state/p.nclass])
	}
	*pend = held[:0]
	return p.scan1(data, j, len(data), sb, hit)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
