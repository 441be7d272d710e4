//go:build !unix

package checkout

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// dirs caches nothing here: files are looked up part by part through the
// Root (see dirs_unix.go for the handle cache).
type dirs struct{}

func (dirs) close() {}

// lstat looks p up inside the directory, part by part: any symbolic link
// along the way is refused (os.Root alone would follow links that stay
// inside), and nothing outside the directory is reached.
func (r *Repo) lstat(p string) (fs.FileInfo, error) {
	clean := path.Clean(p)
	if clean == "." || path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrInvalid)
	}
	parts := strings.Split(clean, "/")
	var st fs.FileInfo
	for i := range parts {
		var err error
		st, err = r.root.Lstat(strings.Join(parts[:i+1], "/"))
		if err != nil {
			return nil, err
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			if i == len(parts)-1 {
				return st, nil // the caller decides: a link counts for the layout
			}
			return nil, fmt.Errorf("%s: %s is a symbolic link (symbolic links are not followed): %w", p, strings.Join(parts[:i+1], "/"), ErrNotRegular)
		}
		if i < len(parts)-1 && !st.IsDir() {
			return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
		}
	}
	return st, nil
}

// OpenWorking opens a working-tree file for reading. Symbolic links are
// never followed, in any part of the path, and nothing outside the
// directory is opened.
func (r *Repo) OpenWorking(p string) (io.ReadCloser, error) {
	f, _, err := r.openWorking(p)
	return f, err
}

// OpenListed opens a file that ListWorking or WorkingFiles gave as
// regular; here it is OpenWorking.
func (r *Repo) OpenListed(p string) (io.ReadCloser, error) {
	return r.OpenWorking(p)
}

// openWorking is OpenWorking with the file's size when it was opened.
func (r *Repo) openWorking(p string) (io.ReadCloser, int64, error) {
	st, err := r.lstat(p)
	if err != nil {
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("open %s: %w", p, ErrNotRegular)
	}
	f, err := r.root.Open(path.Clean(p))
	if err != nil {
		return nil, 0, err
	}
	// The file may have been swapped since the lookup: check what was opened.
	fst, err := f.Stat()
	if err != nil || !fst.Mode().IsRegular() || !os.SameFile(st, fst) {
		f.Close()
		return nil, 0, fmt.Errorf("open %s: %w", p, ErrNotRegular)
	}
	return f, fst.Size(), nil
}

// walkPlain lists every file below the directory except .git, handing
// them to add in one batch (sizes are always read here).
func (r *Repo) walkPlain(ctx context.Context, _ bool, add func([]File)) error {
	var files []File
	err := filepath.WalkDir(r.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
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
		return err
	}
	add(files)
	return nil
}
