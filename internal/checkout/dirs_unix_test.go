//go:build unix

package checkout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// The directory handles: a plain directory read through them refuses every
// link on the way, never opens what is not a regular file (a FIFO would
// block), and reads the same beyond the handles it keeps open.
func TestWorkingHandles(t *testing.T) {
	for _, limit := range []int{1024, 1} {
		old := maxDirHandles
		maxDirHandles = limit
		t.Cleanup(func() { maxDirHandles = old })

		dir := t.TempDir()
		outside := t.TempDir()
		write := func(p, s string) {
			t.Helper()
			full := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("a/b/c/deep.txt", "deep\n")
		write("a/top.txt", "top\n")
		write("file", "plain\n")
		if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("outside\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for link, target := range map[string]string{"a/out": outside, "a/b/in": "c", "a/b/c/link.txt": "deep.txt"} {
			if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
				t.Fatal(err)
			}
		}
		if err := syscall.Mkfifo(filepath.Join(dir, "a", "fifo"), 0o644); err != nil {
			t.Fatal(err)
		}
		write("sub/.git/config", "[core]\n") // a nested .git directory is not listed
		write(".git", "gitdir: elsewhere\n") // a .git file is
		repo := open(t, dir)
		files, err := repo.WorkingFiles(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range files {
			got = append(got, fmt.Sprintf("%s %d %v", f.Path, f.Size, f.Regular))
		}
		want := []string{".git 18 true", "a/b/c/deep.txt 5 true", "a/b/c/link.txt 8 false", "a/b/in 1 false", "a/fifo 0 false", "a/out " + fmt.Sprint(len(outside)) + " false", "a/top.txt 4 true", "file 6 true"}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: WorkingFiles\n got %q\nwant %q", limit, got, want)
		}
		read := func(p string) (string, error) {
			rc, err := repo.OpenWorking(p)
			if err != nil {
				return "", err
			}
			defer rc.Close()
			data, err := io.ReadAll(rc)
			return string(data), err
		}
		for p, want := range map[string]string{"a/b/c/deep.txt": "deep\n", "a/top.txt": "top\n", "file": "plain\n", "./a/../a/b/c/deep.txt": "deep\n"} {
			if got, err := read(p); err != nil || got != want {
				t.Errorf("limit %d: %s: %q %v, want %q", limit, p, got, err, want)
			}
		}
		for _, p := range []string{"a/out/secret", "a/b/in/deep.txt", "a/b/c/link.txt", "a/fifo", "a/b"} {
			if got, err := read(p); !errors.Is(err, ErrNotRegular) {
				t.Errorf("limit %d: %s: read %q, err %v; want ErrNotRegular", limit, p, got, err)
			}
		}
		for _, p := range []string{"file/x", "a/none.txt", "none/x"} {
			if _, err := read(p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("limit %d: %s: err %v, want ErrNotExist", limit, p, err)
			}
		}
		for _, p := range []string{"../x", "/etc/passwd", "."} {
			if _, err := read(p); !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("limit %d: %s: err %v, want ErrInvalid", limit, p, err)
			}
		}
		// A file is read at the size it had when opened.
		rc, err := repo.OpenWorking("a/top.txt")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "a", "top.txt"), []byte("top\ngrown\n"), 0o644); err == nil {
			// WriteFile truncates and rewrites in place: same file, larger.
			data, err := io.ReadAll(rc)
			if err != nil || string(data) != "top\n" {
				t.Errorf("limit %d: a file grown after its open read %q %v, want its first 4 bytes", limit, data, err)
			}
		}
		rc.Close()
		write("a/top.txt", "top\n")
		if st, err := repo.lstat("a/b/c/link.txt"); err != nil || st.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("limit %d: lstat of a link: %v %v", limit, st, err)
		}
		if st, err := repo.lstat("a/top.txt"); err != nil || !st.Mode().IsRegular() || st.Size() != 4 {
			t.Errorf("limit %d: lstat a/top.txt: %v %v", limit, st, err)
		}
		if n := len(repo.dirs.fds); n > limit {
			t.Errorf("limit %d: %d handles kept", limit, n)
		}
	}
}

// writeTree writes files (slash paths) below dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, s := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ListWorking streams a plain directory's walk: every file WorkingFiles
// lists, in its order, with its type from the directory entry and no size
// read; Files gives the same, and so does a second stream.
func TestListWorkingStreamsTheWalk(t *testing.T) {
	for _, limit := range []int{1024, 1} {
		old := maxDirHandles
		maxDirHandles = limit
		t.Cleanup(func() { maxDirHandles = old })
		dir := t.TempDir()
		files := map[string]string{"z.txt": "z\n", "sub/.git/config": "[core]\n", ".git": "gitdir: x\n"}
		for i := range 40 {
			files[fmt.Sprintf("d%02d/e%d/f.go", i, i%3)] = "package f\n"
			files[fmt.Sprintf("d%02d/g.txt", i)] = "g\n"
		}
		writeTree(t, dir, files)
		if err := os.Symlink("z.txt", filepath.Join(dir, "d01", "link")); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(filepath.Join(dir, "d02", "fifo"), 0o644); err != nil {
			t.Fatal(err)
		}
		repo := open(t, dir)
		whole, err := repo.WorkingFiles(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, f := range whole {
			want = append(want, fmt.Sprintf("%s %v", f.Path, f.Regular))
		}
		if len(want) != len(files)+2-1 { // the link and the FIFO; not sub/.git
			t.Fatalf("limit %d: WorkingFiles listed %d files: %q", limit, len(want), want)
		}
		list, err := repo.ListWorking(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for round := range 2 {
			var got []string
			for f, err := range list.Stream() {
				if err != nil {
					t.Fatal(err)
				}
				if f.Size != -1 {
					t.Errorf("limit %d: %s: size %d, want -1 (not read)", limit, f.Path, f.Size)
				}
				got = append(got, fmt.Sprintf("%s %v", f.Path, f.Regular))
			}
			if !slices.Equal(got, want) {
				t.Errorf("limit %d, stream %d:\n got %q\nwant %q", limit, round, got, want)
			}
		}
		all, err := list.Files()
		if err != nil || len(all) != len(want) {
			t.Errorf("limit %d: Files: %d files, %v", limit, len(all), err)
		}
		if n, done := list.Count(); n != len(want) || !done {
			t.Errorf("limit %d: Count %d %v", limit, n, done)
		}
	}
}

// A walk stops at the next directory once its context ends, with an
// error that names that directory; the files listed before stay listed.
func TestWalkStopsWithItsContext(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a/1.txt": "1", "b/2.txt": "2", "c/3.txt": "3"})
	repo := open(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []string
	err := repo.walkPlain(ctx, false, func(batch []File) {
		for _, f := range batch {
			got = append(got, f.Path)
		}
		cancel()
	})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), filepath.Join(repo.Dir, "b")) {
		t.Errorf("err %v, want context.Canceled naming %s", err, filepath.Join(repo.Dir, "b"))
	}
	if !slices.Equal(got, []string{"a/1.txt"}) {
		t.Errorf("listed %q before the stop, want [a/1.txt]", got)
	}

	// Through ListWorking: the stream ends with the error.
	list, err := repo.ListWorking(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for _, err := range list.Stream() {
		last = err
	}
	if !errors.Is(last, context.Canceled) || !strings.Contains(last.Error(), repo.Dir) {
		t.Errorf("stream of a cancelled listing ended with %v", last)
	}
	if _, err := list.Files(); !errors.Is(err, context.Canceled) {
		t.Errorf("Files of a cancelled listing: %v", err)
	}
}

// Close stops a walk still going and waits for it before closing the
// handles it reads through; a listing asked for after Close fails.
func TestCloseStopsTheWalk(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 300 {
		files[fmt.Sprintf("d%03d/x/f.txt", i)] = "f"
	}
	writeTree(t, dir, files)
	repo, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	list, err := repo.ListWorking(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	repo.Close()
	if _, done := list.Count(); !done {
		t.Error("Close returned before the walk ended")
	}
	if all, err := list.Files(); err == nil && len(all) != len(files) || err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("after Close: %d files, %v; want all of them or context.Canceled", len(all), err)
	}
	after, err := repo.ListWorking(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := after.Files(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("listing after Close: %v, want fs.ErrClosed", err)
	}
}

// A directory the walk cannot read ends the stream with an error naming
// it, after the files listed before it.
func TestListWorkingReportsUnreadableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any directory")
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a/1.txt": "1", "b/2.txt": "2"})
	locked := filepath.Join(dir, "b")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	repo := open(t, dir)
	list, err := repo.ListWorking(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var last error
	for f, err := range list.Stream() {
		if err != nil {
			last = err
			break
		}
		got = append(got, f.Path)
	}
	if !errors.Is(last, fs.ErrPermission) || !strings.Contains(last.Error(), filepath.Join(repo.Dir, "b")) {
		t.Errorf("err %v, want a permission error naming %s", last, locked)
	}
	if !slices.Equal(got, []string{"a/1.txt"}) {
		t.Errorf("listed %q before the error", got)
	}
}

// OpenListed opens what a listing gave as regular without looking it up
// again, and still opens nothing else: a link (last part or on the way), a
// directory, or a FIFO swapped in after the listing is refused, without
// blocking.
func TestOpenListedChecksWhatItOpens(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a/file.txt": "content\n", "a/swapped": "was a file\n", "a/sub/x": "x"})
	if err := os.Symlink("file.txt", filepath.Join(dir, "a", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	repo := open(t, dir)
	list, err := repo.ListWorking(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := list.Files(); err != nil {
		t.Fatal(err)
	}
	// After the listing: a/swapped becomes a FIFO (opening it for reading
	// without O_NONBLOCK would wait for a writer forever).
	if err := os.Remove(filepath.Join(dir, "a", "swapped")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "a", "swapped"), 0o644); err != nil {
		t.Fatal(err)
	}
	rc, err := repo.OpenListed("a/file.txt")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(data) != "content\n" {
		t.Errorf("a/file.txt: %q %v", data, err)
	}
	if st, err := rc.(interface{ Stat() (fs.FileInfo, error) }).Stat(); err != nil || st.Size() != 8 || !st.Mode().IsRegular() {
		t.Errorf("Stat of the opened file: %v %v", st, err)
	}
	for _, p := range []string{"a/link", "a/sub", "a/swapped", "b/file.txt"} {
		if rc, err := repo.OpenListed(p); !errors.Is(err, ErrNotRegular) {
			if err == nil {
				rc.Close()
			}
			t.Errorf("%s: err %v, want ErrNotRegular", p, err)
		}
	}
	if _, err := repo.OpenListed("a/none"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a/none: err %v, want ErrNotExist", err)
	}
	if _, err := repo.OpenListed("../x"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("../x: err %v, want ErrInvalid", err)
	}
}
