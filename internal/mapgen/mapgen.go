// Package mapgen generates an annotated directory map from a tree: every
// directory not ignored down to a depth, with Function, Layer and Namespace
// inferred where the tree says them (a README's first sentence, a Chart.yaml
// description, a Go package comment, well-known layouts, manifests'
// namespaces, the config's layer globs) and TODO elsewhere. On a tree that
// already has a map it adds only the missing entries, in the map's own
// format, through the dirs engine's fixes. The CLI (housekeeper init) and
// the App (onboarding pull requests) share it.
//
// Every file is hostile: reads are bounded per file and per tree, symbolic
// links are never read, inferred text is reduced to a safe alphabet, and a
// directory whose name cannot be written into a map is skipped with a note.
package mapgen

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/housekeeper-app/housekeeper/internal/dirmap"
	"github.com/housekeeper-app/housekeeper/internal/manifest"
)

// File is one file of the tree.
type File struct {
	Path    string // forward slashes, relative
	Size    int64
	Regular bool // false for symbolic links and the like: never read
}

// Source is the tree to read: a checkout or a tarball held in memory.
type Source interface {
	Files() []File
	// Read returns at most limit bytes of a regular file.
	Read(path string, limit int64) ([]byte, error)
}

// Options shape the map.
type Options struct {
	MapPath string        // e.g. docs/dir.md
	Depth   int           // list directories down to this depth (0: 2)
	Format  dirmap.Format // for a new map (0: table)
	// Ignore, MaxDepth, RequiredAnnotations and RootNames as in dirmap.
	Ignore              []string
	MaxDepth            int
	RequiredAnnotations []string
	RootNames           []string
	// Layer gives a directory's layer ("" for TODO).
	Layer func(dir string) string
	// Existing is the current map, when there is one.
	Existing    []byte
	HasExisting bool
}

// Entry is one directory written into the map.
type Entry struct {
	Path        string
	Annotations [][2]string // key, value (TODO when not inferred)
}

// Result is the map and what went into it.
type Result struct {
	Map []byte
	// Entries are the entries written: every entry of a new map, or those
	// added to an existing one.
	Entries []Entry
	// Extended is true when an existing map was extended (false: new map).
	Extended bool
	// Changed is false when an existing map needed nothing.
	Changed bool
	// Notes say what was skipped or cut (names that cannot be written,
	// read budgets).
	Notes []string
}

// TODOs lists "path: Key" for each annotation left TODO.
func (r *Result) TODOs() []string {
	var out []string
	for _, e := range r.Entries {
		for _, kv := range e.Annotations {
			if kv[1] == "TODO" {
				out = append(out, e.Path+": "+kv[0])
			}
		}
	}
	return out
}

const todo = "TODO"

// Generate builds or extends the map for src.
func Generate(src Source, opts Options) (*Result, error) {
	if opts.Depth <= 0 {
		opts.Depth = 2
	}
	if opts.Format == 0 {
		opts.Format = dirmap.FormatTable
	}
	ignore := opts.Ignore
	if ignore == nil {
		ignore = dirmap.DefaultIgnore
	}
	for _, g := range ignore {
		if !doublestar.ValidatePattern(g) {
			return nil, fmt.Errorf("mapgen: invalid ignore glob %q", g)
		}
	}
	g := &gen{src: src, opts: opts, ignore: ignore, res: &Result{}, notedUnsafe: map[string]bool{}}
	g.scan()
	if opts.HasExisting {
		return g.extend()
	}
	return g.create()
}

type gen struct {
	src    Source
	opts   Options
	ignore []string
	res    *Result

	files       []File              // sorted, not under ignored directories
	paths       []string            // every file path (the layout), plus the map
	direct      map[string][]string // directory → names of its files
	byPath      map[string]File
	readBytes   int64
	readFiles   int
	budgetNoted bool
	notedUnsafe map[string]bool

	namespaces map[string][]string          // YAML file → namespace names
	yamlFiles  []string                     // Kubernetes configuration (or unread YAML), sorted
	values     map[string]map[string]string // dir → key → value
}

func (g *gen) note(format string, args ...any) {
	g.res.Notes = append(g.res.Notes, fmt.Sprintf(format, args...))
}

func (g *gen) ignored(d string) bool {
	for p := d; p != "" && p != "."; p = parent(p) {
		for _, gl := range g.ignore {
			if ok, _ := doublestar.Match(gl, p); ok {
				return true
			}
		}
	}
	return false
}

func parent(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[:i]
	}
	return ""
}

func depthOf(p string) int { return strings.Count(p, "/") + 1 }

func (g *gen) scan() {
	all := append([]File(nil), g.src.Files()...)
	sort.Slice(all, func(i, j int) bool { return all[i].Path < all[j].Path })
	g.direct = map[string][]string{}
	g.byPath = map[string]File{}
	hasMap := false
	for _, f := range all {
		g.paths = append(g.paths, f.Path)
		if f.Path == g.opts.MapPath {
			hasMap = true
		}
		if g.ignored(parent(f.Path)) {
			continue
		}
		g.files = append(g.files, f)
		g.byPath[f.Path] = f
		g.direct[parent(f.Path)] = append(g.direct[parent(f.Path)], path.Base(f.Path))
	}
	if !hasMap && g.opts.MapPath != "" {
		// The map itself will be in the tree once written.
		g.paths = append(g.paths, g.opts.MapPath)
		sort.Strings(g.paths)
	}
	g.namespaces = map[string][]string{}
	for _, f := range g.files {
		// Test fixtures are not deployed: their namespaces say nothing.
		if !manifest.IsYAML(f.Path) || strings.HasPrefix(f.Path, "testdata/") || strings.Contains(f.Path, "/testdata/") {
			continue
		}
		if !f.Regular || f.Size > manifest.MaxSize {
			g.yamlFiles = append(g.yamlFiles, f.Path) // unread: it may be Kubernetes
			continue
		}
		data, ok := g.read(f.Path, manifest.MaxSize)
		if !ok {
			g.yamlFiles = append(g.yamlFiles, f.Path)
			continue
		}
		// A Helm template does not parse as YAML but is Kubernetes all the same.
		info, err := manifest.Inspect(f.Path, data)
		if err != nil || info.Kubernetes || strings.Contains(f.Path, "/templates/") {
			g.yamlFiles = append(g.yamlFiles, f.Path)
			g.namespaces[f.Path] = manifest.Names(info.Namespaces)
		}
	}
}

// read reads a regular file within the per-file and per-tree budgets.
func (g *gen) read(p string, limit int64) ([]byte, bool) {
	f, ok := g.byPath[p]
	if !ok || !f.Regular {
		return nil, false
	}
	if g.readFiles >= MaxFilesRead || g.readBytes+min(f.Size, limit) > MaxTotalRead {
		if !g.budgetNoted {
			g.budgetNoted = true
			g.note("Stopped reading files for annotations after %d files (%d bytes); later directories may have more TODO.", g.readFiles, g.readBytes)
		}
		return nil, false
	}
	data, err := g.src.Read(p, limit)
	if err != nil {
		return nil, false
	}
	g.readFiles++
	g.readBytes += int64(len(data))
	return data, true
}

// dirs lists the directories a new map enumerates.
func (g *gen) dirs() []string {
	set := map[string]bool{}
	for _, p := range g.paths {
		for d := parent(p); d != ""; d = parent(d) {
			if depthOf(d) <= g.opts.Depth && (g.opts.MaxDepth <= 0 || depthOf(d) <= g.opts.MaxDepth) {
				set[d] = true
			}
		}
	}
	var out []string
	for _, d := range sortedKeys(set) {
		if g.ignored(d) || !g.writable(d) {
			continue
		}
		out = append(out, d)
	}
	return out
}

// writable reports whether every component of d can be written; the first
// time a component cannot, it says so.
func (g *gen) writable(d string) bool {
	parts := strings.Split(d, "/")
	for i, c := range parts {
		if !safeName(c) {
			bad := strings.Join(parts[:i+1], "/")
			if !g.notedUnsafe[bad] {
				g.notedUnsafe[bad] = true
				g.note("Skipped directory %q: its name cannot be written into a map (register it by hand, or rename it).", bad)
			}
			return false
		}
	}
	return true
}

func (g *gen) keys(existing *dirmap.Map) []string {
	if g.opts.RequiredAnnotations != nil {
		return g.opts.RequiredAnnotations
	}
	if existing == nil {
		return dirmap.DefaultAnnotations
	}
	var keys []string
	for _, k := range dirmap.DefaultAnnotations {
		for _, used := range existing.Keys {
			if strings.EqualFold(k, used) {
				keys = append(keys, used)
				break
			}
		}
	}
	return keys
}

// value infers one annotation of a directory; TODO when it cannot.
func (g *gen) value(d, key string) string {
	if g.values == nil {
		g.values = map[string]map[string]string{}
	}
	if g.values[d] == nil {
		g.values[d] = map[string]string{}
	}
	if v, ok := g.values[d][strings.ToLower(key)]; ok {
		return v
	}
	var v string
	switch strings.ToLower(key) {
	case "function":
		v = clean(g.function(d))
	case "layer":
		if g.opts.Layer != nil {
			v = clean(g.opts.Layer(d))
		}
	case "namespace":
		v = g.namespace(d)
	}
	if v == "" {
		v = todo
	}
	g.values[d][strings.ToLower(key)] = v
	return v
}

func (g *gen) function(d string) string {
	names := append([]string(nil), g.direct[d]...)
	sort.Strings(names)
	lower := map[string]string{}
	for _, n := range names {
		if _, ok := lower[strings.ToLower(n)]; !ok {
			lower[strings.ToLower(n)] = n
		}
	}
	join := func(n string) string { return strings.TrimPrefix(d+"/"+n, "/") }
	for _, r := range readmeOrder {
		if n, ok := lower[r]; ok {
			if data, ok := g.read(join(n), MaxFileRead); ok {
				if s := clean(readmeSentence(data)); s != "" {
					return s
				}
			}
		}
	}
	if n, ok := lower["chart.yaml"]; ok {
		if data, ok := g.read(join(n), MaxFileRead); ok {
			if s := clean(chartDescription(data)); s != "" {
				return s
			}
		}
	}
	var gofiles []string
	for _, n := range names {
		if strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			if n == "doc.go" {
				gofiles = append([]string{n}, gofiles...)
			} else {
				gofiles = append(gofiles, n)
			}
		}
	}
	for _, n := range gofiles[:min(len(gofiles), 30)] {
		if data, ok := g.read(join(n), MaxFileRead); ok {
			if s := clean(goSynopsis(n, data)); s != "" {
				return s
			}
		}
	}
	if n, ok := lower["package.json"]; ok {
		if data, ok := g.read(join(n), MaxFileRead); ok {
			if s := clean(packageDescription(data)); s != "" {
				return s
			}
		}
	}
	return layoutFunction(d, names)
}

// namespace: the namespaces the Kubernetes configuration below d names (up
// to three); "-" when there is none below d; TODO when it names none (the
// namespace is chosen at deploy time) or too many.
func (g *gen) namespace(d string) string {
	prefix := d + "/"
	lo := sort.SearchStrings(g.yamlFiles, prefix)
	set := map[string]bool{}
	any := false
	for _, f := range g.yamlFiles[lo:] {
		if !strings.HasPrefix(f, prefix) {
			break
		}
		any = true
		for _, n := range g.namespaces[f] {
			set[n] = true
		}
	}
	switch {
	case !any:
		return "-"
	case len(set) == 0 || len(set) > 3:
		return todo
	}
	return strings.Join(sortedKeys(set), ", ")
}
