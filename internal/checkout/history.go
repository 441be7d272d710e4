package checkout

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// Resolve returns the commit SHA a revision names.
func (r *Repo) Resolve(ctx context.Context, rev string) (string, error) {
	if !r.Git {
		return "", fmt.Errorf("%s is not a git checkout", r.Dir)
	}
	out, err := r.git(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("unknown revision %q", rev)
	}
	return strings.TrimSpace(string(out)), nil
}

// MergeBase returns merge-base(ref, HEAD), which is what a pull request
// from HEAD into ref is compared against.
func (r *Repo) MergeBase(ctx context.Context, ref string) (string, error) {
	sha, err := r.Resolve(ctx, ref)
	if err != nil {
		return "", err
	}
	head, err := r.Resolve(ctx, "HEAD")
	if err != nil {
		return "", err
	}
	out, err := r.git(ctx, "merge-base", "--end-of-options", sha, head)
	if err != nil {
		return "", fmt.Errorf("no merge base between %s and HEAD: %w", ref, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// FilesAt lists the paths in a commit's tree ("" for the index).
func (r *Repo) FilesAt(ctx context.Context, rev string) ([]string, error) {
	var out []byte
	var err error
	if rev == "" {
		out, err = r.git(ctx, "ls-files", "-z", "--cached")
	} else {
		out, err = r.git(ctx, "ls-tree", "-r", "-z", "--full-tree", "--name-only", "--end-of-options", rev)
	}
	if err != nil {
		return nil, err
	}
	files := splitZ(out)
	// Submodules (gitlinks) are directories, not files; ls-tree lists them
	// as paths. They are rare and harmless for the layout.
	return files, nil
}

// ReadAt reads a file as of a revision ("" for the index). ok is false when
// the file does not exist there.
func (r *Repo) ReadAt(ctx context.Context, rev, p string) (data []byte, ok bool, err error) {
	spec := rev + ":" + p
	if rev == "" {
		spec = ":" + p
	}
	if _, err := r.git(ctx, "cat-file", "-e", "--end-of-options", spec); err != nil {
		return nil, false, nil
	}
	out, err := r.git(ctx, "cat-file", "--end-of-options", "blob", spec)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// ReadAtMost reads p at rev (the index when rev is "") keeping at most
// limit bytes, and returns the file's whole size: a file a change supplies
// (a map, a manifest) is read only as far as the engine will look at it.
// ok is false when the file does not exist there.
func (r *Repo) ReadAtMost(ctx context.Context, rev, p string, limit int64) (data []byte, size int64, ok bool, err error) {
	rc, ok := r.OpenAt(ctx, rev, p)
	if !ok {
		return nil, 0, false, nil
	}
	defer rc.Close()
	return readAtMost(rc, limit, -1)
}

// readAtMost keeps at most limit bytes of rc; size is known (>= 0) or
// counted by reading the rest without keeping it.
func readAtMost(rc io.Reader, limit, size int64) ([]byte, int64, bool, error) {
	data, err := io.ReadAll(io.LimitReader(rc, limit))
	if err != nil {
		return nil, 0, false, err
	}
	if size < 0 {
		rest, err := io.Copy(io.Discard, rc)
		if err != nil {
			return nil, 0, false, err
		}
		size = int64(len(data)) + rest
	}
	return data, size, true, nil
}

// Commit is one commit of a range.
type Commit struct {
	SHA     string
	Parents []string
}

// Commits lists base..head oldest first.
func (r *Repo) Commits(ctx context.Context, base, head string) ([]Commit, error) {
	out, err := r.git(ctx, "rev-list", "--reverse", "--parents", "--end-of-options", base+".."+head)
	if err != nil {
		return nil, err
	}
	var cs []Commit
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		cs = append(cs, Commit{SHA: f[0], Parents: f[1:]})
	}
	return cs, nil
}

// Change is what a diff adds and removes.
type Change struct {
	Added, Removed, Modified []string
}

// diffArgs compares base with head, or the index with base when head is "".
func diffArgs(base, head string) []string {
	if head == "" {
		return []string{"--cached", "--end-of-options", base}
	}
	return []string{"--end-of-options", base, head}
}

// Diff compares two revisions by file name ("" as head compares with the
// index). Renames count as a removal and an addition.
func (r *Repo) Diff(ctx context.Context, base, head string) (*Change, error) {
	args := append([]string{"diff", "--name-status", "-z"}, diffFlags...)
	out, err := r.git(ctx, append(args, diffArgs(base, head)...)...)
	if err != nil {
		return nil, err
	}
	parts := splitZ(out)
	c := &Change{}
	for i := 0; i+1 < len(parts); i += 2 {
		status, p := parts[i], parts[i+1]
		switch status[0] {
		case 'A':
			c.Added = append(c.Added, p)
		case 'D':
			c.Removed = append(c.Removed, p)
		default:
			c.Modified = append(c.Modified, p)
		}
	}
	return c, nil
}

// Patch is one change as the secrets scan reads it. Its text is streamed
// from git (Open), never held: a change's size does not bound memory.
type Patch struct {
	// Binary lists the added or modified files whose new content is
	// binary; their content is not scanned.
	Binary []string

	repo  *Repo
	diffs [][]string        // git diff command lines, one per chunk of paths
	blobs map[string]string // text file → the blob the change leaves
}

// Open streams the unified diff (no context) of the text files. Read it to
// the end or Close it; a git failure is the read's error.
func (p *Patch) Open(ctx context.Context) io.ReadCloser {
	return p.repo.stream(ctx, p.diffs...)
}

// NewBlob is the blob a text file has after the change (false for a file
// the change deletes, or one not in it): for reading the file whole when
// its diff is too large to hold.
func (p *Patch) NewBlob(path string) (string, bool) {
	sha, ok := p.blobs[path]
	return sha, ok
}

// Patch returns what a commit introduces against its first parent (a root
// commit against the empty tree), or the staged change when sha is "".
func (r *Repo) Patch(ctx context.Context, sha string) (*Patch, error) {
	if sha == "" {
		return r.patch(ctx, "HEAD", "")
	}
	out, err := r.git(ctx, "rev-list", "--parents", "-n", "1", "--end-of-options", sha)
	if err != nil {
		return nil, err
	}
	f := strings.Fields(string(out))
	if len(f) > 1 {
		return r.patch(ctx, f[1], sha)
	}
	return r.patch(ctx, emptyTree, sha)
}

// CommitPatch is Patch for a commit whose parents are known (from Commits).
func (r *Repo) CommitPatch(ctx context.Context, c Commit) (*Patch, error) {
	if len(c.Parents) == 0 {
		return r.patch(ctx, emptyTree, c.SHA)
	}
	return r.patch(ctx, c.Parents[0], c.SHA)
}

// RangePatch returns the net change from base to head.
func (r *Repo) RangePatch(ctx context.Context, base, head string) (*Patch, error) {
	return r.patch(ctx, base, head)
}

// binaryWindow is how much of a file decides whether it is binary: a NUL
// byte in the first 8 KiB, as the App decides, whatever .gitattributes says.
const binaryWindow = 8 << 10

// patch lists the change with diff --raw, reads the start of each file's
// new content to tell binary from text, and diffs the text files only,
// with --text so that no attribute (-diff, binary, diff=driver) can hide
// a file's lines.
func (r *Repo) patch(ctx context.Context, base, head string) (*Patch, error) {
	if head == "" {
		if _, err := r.Resolve(ctx, "HEAD"); err != nil {
			base = emptyTree // nothing committed yet: all of the index is new
		}
	}
	raw, err := r.git(ctx, append(append([]string{"diff", "--raw", "-z", "--no-abbrev"}, diffFlags...), diffArgs(base, head)...)...)
	if err != nil {
		return nil, err
	}
	entries, err := parseRaw(raw)
	if err != nil {
		return nil, err
	}
	var blobs []string
	for _, e := range entries {
		blobs = append(blobs, e.blob())
	}
	binary, err := r.binaryBlobs(ctx, blobs)
	if err != nil {
		return nil, err
	}
	p := &Patch{repo: r, blobs: map[string]string{}}
	var text []string
	for _, e := range entries {
		switch {
		case e.gitlink():
			// A submodule's commit, not content.
		case binary[e.blob()]:
			if e.status != 'D' {
				p.Binary = append(p.Binary, e.path)
			}
		default:
			text = append(text, e.path)
			if e.status != 'D' {
				p.blobs[e.path] = e.newSHA
			}
		}
	}
	for _, chunk := range chunks(text) {
		args := append([]string{"diff", "--text", "-U0", "--inter-hunk-context=0", "--full-index"}, diffFlags...)
		args = append(args, diffArgs(base, head)...)
		p.diffs = append(p.diffs, append(append(args, "--"), chunk...))
	}
	return p, nil
}

// OpenBlob streams a blob's content.
func (r *Repo) OpenBlob(ctx context.Context, sha string) io.ReadCloser {
	return r.stream(ctx, []string{"cat-file", "blob", sha})
}

// OpenAt streams a file as of a revision ("" for the index), as ReadAt
// reads it whole. ok is false when the file does not exist there.
func (r *Repo) OpenAt(ctx context.Context, rev, p string) (rc io.ReadCloser, ok bool) {
	spec := rev + ":" + p
	if rev == "" {
		spec = ":" + p
	}
	if _, err := r.git(ctx, "cat-file", "-e", "--end-of-options", spec); err != nil {
		return nil, false
	}
	return r.stream(ctx, []string{"cat-file", "--end-of-options", "blob", spec}), true
}

// stream runs git commands one after another and reads their standard
// output as one stream, through a pipe: nothing is held beyond what the
// reader asks for.
func (r *Repo) stream(ctx context.Context, commands ...[]string) io.ReadCloser {
	return &gitStream{ctx: ctx, g: r.g, commands: commands}
}

type gitStream struct {
	ctx      context.Context
	g        *runner
	commands [][]string
	cmd      *exec.Cmd
	args     []string
	out      io.ReadCloser
	stderr   bytes.Buffer
	err      error
}

func (s *gitStream) Read(b []byte) (int, error) {
	for s.err == nil {
		if s.out == nil {
			if len(s.commands) == 0 {
				s.err = io.EOF
				break
			}
			s.args, s.commands = s.commands[0], s.commands[1:]
			s.cmd = s.g.command(s.ctx, s.args...)
			s.stderr.Reset()
			s.cmd.Stderr = &s.stderr
			out, err := s.cmd.StdoutPipe()
			if err == nil {
				err = s.cmd.Start()
			}
			if err != nil {
				s.err = &gitError{args: s.args, msg: err.Error()}
				break
			}
			s.out = out
		}
		n, err := s.out.Read(b)
		if errors.Is(err, io.EOF) {
			s.out = nil
			if werr := s.cmd.Wait(); werr != nil {
				s.err = &gitError{args: s.args, msg: firstLine(s.stderr.String(), werr)}
			}
			s.cmd = nil
			err = nil
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, s.err
}

// Close stops the command being read, if any.
func (s *gitStream) Close() error {
	if s.cmd != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd, s.out = nil, nil
	}
	if s.err == nil {
		s.err = errors.New("read after close")
	}
	return nil
}

// chunks splits paths into command lines of a safe length.
func chunks(paths []string) [][]string {
	const maxBytes, maxCount = 64 << 10, 1000
	var out [][]string
	var cur []string
	size := 0
	for _, p := range paths {
		if len(cur) > 0 && (size+len(p) > maxBytes || len(cur) == maxCount) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, p)
		size += len(p) + 1
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// rawEntry is one line of `git diff --raw -z`.
type rawEntry struct {
	oldMode, newMode string
	oldSHA, newSHA   string
	status           byte
	path             string
}

// blob is the content the change leaves: the new blob, or the old one for
// a deletion (whose lines become deleted-secret notices).
func (e rawEntry) blob() string {
	if e.status == 'D' {
		return e.oldSHA
	}
	return e.newSHA
}

func (e rawEntry) gitlink() bool {
	return e.newMode == "160000" || (e.status == 'D' && e.oldMode == "160000")
}

// parseRaw reads ":old new oldsha newsha S\0path\0" records (no renames,
// so one path each).
func parseRaw(out []byte) ([]rawEntry, error) {
	var es []rawEntry
	parts := bytes.Split(out, []byte{0})
	for i := 0; i+1 < len(parts); i += 2 {
		head := string(parts[i])
		f := strings.Fields(strings.TrimPrefix(head, ":"))
		if !strings.HasPrefix(head, ":") || len(f) != 5 || f[4] == "" {
			return nil, fmt.Errorf("git diff --raw: unexpected record %q", head)
		}
		es = append(es, rawEntry{oldMode: f[0], newMode: f[1], oldSHA: f[2], newSHA: f[3], status: f[4][0], path: string(parts[i+1])})
	}
	return es, nil
}

// binaryBlobs reads the first binaryWindow bytes of each blob with one
// `git cat-file --batch` and reports which hold a NUL byte. The rest of
// each blob is streamed past, never held.
func (r *Repo) binaryBlobs(ctx context.Context, shas []string) (map[string]bool, error) {
	binary := map[string]bool{}
	var in bytes.Buffer
	seen := map[string]bool{}
	for _, s := range shas {
		if !seen[s] && strings.Trim(s, "0") != "" {
			seen[s] = true
			in.WriteString(s + "\n")
		}
	}
	if in.Len() == 0 {
		return binary, nil
	}
	g, err := r.runner(ctx)
	if err != nil {
		return nil, err
	}
	cmd := g.command(ctx, "cat-file", "--batch")
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("git cat-file --batch: %w", err)
	}
	rerr := readBatch(bufio.NewReader(stdout), binary)
	if rerr != nil {
		_, _ = io.Copy(io.Discard, stdout)
	}
	werr := cmd.Wait()
	switch {
	case werr != nil:
		return nil, &gitError{args: []string{"cat-file", "--batch"}, msg: firstLine(stderr.String(), werr)}
	case rerr != nil:
		return nil, fmt.Errorf("git cat-file --batch: %w", rerr)
	}
	return binary, nil
}

// readBatch reads cat-file --batch output: "<sha> <type> <size>\n<data>\n"
// or "<sha> missing\n" per object.
func readBatch(br *bufio.Reader, binary map[string]bool) error {
	head := make([]byte, binaryWindow)
	for {
		line, err := br.ReadString('\n')
		if errors.Is(err, io.EOF) && line == "" {
			return nil
		}
		if err != nil {
			return err
		}
		f := strings.Fields(line)
		if len(f) == 2 && f[1] == "missing" {
			continue // the empty blob of an intent-to-add entry, say
		}
		if len(f) != 3 {
			return fmt.Errorf("unexpected header %q", strings.TrimSpace(line))
		}
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("unexpected header %q", strings.TrimSpace(line))
		}
		n := min(size, binaryWindow)
		if _, err := io.ReadFull(br, head[:n]); err != nil {
			return err
		}
		binary[f[0]] = bytes.IndexByte(head[:n], 0) >= 0
		if _, err := io.CopyN(io.Discard, br, size-n+1); err != nil { // the rest and the LF
			return err
		}
	}
}

// emptyTree is git's well-known empty tree object.
const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
