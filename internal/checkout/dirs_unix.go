//go:build unix

package checkout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// dirs holds directory handles of the tree, each opened relative to its
// parent's handle with O_NOFOLLOW, so that no symbolic link is followed
// anywhere on a path. A file is then looked up and opened with one call
// each, relative to its directory's handle: walking every path part by
// part through the Root cost about 25 system calls a file, most of a
// whole-tree scan's time.
type dirs struct {
	mu  sync.Mutex
	top *os.File       // the Root's own directory
	fds map[string]int // by slash path relative to the top
}

// maxDirHandles bounds the handles kept open; deeper trees open the
// directories beyond it for each lookup and close them after.
var maxDirHandles = 4096

func (d *dirs) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, fd := range d.fds {
		unix.Close(fd)
	}
	d.fds = nil
	if d.top != nil {
		d.top.Close()
		d.top = nil
	}
}

func noRelease() {}

// get returns a handle of dir ("" for the top) and a function to call
// when done with it. p is the path asked for, for errors.
func (d *dirs) get(root *os.Root, dir, p string) (int, func(), error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.getLocked(root, dir, p)
}

func (d *dirs) getLocked(root *os.Root, dir, p string) (int, func(), error) {
	if dir == "" {
		if d.top == nil {
			f, err := root.Open(".")
			if err != nil {
				return -1, nil, err
			}
			d.top, d.fds = f, map[string]int{}
		}
		return int(d.top.Fd()), noRelease, nil
	}
	if fd, ok := d.fds[dir]; ok {
		return fd, noRelease, nil
	}
	parent, name := splitLast(dir)
	pfd, release, err := d.getLocked(root, parent, p)
	if err != nil {
		return -1, nil, err
	}
	defer release()
	fd, err := openat(pfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC)
	if err != nil {
		// Say why: a link, or a file where a directory should be.
		var st unix.Stat_t
		if serr := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); serr == nil {
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFLNK:
				return -1, nil, fmt.Errorf("%s: %s is a symbolic link (symbolic links are not followed): %w", p, dir, ErrNotRegular)
			case unix.S_IFDIR:
			default:
				return -1, nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
			}
		}
		return -1, nil, &fs.PathError{Op: "openat", Path: dir, Err: err}
	}
	if len(d.fds) < maxDirHandles {
		d.fds[dir] = fd
		return fd, noRelease, nil
	}
	return fd, func() { unix.Close(fd) }, nil
}

func openat(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func splitLast(p string) (dir, name string) {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return "", p
}

// lookup finds p's directory handle and last part; p must stay inside.
func (r *Repo) lookup(p string) (int, string, func(), error) {
	clean := path.Clean(p)
	if clean == "." || path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return -1, "", nil, fmt.Errorf("%s: %w", p, fs.ErrInvalid)
	}
	dir, name := splitLast(clean)
	fd, release, err := r.dirs.get(r.root, dir, p)
	if err != nil {
		return -1, "", nil, err
	}
	return fd, name, release, nil
}

// lstat looks p up inside the directory without following any symbolic
// link on the way (a link as the last part is described, not followed),
// and nothing outside the directory is reached.
func (r *Repo) lstat(p string) (fs.FileInfo, error) {
	_, name, release, st, err := r.statAt(p)
	if err != nil {
		return nil, err
	}
	release()
	return statInfo(name, &st), nil
}

// statAt looks p up as lstat does and keeps its directory's handle (until
// release) for a caller that opens it next.
func (r *Repo) statAt(p string) (dfd int, name string, release func(), st unix.Stat_t, err error) {
	dfd, name, release, err = r.lookup(p)
	if err != nil {
		return -1, "", nil, st, err
	}
	if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		release()
		return -1, "", nil, st, &fs.PathError{Op: "lstat", Path: p, Err: err}
	}
	return dfd, name, release, st, nil
}

// OpenWorking opens a working-tree file for reading. Symbolic links are
// never followed, in any part of the path, and nothing outside the
// directory is opened; only a regular file is opened at all.
func (r *Repo) OpenWorking(p string) (io.ReadCloser, error) {
	f, _, err := r.openWorking(p)
	return f, err
}

// openWorking is OpenWorking with the file's size when it was opened.
func (r *Repo) openWorking(p string) (io.ReadCloser, int64, error) {
	dfd, name, release, st, err := r.statAt(p)
	if err != nil {
		return nil, 0, err
	}
	defer release()
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, 0, fmt.Errorf("open %s: %w", p, ErrNotRegular)
	}
	// O_NONBLOCK: a FIFO swapped in since the lookup must not block the
	// open (it is refused just below).
	fd, err := openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC)
	if err != nil {
		return nil, 0, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	// The file may have been swapped since the lookup: check what was opened.
	var fst unix.Stat_t
	if err := unix.Fstat(fd, &fst); err != nil || fst.Mode&unix.S_IFMT != unix.S_IFREG || fst.Dev != st.Dev || fst.Ino != st.Ino {
		unix.Close(fd)
		return nil, 0, fmt.Errorf("open %s: %w", p, ErrNotRegular)
	}
	return &fileReader{fd: fd, path: p, left: fst.Size, st: fst}, fst.Size, nil
}

// OpenListed opens a file that ListWorking or WorkingFiles gave as
// regular, as OpenWorking does but without looking it up first: the
// listing's look (the directory entry's type, or an lstat) stands for
// that lookup's, which saves a system call per file of a tree. What is
// opened is checked just the same (a regular file, never through a
// symbolic link, and a FIFO swapped in since does not block the open).
func (r *Repo) OpenListed(p string) (io.ReadCloser, error) {
	dfd, name, release, err := r.lookup(p)
	if err != nil {
		return nil, err
	}
	defer release()
	fd, err := openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC)
	if err != nil {
		if err == unix.ELOOP {
			return nil, fmt.Errorf("open %s: %w", p, ErrNotRegular)
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("open %s: %w", p, ErrNotRegular)
	}
	return &fileReader{fd: fd, path: p, left: st.Size, st: st}, nil
}

// fileReader reads an open regular file by its descriptor: an os.File
// would cost a poller registration attempt per file. It ends at the size
// the file had when opened, without the read that would find its end (a
// system call per file): a file is read as it was then.
type fileReader struct {
	fd   int
	path string
	left int64       // bytes to the size at open
	st   unix.Stat_t // as opened
}

// Stat describes the file as it was opened (a reader that was handed no
// size learns it here).
func (f *fileReader) Stat() (fs.FileInfo, error) {
	_, name := splitLast(f.path)
	return statInfo(name, &f.st), nil
}

func (f *fileReader) Read(b []byte) (int, error) {
	if f.fd < 0 {
		return 0, fs.ErrClosed
	}
	if f.left <= 0 {
		return 0, io.EOF
	}
	if len(b) == 0 {
		return 0, nil
	}
	if int64(len(b)) > f.left {
		b = b[:f.left]
	}
	for {
		n, err := unix.Read(f.fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, &fs.PathError{Op: "read", Path: f.path, Err: err}
		case n == 0:
			f.left = 0
			return 0, io.EOF // shrunk since the open
		}
		f.left -= int64(n)
		if f.left == 0 {
			return n, io.EOF
		}
		return n, nil
	}
}

func (f *fileReader) Close() error {
	if f.fd < 0 {
		return fs.ErrClosed
	}
	err := unix.Close(f.fd)
	f.fd = -1
	if err != nil && !errors.Is(err, unix.EINTR) {
		return &fs.PathError{Op: "close", Path: f.path, Err: err}
	}
	return nil
}

// statInfo describes a file from its lstat record.
func statInfo(name string, st *unix.Stat_t) fs.FileInfo {
	mode := fs.FileMode(st.Mode & 0o777)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	case unix.S_IFREG:
	default:
		mode |= fs.ModeIrregular
	}
	return fileInfo{name: name, size: st.Size, mode: mode, st: *st}
}

type fileInfo struct {
	name string
	size int64
	mode fs.FileMode
	st   unix.Stat_t
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return i.mode }
func (i fileInfo) ModTime() time.Time { return time.Unix(i.st.Mtim.Unix()) }
func (i fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i fileInfo) Sys() any           { return &i.st }

// walkPlain lists every file below the directory except .git, in the
// order filepath.WalkDir gives, through the directory handles: each file
// is described relative to its directory's handle (no path walk per file),
// and the handles serve the reads that follow. Files are handed to add in
// batches as they are listed (add copies them), before each subdirectory
// is read: a scan that takes them as they come (ListWorking) overlaps the
// walk instead of waiting for it. With sizes unset a file's type comes
// from the directory entry and its size is -1, which saves the lstat of
// every file (the reader that opens the file learns its size then).
func (r *Repo) walkPlain(ctx context.Context, sizes bool, add func([]File)) error {
	w := &walk{r: r, ctx: ctx, sizes: sizes, add: add}
	err := w.dir("")
	w.flush()
	return err
}

type walk struct {
	r       *Repo
	ctx     context.Context
	sizes   bool
	add     func([]File)
	pending []File
}

func (w *walk) flush() {
	if len(w.pending) > 0 {
		w.add(w.pending)
		w.pending = w.pending[:0] // add copies the batch
	}
}

func (w *walk) dir(dir string) error {
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("walk %s: %w", w.r.full(dir), err)
	}
	fd, release, err := w.r.dirs.get(w.r.root, dir, dir)
	if err != nil {
		return fmt.Errorf("walk %s: %w", w.r.full(dir), err)
	}
	defer release()
	entries, err := readDir(fd)
	if err != nil {
		return fmt.Errorf("walk %s: %w", w.r.full(dir), err)
	}
	for _, e := range entries {
		rel := e.Name()
		if dir != "" {
			rel = dir + "/" + rel
		}
		if e.IsDir() {
			if e.Name() == ".git" {
				continue
			}
			w.flush()
			if err := w.dir(rel); err != nil {
				return err
			}
			continue
		}
		f := File{Path: rel, Size: -1, Regular: e.Type().IsRegular()}
		if w.sizes {
			var st unix.Stat_t
			if err := fstatat(fd, e.Name(), &st); err != nil {
				return fmt.Errorf("stat %s: %w", w.r.full(rel), err)
			}
			f.Size, f.Regular = st.Size, st.Mode&unix.S_IFMT == unix.S_IFREG
		}
		w.pending = append(w.pending, f)
	}
	return nil
}

func (r *Repo) full(rel string) string {
	if rel == "" {
		return r.Dir
	}
	return r.Dir + string(os.PathSeparator) + rel
}

// readDir lists a directory handle's entries, sorted by name, through a
// handle of its own (the shared one's offset is left alone).
func readDir(fd int) ([]fs.DirEntry, error) {
	own, err := openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(own), ".")
	defer f.Close()
	entries, err := f.ReadDir(-1)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, err
}

func fstatat(dirfd int, name string, st *unix.Stat_t) error {
	for {
		err := unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW)
		if err != unix.EINTR {
			return err
		}
	}
}
