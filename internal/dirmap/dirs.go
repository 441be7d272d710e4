package dirmap

import (
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// dirSet holds the directories that exist in a tree: every ancestor of a
// file (git keeps no empty directories).
type dirSet struct {
	has   map[string]bool
	files map[string]bool
	list  []string // sorted
}

func newDirSet(files []string) *dirSet {
	s := &dirSet{has: map[string]bool{}, files: make(map[string]bool, len(files))}
	for _, f := range files {
		s.files[f] = true
		for d := parentDir(f); d != "" && !s.has[d]; d = parentDir(d) {
			s.has[d] = true
		}
	}
	s.list = make([]string, 0, len(s.has))
	for d := range s.has {
		s.list = append(s.list, d)
	}
	sort.Strings(s.list)
	return s
}

// matching returns the directories a glob entry matches, looking only
// under the glob's literal base so large maps stay fast.
func (s *dirSet) matching(glob string) []string {
	base, _ := doublestar.SplitPattern(glob)
	lo, hi := 0, len(s.list)
	if base != "." && base != "" {
		prefix := base + "/"
		lo = sort.SearchStrings(s.list, prefix)
		hi = lo + sort.Search(len(s.list)-lo, func(i int) bool { return !strings.HasPrefix(s.list[lo+i], prefix) })
	}
	var out []string
	for _, d := range s.list[lo:hi] {
		if ok, _ := doublestar.Match(glob, d); ok {
			out = append(out, d)
		}
	}
	return out
}
