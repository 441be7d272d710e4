package secrets

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The keyword pass reports exactly the hits a brute-force search finds, in
// order, whether the input is scanned in one pass, as two interleaved
// halves, or in pieces that carry the state, and whatever the number of
// hits the second half may hold back.
func TestPrefilterFindsEveryKeyword(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for round := range 60 {
		// A small alphabet makes hits dense and overlapping.
		alpha := "abcAB_ =\n"[:3+r.Intn(6)]
		seen := map[string]bool{}
		var keywords []string
		for range 1 + r.Intn(12) {
			n := 1 + r.Intn(6)
			if r.Intn(10) == 0 {
				n = maxKeyword
			}
			k := make([]byte, n)
			for i := range k {
				k[i] = bytes.ToLower([]byte{alpha[r.Intn(len(alpha))]})[0]
			}
			if !seen[string(k)] {
				seen[string(k)] = true
				keywords = append(keywords, string(k))
			}
		}
		p := newPrefilter(keywords)
		data := make([]byte, r.Intn(6000))
		for i := range data {
			data[i] = alpha[r.Intn(len(alpha))]
		}
		want := bruteHits(keywords, data)
		for _, limit := range []int{1, 7, 1024} {
			old := maxPending
			maxPending = limit
			for _, pieces := range []int{1, 3} {
				var got []string
				hit := func(end int, ids []int32) { got = append(got, fmt.Sprint(end, ids)) }
				var pend []pendingHit
				st, at := uint32(0), 0
				for k := range pieces {
					to := len(data)
					if k < pieces-1 {
						to = at + r.Intn(len(data)-at+1)
					}
					st = p.scanFrom(data[:to], at, st, &pend, hit)
					at = to
				}
				if !slices.Equal(got, want) {
					t.Fatalf("round %d (keywords %q, %d bytes, %d pieces, hold %d):\n got %v\nwant %v", round, keywords, len(data), pieces, limit, got, want)
				}
				if cap(pend) > max(limit, 1)*2 {
					t.Errorf("held %d hits back, the bound is %d", cap(pend), limit)
				}
			}
			maxPending = old
		}
	}
}

func bruteHits(keywords []string, data []byte) []string {
	lower := bytes.ToLower(data)
	var out []string
	for end := 1; end <= len(data); end++ {
		var ids []int32
		for id, k := range keywords {
			if end >= len(k) && string(lower[end-len(k):end]) == k {
				ids = append(ids, int32(id))
			}
		}
		if len(ids) > 0 {
			out = append(out, fmt.Sprint(end, ids))
		}
	}
	return out
}

// BenchmarkPrefilter: the keyword pass alone over this package's Go
// source (code, comments, rule tables: a tree scan's common case).
func BenchmarkPrefilter(b *testing.B) {
	paths, _ := filepath.Glob("*.go")
	var data []byte
	for _, p := range paths {
		d, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, d...)
	}
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	pf := s.rules.pf
	var pend []pendingHit
	hits := 0
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		for lo := 0; lo < len(data); lo += 16 << 10 { // file-sized pieces
			pf.scanFrom(data[:min(len(data), lo+16<<10)], lo, 0, &pend, func(int, []int32) { hits++ })
		}
	}
}
