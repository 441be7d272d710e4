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
