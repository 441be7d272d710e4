// Package checkout reads what the CLI checks from a local directory: a git
// checkout (through the git command) or a plain directory. Symbolic links
// are never followed.
package checkout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Repo is a directory to check.
type Repo struct {
	// Dir is the absolute path of the directory: the top of the work tree
	// in a checkout.
	Dir string
	// Git is set when Dir is the top of a git work tree.
	Git bool
	// Sub is the PATH that was asked for, relative to Dir (slash form), when
	// it lies below the top of its checkout; "" otherwise. The whole
	// repository is checked from its top, as git does.
	Sub string

	root  *os.Root
	dirs  dirs    // directory handles for reading files without walking paths
	g     *runner // nil until runner prepares it
	gOnce sync.Once
	gErr  error

	// Background walks (ListWorking), stopped and waited for by Close
	// before the handles they read through are closed.
	walksMu   sync.Mutex
	walks     sync.WaitGroup
	walkStops map[*Listing]context.CancelFunc // of the walks going on
	closed    bool
}

// File is one file of a tree.
type File struct {
	Path string // repository-relative, forward slashes
	// Size is -1 when not read (ListWorking of a plain directory).
	Size int64
	// Regular is false for symbolic links (and anything else that is not a
	// regular file): they count for the layout but are never read.
	Regular bool
}

// Open inspects dir. When dir lies in a git work tree, the repository is
// checked from its top (Sub says where dir is); otherwise dir is a plain
// directory. A checkout whose git directory or work tree lies elsewhere
// (a .git file or core.worktree pointing away) is refused, unless the git
// directory points back at it, as a linked worktree's and a submodule's
// do.
func Open(ctx context.Context, dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open %s: not a directory", dir)
	}
	r := &Repo{Dir: abs, g: &runner{}}
	if _, err := exec.LookPath("git"); err != nil {
		// Without git every directory is a plain one.
		if r.root, err = os.OpenRoot(abs); err != nil {
			return nil, fmt.Errorf("open %s: %w", dir, err)
		}
		return r, nil
	}
	if !mayBeInRepository(abs) {
		// git would answer "not a git repository"; asking it costs two
		// processes (about 15 ms) on every run over a plain directory.
		// Git commands, should any be asked for, get their runner then.
		r.g = nil
		if r.root, err = os.OpenRoot(abs); err != nil {
			return nil, fmt.Errorf("open %s: %w", dir, err)
		}
		return r, nil
	}
	g, err := newRunner(ctx, abs, os.Environ())
	if err != nil {
		return nil, err
	}
	r.g = g
	out, err := g.run(ctx, nil, "rev-parse", "--show-toplevel", "--absolute-git-dir")
	var ge *gitError
	switch {
	case errors.As(err, &ge) && strings.Contains(ge.msg, "not a git repository"):
		// A plain directory.
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", dir, err)
	default:
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		if len(lines) != 2 {
			return nil, fmt.Errorf("open %s: unexpected git rev-parse output %q", dir, out)
		}
		top, gitDir := lines[0], lines[1]
		if err := contained(ctx, g, abs, top, gitDir); err != nil {
			return nil, fmt.Errorf("open %s: %w", dir, err)
		}
		r.Git = true
		if !sameDir(top, abs) {
			rel, err := filepath.Rel(evalOr(top), evalOr(abs))
			if err != nil {
				return nil, fmt.Errorf("open %s: %w", dir, err)
			}
			r.Sub = filepath.ToSlash(rel)
		}
		r.Dir = top
		r.g = g.at(top)
	}
	if r.root, err = os.OpenRoot(r.Dir); err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return r, nil
}

// mayBeInRepository reports whether git could find a repository for dir:
// whether dir or a parent holds a .git entry (of any type) or a HEAD (a bare
// repository, or dir inside a git directory). Git looks from the physical
// directory (symbolic links resolved) upwards, and never through GIT_DIR,
// which the runner drops; both the physical and the given path are
// searched. Anything that cannot be examined counts as a maybe, so that a
// false answer means git would say "not a git repository".
func mayBeInRepository(dir string) bool {
	phys, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return true
	}
	for _, start := range []string{phys, dir} {
		for d := start; ; {
			for _, name := range []string{".git", "HEAD"} {
				if _, err := os.Lstat(filepath.Join(d, name)); !errors.Is(err, fs.ErrNotExist) {
					return true
				}
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return false
}

// Close releases the directory.
func (r *Repo) Close() error {
	if r.root == nil {
		return nil
	}
	r.walksMu.Lock()
	r.closed = true
	for _, stop := range r.walkStops {
		stop()
	}
	r.walksMu.Unlock()
	r.walks.Wait()
	r.dirs.close()
	return r.root.Close()
}

// contained checks that the checkout git found for abs is abs's own: its
// top contains abs and holds the .git through which git found the git
// directory, and a git directory elsewhere points back at that top.
func contained(ctx context.Context, g *runner, abs, top, gitDir string) error {
	etop, eabs := evalOr(top), evalOr(abs)
	if eabs != etop && !strings.HasPrefix(eabs, etop+string(filepath.Separator)) {
		return fmt.Errorf("its work tree %s lies outside it (core.worktree); refusing to check it", top)
	}
	dotgit := filepath.Join(top, ".git")
	st, err := os.Lstat(dotgit)
	if err != nil {
		return fmt.Errorf("its work tree %s has no .git of its own (core.worktree points there); refusing to check it", top)
	}
	switch {
	case st.IsDir():
		if sameDir(dotgit, gitDir) {
			return nil
		}
	case st.Mode().IsRegular():
		if pointsBack(ctx, g, top, dotgit, gitDir) {
			return nil
		}
	}
	return fmt.Errorf("its git directory %s lies outside %s and does not point back at it; refusing to check it", gitDir, top)
}

// pointsBack reports whether a git directory named by a .git file belongs
// to top: a linked worktree's records that .git file, a submodule's sets
// core.worktree to top. A .git file an archive plants to borrow another
// repository does neither.
func pointsBack(ctx context.Context, g *runner, top, dotgit, gitDir string) bool {
	if data, err := os.ReadFile(filepath.Join(gitDir, "gitdir")); err == nil {
		if sameFile(strings.TrimSpace(string(data)), dotgit) {
			return true
		}
	}
	out, err := g.run(ctx, nil, "config", "--file", filepath.Join(gitDir, "config"), "--get", "core.worktree")
	if err != nil {
		return false
	}
	wt := strings.TrimSpace(string(out))
	if !filepath.IsAbs(wt) {
		wt = filepath.Join(gitDir, wt)
	}
	return sameDir(wt, top)
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func sameDir(a, b string) bool {
	ea, err1 := filepath.EvalSymlinks(a)
	eb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ea == eb
}

// evalOr resolves symbolic links in p, or returns p cleaned.
func evalOr(p string) string {
	if e, err := filepath.EvalSymlinks(p); err == nil {
		return e
	}
	return filepath.Clean(p)
}

// Names returns what the repository may be called on a tree's first line:
// the folder's name and, in a checkout, its origin remote's repository name.
func (r *Repo) Names(ctx context.Context) []string {
	names := []string{filepath.Base(r.Dir)}
	if r.Git {
		if out, err := r.git(ctx, "config", "--get", "remote.origin.url"); err == nil {
			u := strings.TrimSuffix(strings.TrimSpace(string(out)), "/")
			u = strings.TrimSuffix(u, ".git")
			if i := strings.LastIndexAny(u, "/:"); i >= 0 {
				u = u[i+1:]
			}
			if u != "" && u != names[0] {
				names = append(names, u)
			}
		}
	}
	return names
}

// git runs a git command in the repository and returns its standard
// output; errors carry git's own message.
func (r *Repo) git(ctx context.Context, args ...string) ([]byte, error) {
	g, err := r.runner(ctx)
	if err != nil {
		return nil, err
	}
	return g.run(ctx, nil, args...)
}

// runner is the repository's git runner, prepared on first use for a
// directory Open did not ask git about.
func (r *Repo) runner(ctx context.Context) (*runner, error) {
	r.gOnce.Do(func() {
		if r.g == nil {
			r.g, r.gErr = newRunner(ctx, r.Dir, os.Environ())
		}
	})
	return r.g, r.gErr
}

func splitZ(out []byte) []string {
	var s []string
	for _, p := range bytes.Split(out, []byte{0}) {
		if len(p) > 0 {
			s = append(s, string(p))
		}
	}
	return s
}

// WorkingFiles lists the files of the working tree: in a checkout the
// tracked files that are present (uncommitted edits count), elsewhere every
// file below the directory except .git, in the order filepath.WalkDir
// gives.
func (r *Repo) WorkingFiles(ctx context.Context) ([]File, error) {
	if r.Git {
		return r.trackedFiles(ctx)
	}
	var files []File
	err := r.walkPlain(ctx, true, func(batch []File) { files = append(files, batch...) })
	if err != nil {
		return nil, err
	}
	return files, nil
}

// trackedFiles lists a checkout's tracked files that are present.
func (r *Repo) trackedFiles(ctx context.Context) ([]File, error) {
	out, err := r.git(ctx, "ls-files", "-z", "--cached")
	if err != nil {
		return nil, err
	}
	var files []File
	for _, p := range splitZ(out) {
		st, err := r.lstat(p)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNotRegular) {
			continue // deleted in the working tree, or below a symbolic link
		}
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			continue // a submodule
		}
		files = append(files, File{Path: p, Size: st.Size(), Regular: st.Mode().IsRegular()})
	}
	return dedupe(files), nil
}

// dedupe drops repeated paths (ls-files lists each conflict stage).
func dedupe(files []File) []File {
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	out := files[:0]
	for i, f := range files {
		if i == 0 || f.Path != files[i-1].Path {
			out = append(out, f)
		}
	}
	return out
}

// ErrNotRegular is returned for paths that are not regular files, or that
// lie below a symbolic link: neither is ever read.
var ErrNotRegular = errors.New("not a regular file")

// ReadWorking reads a file of the working tree; a missing file returns
// fs.ErrNotExist.
func (r *Repo) ReadWorking(p string) ([]byte, error) {
	f, err := r.OpenWorking(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// ReadWorkingAtMost reads a working-tree file keeping at most limit bytes,
// and returns its whole size (see ReadAtMost).
func (r *Repo) ReadWorkingAtMost(p string, limit int64) (data []byte, size int64, err error) {
	f, size, err := r.openWorking(p)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	data, size, _, err = readAtMost(f, limit, size)
	return data, size, err
}
