package secrets

import "sort"

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

	// Trie.
	type node struct {
		next []int32
		fail int32
		out  []int32
	}
	newNode := func() node {
		nx := make([]int32, n)
		for i := range nx {
			nx[i] = -1
		}
		return node{next: nx}
	}
	nodes := []node{newNode()}
	for id, k := range keywords {
		s := int32(0)
		for i := 0; i < len(k); i++ {
			c := p.class[k[i]]
			if nodes[s].next[c] < 0 {
				nodes = append(nodes, newNode())
				nodes[s].next[c] = int32(len(nodes) - 1)
			}
			s = nodes[s].next[c]
		}
		nodes[s].out = append(nodes[s].out, int32(id))
	}
	// BFS for failure links, completing the goto function into a DFA.
	queue := make([]int32, 0, len(nodes))
	for c := uint8(0); c < n; c++ {
		if t := nodes[0].next[c]; t >= 0 {
			nodes[t].fail = 0
			queue = append(queue, t)
		} else {
			nodes[0].next[c] = 0
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		nodes[s].out = append(nodes[s].out, nodes[f].out...)
		for c := uint8(0); c < n; c++ {
			if t := nodes[s].next[c]; t >= 0 {
				nodes[t].fail = nodes[f].next[c]
				queue = append(queue, t)
			} else {
				nodes[s].next[c] = nodes[f].next[c]
			}
		}
	}
	p.trans = make([]uint32, len(nodes)*int(n))
	p.outputs = make([][]int32, len(nodes))
	for s := range nodes {
		out := nodes[s].out
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		p.outputs[s] = out
		for c := uint8(0); c < n; c++ {
			t := nodes[s].next[c]
			v := uint32(t) * p.nclass
			if len(nodes[t].out) > 0 {
				v |= acceptBit
			}
			p.trans[uint32(s)*p.nclass+uint32(c)] = v
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
