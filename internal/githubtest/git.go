package githubtest

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"
)

// Git objects are stored and hashed exactly as git does, so SHAs are real
// (a commit made here has the SHA git would give it) and tests can compare
// against a local git checkout. One store serves every repository of the
// emulator, as a fork network shares objects on GitHub.

// File modes as git writes them in trees.
const (
	ModeFile       = "100644"
	ModeExecutable = "100755"
	ModeSymlink    = "120000"
	modeTree       = "040000" // written "40000" in the object
)

type treeEntry struct {
	Mode string // ModeFile, ModeExecutable, ModeSymlink or modeTree
	Name string
	SHA  string
}

func (e treeEntry) isTree() bool { return e.Mode == modeTree }

func (e treeEntry) typ() string {
	if e.isTree() {
		return "tree"
	}
	return "blob"
}

type signature struct {
	Name  string
	Email string
	When  time.Time
}

func (s signature) String() string {
	return fmt.Sprintf("%s <%s> %d +0000", s.Name, s.Email, s.When.Unix())
}

type commitObject struct {
	SHA       string
	Tree      string
	Parents   []string
	Author    signature
	Committer signature
	Message   string
}

type objectStore struct {
	blobs   map[string][]byte
	trees   map[string][]treeEntry
	commits map[string]*commitObject
	// diffs caches tree comparisons: objects never change, and a big PR's
	// files are listed page by page.
	diffs map[string][]fileChange
}

func newObjectStore() *objectStore {
	return &objectStore{
		blobs:   map[string][]byte{},
		trees:   map[string][]treeEntry{},
		commits: map[string]*commitObject{},
		diffs:   map[string][]fileChange{},
	}
}

// diffCommits compares two commits' trees ("" is the empty tree), cached.
func (o *objectStore) diffCommits(base, head string, maxPatch int) []fileChange {
	var oldTree, newTree string
	if c := o.commits[base]; c != nil {
		oldTree = c.Tree
	}
	if c := o.commits[head]; c != nil {
		newTree = c.Tree
	}
	key := oldTree + ".." + newTree
	if d, ok := o.diffs[key]; ok {
		return d
	}
	d := o.diffTrees(oldTree, newTree, maxPatch)
	o.diffs[key] = d
	return d
}

func hashObject(kind string, data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", kind, len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

func (o *objectStore) putBlob(data []byte) string {
	sha := hashObject("blob", data)
	if _, ok := o.blobs[sha]; !ok {
		o.blobs[sha] = append([]byte(nil), data...)
	}
	return sha
}

// treeSortKey orders entries as git does: trees compare as if their name
// ended in a slash.
func treeSortKey(e treeEntry) string {
	if e.isTree() {
		return e.Name + "/"
	}
	return e.Name
}

func (o *objectStore) putTree(entries []treeEntry) string {
	sorted := append([]treeEntry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return treeSortKey(sorted[i]) < treeSortKey(sorted[j]) })
	var buf bytes.Buffer
	for _, e := range sorted {
		mode := e.Mode
		if mode == modeTree {
			mode = "40000"
		}
		raw, _ := hex.DecodeString(e.SHA)
		fmt.Fprintf(&buf, "%s %s\x00", mode, e.Name)
		buf.Write(raw)
	}
	sha := hashObject("tree", buf.Bytes())
	o.trees[sha] = sorted
	return sha
}

func (o *objectStore) putCommit(c commitObject) string {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "tree %s\n", c.Tree)
	for _, p := range c.Parents {
		fmt.Fprintf(&buf, "parent %s\n", p)
	}
	fmt.Fprintf(&buf, "author %s\ncommitter %s\n\n%s", c.Author, c.Committer, c.Message)
	c.SHA = hashObject("commit", buf.Bytes())
	if _, ok := o.commits[c.SHA]; !ok {
		stored := c
		o.commits[c.SHA] = &stored
	}
	return c.SHA
}

// fileEntry is one file of a flattened tree.
type fileEntry struct {
	SHA  string
	Mode string
}

// flatten lists every file under a tree by its full path.
func (o *objectStore) flatten(treeSHA string) map[string]fileEntry {
	out := map[string]fileEntry{}
	var walk func(sha, prefix string)
	walk = func(sha, prefix string) {
		for _, e := range o.trees[sha] {
			p := path.Join(prefix, e.Name)
			if e.isTree() {
				walk(e.SHA, p)
				continue
			}
			out[p] = fileEntry{SHA: e.SHA, Mode: e.Mode}
		}
	}
	walk(treeSHA, "")
	return out
}

// buildTree writes the trees for a flat file map and returns the root SHA.
func (o *objectStore) buildTree(files map[string]fileEntry) string {
	type dir struct {
		files map[string]fileEntry
		dirs  map[string]*dir
	}
	newDir := func() *dir { return &dir{files: map[string]fileEntry{}, dirs: map[string]*dir{}} }
	root := newDir()
	for p, f := range files {
		parts := strings.Split(p, "/")
		d := root
		for _, part := range parts[:len(parts)-1] {
			if d.dirs[part] == nil {
				d.dirs[part] = newDir()
			}
			d = d.dirs[part]
		}
		d.files[parts[len(parts)-1]] = f
	}
	var write func(d *dir) string
	write = func(d *dir) string {
		entries := make([]treeEntry, 0, len(d.files)+len(d.dirs))
		for name, f := range d.files {
			entries = append(entries, treeEntry{Mode: f.Mode, Name: name, SHA: f.SHA})
		}
		for name, sub := range d.dirs {
			entries = append(entries, treeEntry{Mode: modeTree, Name: name, SHA: write(sub)})
		}
		return o.putTree(entries)
	}
	return write(root)
}

// ancestors returns every commit reachable from sha, sha included.
func (o *objectStore) ancestors(sha string) map[string]bool {
	seen := map[string]bool{}
	stack := []string{sha}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[c] || o.commits[c] == nil {
			continue
		}
		seen[c] = true
		stack = append(stack, o.commits[c].Parents...)
	}
	return seen
}

// mergeBase finds the best common ancestor of a and b: a common ancestor
// that no other common ancestor descends from (the newest one when
// several qualify, which is enough for linear and simple merge histories).
func (o *objectStore) mergeBase(a, b string) string {
	fromA := o.ancestors(a)
	var best string
	var bestTime time.Time
	for c := range o.ancestors(b) {
		if !fromA[c] {
			continue
		}
		when := o.commits[c].Committer.When
		if best == "" || when.After(bestTime) || (when.Equal(bestTime) && o.ancestors(c)[best]) {
			best, bestTime = c, when
		}
	}
	return best
}

// commitsBetween lists the commits reachable from head but not from base,
// oldest first (parents before children), as GitHub lists a PR's commits.
func (o *objectStore) commitsBetween(base, head string) []*commitObject {
	exclude := map[string]bool{}
	if base != "" {
		exclude = o.ancestors(base)
	}
	var out []*commitObject
	visited := map[string]bool{}
	var visit func(sha string)
	visit = func(sha string) {
		// Iterative over first parents to survive long histories; merge
		// side branches recurse.
		var chain []string
		for sha != "" && !visited[sha] && !exclude[sha] && o.commits[sha] != nil {
			visited[sha] = true
			chain = append(chain, sha)
			c := o.commits[sha]
			for _, p := range c.Parents[min(1, len(c.Parents)):] {
				visit(p)
			}
			sha = ""
			if len(c.Parents) > 0 {
				sha = c.Parents[0]
			}
		}
		for i := len(chain) - 1; i >= 0; i-- {
			out = append(out, o.commits[chain[i]])
		}
	}
	visit(head)
	// Parents first, then by commit time: a stable, GitHub-like order.
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Committer.When.Before(out[j].Committer.When)
	})
	return out
}
