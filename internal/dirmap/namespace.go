package dirmap

import (
	"fmt"
	"runtime"
	"sort"
	"sync"

	"github.com/housekeeper-app/housekeeper/internal/manifest"
)

// MaxManifestSize bounds one manifest the namespace check reads; a larger
// file gets a notice and is not compared.
const MaxManifestSize = manifest.MaxTargetSize

// Manifest is one file the namespace check reads, as of the head.
type Manifest struct {
	Path string
	Data []byte
	// TooLarge is set by a caller that did not read a file over
	// MaxManifestSize (so did not pass its data).
	TooLarge bool
}

// verifyRule is the Namespace rule that asks for manifests to be read.
func (o *Options) verifyRule() *AnnotationRule {
	r := o.rule("Namespace")
	if r == nil || !r.VerifyManifests {
		return nil
	}
	return r
}

// manifestScope returns the head files the namespace check reads: YAML
// under an entry with a Namespace (and under no deeper entry), not
// ignored, not a chart's templates. In a change only manifests under an
// entry it adds or edits, and manifests it adds or changes (in.Changed),
// are read; an audit reads every one.
func (c *checker) manifestScope(changed map[string]bool) []string {
	var out []string
	for _, f := range c.headFiles {
		e := c.manifestOwner(f)
		if e == nil {
			continue
		}
		if c.in.Base == nil || changed[f] || c.changed(e) {
			out = append(out, f)
		}
	}
	return out
}

// manifestOwner returns the entry whose Namespace a manifest is compared
// with, or nil when the file is not compared.
func (c *checker) manifestOwner(f string) *Entry {
	if !manifest.IsManifest(f) || manifest.RoleInChart(f, c.inHead) == manifest.ChartTemplate {
		return nil
	}
	e := c.owner(f)
	if e == nil {
		return nil
	}
	if v, ok := e.Annotation("Namespace"); !ok || isMissingValue(v) {
		return nil
	}
	if c.ignored(parentDir(f)) {
		return nil
	}
	return e
}

// owner returns the deepest entry that contains file f.
func (c *checker) owner(f string) *Entry {
	for d := parentDir(f); d != ""; d = parentDir(d) {
		if e := c.owners[d]; e != nil {
			return e
		}
	}
	return nil
}

// namespaceDrift compares each manifest the caller read with its entry's
// Namespace.
func (c *checker) namespaceDrift() error {
	rule := c.opts.verifyRule()
	if rule == nil || c.in.ReadManifests == nil {
		return nil
	}
	level := rule.Level
	if level == "" {
		level = LevelWarning
	}
	changed := map[string]bool{}
	for _, f := range c.in.Changed {
		changed[f] = true
	}
	scope := c.manifestScope(changed)
	if len(scope) == 0 {
		return nil
	}
	manifests, err := c.in.ReadManifests(scope)
	if err != nil {
		return err
	}
	type job struct {
		m     *Manifest
		owner *Entry
		uses  []manifest.Target
		err   error
	}
	var jobs []*job
	for i := range manifests {
		m := &manifests[i]
		if e := c.manifestOwner(m.Path); e != nil {
			jobs = append(jobs, &job{m: m, owner: e})
		}
	}
	// Reading is the costly part and each file is independent.
	var wg sync.WaitGroup
	next := make(chan *job)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				if j.m.TooLarge {
					j.err = manifest.ErrTargetTooLarge
					continue
				}
				j.uses, j.err = manifest.Targets(j.m.Path, j.m.Data, manifest.RoleInChart(j.m.Path, c.inHead) == manifest.ChartValues)
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()

	mp := c.opts.MapPath
	for _, j := range jobs {
		if j.err != nil {
			c.add(Finding{Kind: KindNamespaceDrift, Path: j.owner.Path, File: j.m.Path, Line: 1, Level: LevelNotice,
				Message: fmt.Sprintf("%s was not compared with the map's Namespace: %v.", j.m.Path, j.err)})
			continue
		}
		want, _ := j.owner.Annotation("Namespace")
		none := want == "-" || want == "—"
		for _, u := range j.uses {
			if (none && u.Namespace != "") || (!none && u.Namespace != want) {
				c.add(Finding{Kind: KindNamespaceDrift, Path: j.owner.Path, File: j.m.Path, Line: u.Line, Level: level,
					Message: driftMessage(j.owner, want, none, u, mp, changed[j.m.Path], c.in.Base != nil && c.changed(j.owner))})
			}
		}
	}
	return nil
}

func driftMessage(e *Entry, want string, none bool, u manifest.Target, mapPath string, manifestChanged, entryChanged bool) string {
	says := "The map says " + quoteValue(want)
	if none {
		says = "The map says no namespace (\"-\")"
	}
	msg := fmt.Sprintf("%s for %s, this manifest deploys into %s (%s).", says, e.Path, quoteValue(u.Namespace), u.What)
	mapLine := fmt.Sprintf("%s line %d", mapPath, e.Line)
	target := "deploy into " + quoteValue(want)
	if none {
		target = "set no namespace"
	}
	switch {
	case manifestChanged && !entryChanged:
		return msg + fmt.Sprintf(" This change sets it and the map is the source of truth: %s, or if the move is intended change the entry to \"Namespace: %s\" (%s).", target, u.Namespace, mapLine)
	case entryChanged && !manifestChanged:
		return msg + fmt.Sprintf(" This change edits the entry's Namespace: update the manifests under %s to match, or keep the entry as it was (%s).", e.Path, mapLine)
	}
	return msg + fmt.Sprintf(" Change the manifest to %s, or the entry to \"Namespace: %s\" (%s).", target, u.Namespace, mapLine)
}

// inHead reports whether a file is in the head tree.
func (c *checker) inHead(p string) bool { return c.head.files[p] }

// buildOwners indexes every entry by the directories it names (globs
// expanded against the head); a literal entry wins over a glob.
func (c *checker) buildOwners() {
	c.owners = map[string]*Entry{}
	var globs []*Entry
	for _, e := range c.headMap.Entries {
		if e.Glob {
			globs = append(globs, e)
			continue
		}
		c.owners[e.Path] = e
	}
	sort.SliceStable(globs, func(i, j int) bool { return globs[i].Line < globs[j].Line })
	for _, e := range globs {
		for _, d := range c.head.matching(e.Path) {
			if c.owners[d] == nil {
				c.owners[d] = e
			}
		}
	}
}
