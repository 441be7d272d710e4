// Package dirmap parses the annotated directory map (docs/dir.md by default)
// and decides, for a change or a whole tree, which directories are
// unregistered, which entries are stale, realised or incomplete, and which
// lines would register what is missing.
//
// It is a pure engine: it knows nothing of git, GitHub or HTTP. Callers hand
// it the map's bytes, the file lists of both sides of a change and options;
// it hands back findings and fix insertions.
package dirmap
