package dirmap

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Kind names a finding's kind as the JSON contract spells it.
type Kind string

const (
	KindUnregistered Kind = "unregistered"
	KindStale        Kind = "stale"
	KindRealised     Kind = "realised"
	KindIncomplete   Kind = "incomplete"
	KindMalformed    Kind = "malformed-map"
	KindMissing      Kind = "missing-map"
	// KindInvalidAnnotation is a value outside what dirs.annotations declares.
	KindInvalidAnnotation Kind = "invalid-annotation"
	// KindNamespaceDrift is a manifest deploying into another namespace than
	// its entry's Namespace.
	KindNamespaceDrift Kind = "namespace-drift"
)

// Level is a finding's severity.
type Level string

const (
	LevelFailure Level = "failure"
	LevelWarning Level = "warning"
	LevelNotice  Level = "notice"
)

// Finding is one thing the dirs check reports.
type Finding struct {
	Kind Kind
	// Path is the directory concerned (the map's path for missing-map and
	// malformed-map).
	Path string
	// File and Line are where the annotation goes; Line is 0 when there is
	// none.
	File    string
	Line    int
	Level   Level
	Message string
}

// DefaultIgnore skips every path with a component starting with ".".
var DefaultIgnore = []string{"**/.*"}

// DefaultAnnotations are the annotations required by default, each only
// when the map uses it anywhere.
var DefaultAnnotations = []string{"Function", "Layer", "Namespace"}

// Options are the dirs settings of the repository config.
type Options struct {
	MapPath  string // repository-relative, e.g. docs/dir.md
	Required bool   // a missing map fails the run
	// Ignore globs (doublestar, matched against directory paths); nil means
	// DefaultIgnore, an empty non-nil slice ignores nothing.
	Ignore []string
	// RequiredAnnotations; nil means those of DefaultAnnotations the map uses.
	RequiredAnnotations []string
	// MaxDepth: deeper directories never need an entry (top level is 1);
	// 0 means no limit.
	MaxDepth int
	// RootNames mark the repository root on a tree's first line.
	RootNames []string
	// Annotations declare accepted values per annotation key, and whether
	// Namespace is verified against the manifests.
	Annotations []AnnotationRule
	// FixValue, when set, gives the value a fix line writes for an
	// annotation of a directory (housekeeper init fills in what it could
	// infer); nil writes TODO. Values must already be safe to write.
	FixValue func(dir, key string) string
}

// Side is one side of a change.
type Side struct {
	HasMap bool
	Map    []byte
	// MapSize is the map's size when Map holds only its start: a reader
	// that streams a map over MaxMapSize keeps no more than it takes to
	// refuse it. 0 means len(Map).
	MapSize int64
	// Files are the repository-relative paths of every file on this side.
	Files []string
}

// Input is what the check looks at. Base is nil for a whole-tree audit.
type Input struct {
	Head *Side
	Base *Side
	// Added are the files the change adds (or renames into place), used to
	// place annotations on a new directory's first file.
	Added []string
	// Changed are the files the change adds or modifies (Added included);
	// the namespace check reads them and says which side changed.
	Changed []string
	// ReadManifests reads, at the head, the files the namespace check asks
	// for (with Namespace verification on). Check calls it once, after
	// reading the map, so the map is parsed and expanded only once.
	ReadManifests func(paths []string) ([]Manifest, error)
}

// Result is the outcome of a check.
type Result struct {
	Findings []Finding
	// Map is the head map, nil when it is missing.
	Map *Map
	// Fixes are the lines that register every unregistered directory.
	Fixes []Fix
	Audit bool
	// MapMissing is set when there is no map at the head; with Required
	// false the check does not apply.
	MapMissing bool
	Dirs       int // directories that exist at the head
}

// Failed reports whether any finding is at failure level.
func (r *Result) Failed() bool {
	for _, f := range r.Findings {
		if f.Level == LevelFailure {
			return true
		}
	}
	return false
}

// Check applies the registration rule to a change (or, with no base, to the
// whole tree) and returns the findings sorted by file, line, kind and path.
// It stops with ctx's error at the deadline.
func Check(ctx context.Context, in Input, opts Options) (*Result, error) {
	if in.Head == nil {
		return nil, fmt.Errorf("dirmap: no head side given")
	}
	ignore := opts.Ignore
	if ignore == nil {
		ignore = DefaultIgnore
	}
	for _, g := range ignore {
		if !doublestar.ValidatePattern(g) {
			return nil, fmt.Errorf("dirmap: invalid ignore glob %q", g)
		}
	}
	c := newChecker(in, opts)
	c.ctx = ctx
	if err := c.run(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dirmap: stopped at the deadline: %w", err)
	}
	sortFindings(c.res.Findings)
	return c.res, nil
}

func newChecker(in Input, opts Options) *checker {
	ignore := opts.Ignore
	if ignore == nil {
		ignore = DefaultIgnore
	}
	return &checker{ctx: context.Background(), in: in, opts: opts, ignore: ignore, res: &Result{Audit: in.Base == nil}}
}

type checker struct {
	ctx    context.Context
	in     Input
	opts   Options
	ignore []string
	res    *Result

	head, base           *dirSet
	headMap, baseMap     *Map
	registered, enumd    map[string]bool
	headFiles, addedSort []string
	owners               map[string]*Entry // directory → the entry that names it
}

func (c *checker) add(f Finding) { c.res.Findings = append(c.res.Findings, f) }

// prepare reads both maps and trees and works out which directories the
// head map registers; it needs a head map.
func (c *checker) prepare() {
	c.headFiles = sortedCopy(c.in.Head.Files)
	c.head = newDirSet(c.headFiles)
	c.res.Dirs = len(c.head.list)
	if c.in.Base != nil {
		c.base = newDirSet(c.in.Base.Files)
		c.addedSort = sortedCopy(c.in.Added)
	}
	if !c.in.Head.HasMap {
		return
	}
	popts := ParseOptions{RootNames: c.opts.RootNames, Size: c.in.Head.MapSize}
	c.headMap = Parse(c.in.Head.Map, popts)
	c.res.Map = c.headMap
	if c.in.Base != nil && c.in.Base.HasMap && c.ctx.Err() == nil {
		popts.Size = c.in.Base.MapSize
		c.baseMap = Parse(c.in.Base.Map, popts)
	}
	if c.headMap.Unread {
		return
	}
	c.expand()
	c.buildOwners()
}

func (c *checker) run() error {
	mp := c.opts.MapPath
	c.prepare()
	if !c.in.Head.HasMap {
		c.res.MapMissing = true
		switch {
		case c.in.Base != nil && c.in.Base.HasMap:
			c.add(Finding{Kind: KindMissing, Path: mp, File: mp, Level: LevelFailure,
				Message: fmt.Sprintf("This change deletes the directory map %s; restore it (the map is the single source of truth for the layout).", mp)})
		case c.opts.Required:
			c.add(Finding{Kind: KindMissing, Path: mp, File: mp, Level: LevelFailure,
				Message: fmt.Sprintf("The directory map %s is required but missing; create it and list the repository's directories.", mp)})
		default:
			c.add(Finding{Kind: KindMissing, Path: mp, File: mp, Level: LevelNotice,
				Message: fmt.Sprintf("There is no directory map at %s; create one to register the repository's directories.", mp)})
		}
		return nil
	}
	for _, p := range c.headMap.Problems {
		c.add(Finding{Kind: KindMalformed, Path: mp, File: mp, Line: p.Line, Level: LevelFailure,
			Message: fmt.Sprintf("%s line %d: %s", mp, p.Line, p.Message)})
	}
	if c.headMap.Unread || c.ctx.Err() != nil {
		return nil // nothing to check against; the finding above fails the run
	}
	c.unregistered()
	c.entries()
	return c.namespaceDrift()
}

// expand computes the registered and enumerated directories.
func (c *checker) expand() {
	c.registered = map[string]bool{"": true}
	c.enumd = map[string]bool{"": true}
	register := func(p string) {
		for p != "" && !c.registered[p] {
			c.registered[p] = true
			p = parentDir(p)
		}
	}
	for i, e := range c.headMap.Entries {
		if i%256 == 0 && c.ctx.Err() != nil {
			return
		}
		if !e.Glob {
			register(e.Path)
			c.enumd[parentDir(e.Path)] = true
			continue
		}
		if base, _ := doublestar.SplitPattern(e.Path); base != "." && !isGlob(base) && parentDir(e.Path) == base {
			c.enumd[base] = true
		}
		for _, d := range c.head.matching(e.Path) {
			register(d)
			c.enumd[parentDir(d)] = true
		}
	}
}

func (c *checker) ignored(d string) bool {
	for p := d; p != ""; p = parentDir(p) {
		for _, g := range c.ignore {
			if ok, _ := doublestar.Match(g, p); ok {
				return true
			}
		}
	}
	return false
}

func (c *checker) unregistered() {
	var missing []string
	for i, d := range c.head.list {
		if i%1024 == 0 && c.ctx.Err() != nil {
			return
		}
		if c.base != nil && c.base.has[d] {
			continue
		}
		if c.registered[d] || !c.enumd[parentDir(d)] {
			continue
		}
		if c.opts.MaxDepth > 0 && depth(d) > c.opts.MaxDepth {
			continue
		}
		if c.ignored(d) {
			continue
		}
		file := ""
		if c.base != nil {
			file = firstUnder(c.addedSort, d)
		}
		if file == "" {
			file = firstUnder(c.headFiles, d)
		}
		if why := unwritable(d); why != "" {
			c.add(Finding{Kind: KindUnregistered, Path: d, File: file, Line: 1, Level: LevelFailure,
				Message: fmt.Sprintf("New directory %s cannot be registered in %s: its name %s, which a map line cannot hold; rename it.", d, c.opts.MapPath, why)})
			continue
		}
		missing = append(missing, d)
		where := "top-level directories must be listed"
		if p := parentDir(d); p != "" {
			where = fmt.Sprintf("the map lists the subdirectories of %s", p)
		}
		c.add(Finding{Kind: KindUnregistered, Path: d, File: file, Line: 1, Level: LevelFailure,
			Message: fmt.Sprintf("New directory %s is not registered in %s (%s); add an entry with its annotations.", d, c.opts.MapPath, where)})
	}
	c.res.Fixes = planFixes(c.headMap, missing, c.requiredKeys(), c.opts.FixValue)
}

// requiredKeys are the annotations every entry must carry.
func (c *checker) requiredKeys() []string {
	if c.opts.RequiredAnnotations != nil {
		return c.opts.RequiredAnnotations
	}
	var keys []string
	for _, k := range DefaultAnnotations {
		for _, used := range c.headMap.Keys {
			if strings.EqualFold(k, used) {
				keys = append(keys, used)
				break
			}
		}
	}
	return keys
}

// added reports whether this change added the entry.
func (c *checker) added(e *Entry) bool {
	return c.in.Base == nil || c.baseMap == nil || c.baseMap.Entry(e.Path) == nil
}

// changed reports whether this change added or edited the entry.
func (c *checker) changed(e *Entry) bool {
	if c.in.Base == nil || c.baseMap == nil {
		return true
	}
	old := c.baseMap.Entry(e.Path)
	return old == nil || !sameAnnotations(old, e)
}

func (c *checker) entries() {
	mp := c.opts.MapPath
	keys := c.requiredKeys()
	for i, e := range c.headMap.Entries {
		if i%64 == 0 && c.ctx.Err() != nil {
			return
		}
		exists := c.head.has[e.Path]
		if e.Glob {
			exists = len(c.head.matching(e.Path)) > 0
		}
		switch {
		case e.Planned && exists:
			c.add(Finding{Kind: KindRealised, Path: e.Path, File: mp, Line: e.Line, Level: LevelNotice,
				Message: fmt.Sprintf("%s is marked planned and now exists; mark it active.", e.Path)})
		case !e.Planned && !e.Glob && !exists:
			level := LevelWarning
			why := "it no longer exists (older drift)"
			switch {
			case c.in.Base == nil:
				level, why = LevelFailure, "it does not exist"
			case c.base.has[e.Path]:
				level, why = LevelFailure, "this change removes it"
			case c.added(e):
				level, why = LevelFailure, "this change adds an entry for a directory that does not exist"
			}
			if c.head.files[e.Path] {
				why += "; it is a file, not a directory"
			}
			c.add(Finding{Kind: KindStale, Path: e.Path, File: mp, Line: e.Line, Level: level,
				Message: fmt.Sprintf("%s is listed in %s but %s: remove the entry or mark it planned.", e.Path, mp, why)})
		}
		var missing []string
		for _, k := range keys {
			if !e.HasAnnotation(k) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			level := LevelWarning
			if c.changed(e) {
				level = LevelFailure
			}
			c.add(Finding{Kind: KindIncomplete, Path: e.Path, File: mp, Line: e.Line, Level: level,
				Message: fmt.Sprintf("%s has no %s annotation (TODO and empty count as missing; write - for none).", e.Path, strings.Join(missing, ", "))})
		}
		c.invalidAnnotations(e)
	}
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Path < b.Path
	})
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// firstUnder returns the first path in sorted that lies under dir.
func firstUnder(sorted []string, dir string) string {
	prefix := dir + "/"
	i := sort.SearchStrings(sorted, prefix)
	if i < len(sorted) && strings.HasPrefix(sorted[i], prefix) {
		return sorted[i]
	}
	return ""
}
