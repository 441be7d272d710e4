// Package checkout reads what the CLI checks from a local directory: a git
// checkout (through the git command) or a plain directory. Symbolic links
// are never followed.
package checkout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Repo is a directory to check.
type Repo struct {
	// Dir is the absolute path of the directory.
	Dir string
	// Git is set when Dir is the top of a git work tree.
	Git bool
}

// File is one file of a tree.
type File struct {
	Path string // repository-relative, forward slashes
	Size int64
	// Regular is false for symbolic links (and anything else that is not a
	// regular file): they count for the layout but are never read.
	Regular bool
}

// Open inspects dir. It is a git checkout when git knows dir as the top of
// a work tree.
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
	r := &Repo{Dir: abs}
	if out, err := r.git(ctx, "rev-parse", "--show-toplevel"); err == nil {
		top := strings.TrimSpace(string(out))
		if sameDir(top, abs) {
			r.Git = true
		}
	}
	return r, nil
}

func sameDir(a, b string) bool {
	ea, err1 := filepath.EvalSymlinks(a)
	eb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ea == eb
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
	full := append([]string{"-C", r.Dir, "-c", "core.quotepath=off"}, args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return out, nil
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
// file below the directory except .git.
func (r *Repo) WorkingFiles(ctx context.Context) ([]File, error) {
	if r.Git {
		out, err := r.git(ctx, "ls-files", "-z", "--cached")
		if err != nil {
			return nil, err
		}
		var files []File
		for _, p := range splitZ(out) {
			st, err := os.Lstat(filepath.Join(r.Dir, filepath.FromSlash(p)))
			if err != nil {
				continue // deleted in the working tree
			}
			if st.IsDir() {
				continue // a submodule
			}
			files = append(files, File{Path: p, Size: st.Size(), Regular: st.Mode().IsRegular()})
		}
		return dedupe(files), nil
	}
	var files []File
	err := filepath.WalkDir(r.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != r.Dir {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(r.Dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		files = append(files, File{Path: filepath.ToSlash(rel), Size: info.Size(), Regular: info.Mode().IsRegular()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, nil
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

// ErrNotRegular is returned for paths that are not regular files, which are
// never read (symbolic links are not followed).
var ErrNotRegular = errors.New("not a regular file")

// ReadWorking reads a file of the working tree; a missing file returns
// fs.ErrNotExist.
func (r *Repo) ReadWorking(p string) ([]byte, error) {
	full := filepath.Join(r.Dir, filepath.FromSlash(path.Clean(p)))
	st, err := os.Lstat(full)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: %w", p, ErrNotRegular)
	}
	return os.ReadFile(full)
}

// Open opens a working-tree file for reading without following links.
func (r *Repo) OpenWorking(p string) (*os.File, error) {
	full := filepath.Join(r.Dir, filepath.FromSlash(path.Clean(p)))
	st, err := os.Lstat(full)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("open %s: %w", p, ErrNotRegular)
	}
	return os.Open(full)
}
