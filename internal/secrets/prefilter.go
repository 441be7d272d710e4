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

	// Trie, in flat tables (one allocation per table, not per node: this
	// runs at every start).
	nc := int(n)
	next := make([]int32, 0, 64*nc)
	var fail []int32
	var outs [][]int32
	newNode := func() int32 {
		for range nc {
			next = append(next, -1)
		}
		fail = append(fail, 0)
		outs = append(outs, nil)
		return int32(len(fail) - 1)
	}
	newNode()
	for id, k := range keywords {
		s := int32(0)
		for i := 0; i < len(k); i++ {
			c := int(p.class[k[i]])
			if next[int(s)*nc+c] < 0 {
				t := newNode()
				next[int(s)*nc+c] = t
			}
			s = next[int(s)*nc+c]
		}
		outs[s] = append(outs[s], int32(id))
	}
	// BFS for failure links, completing the goto function into a DFA.
	queue := make([]int32, 0, len(fail))
	for c := range nc {
		if t := next[c]; t > 0 {
			fail[t] = 0
			queue = append(queue, t)
		} else {
			next[c] = 0
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
			if t := next[int(s)*nc+c]; t >= 0 {
				fail[t] = next[int(f)*nc+c]
				queue = append(queue, t)
			} else {
				next[int(s)*nc+c] = next[int(f)*nc+c]
			}
		}
	}
	p.trans = make([]uint32, len(fail)*nc)
	p.outputs = make([][]int32, len(fail))
	for s := range fail {
		out := outs[s]
		slices.Sort(out)
		p.outputs[s] = out
		for c := range nc {
			t := next[s*nc+c]
			v := uint32(t) * p.nclass
			if len(outs[t]) > 0 {
				v |= acceptBit
			}
			p.trans[s*nc+c] = v
		}
	}
	return p
}

// scanFrom runs the automaton over data[from:] from state st, calling
// hit(end, keywordIDs) for every position where at least one keyword ends
// (end is the index just past the keyword's last byte), and returns the
// state it ended in, so that a long input can be scanned in pieces. It
// stops early when hit returns false.
func (p *prefilter) scanFrom(data []byte, from int, st uint32, hit func(end int, ids []int32) bool) uint32 {
	trans, class := p.trans, &p.class
	s := st
	for i := from; i < len(data); i++ {
		s = trans[s+uint32(class[data[i]])]
		if s&acceptBit != 0 {
			s &^= acceptBit
			if !hit(i+1, p.outputs[s/p.nclass]) {
				return s
			}
		}
	}
	return s
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
