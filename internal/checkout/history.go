package checkout

import (
	"bytes"
	"context"
	"fmt"
	"strings"
)

// Resolve returns the commit SHA a revision names.
func (r *Repo) Resolve(ctx context.Context, rev string) (string, error) {
	if !r.Git {
		return "", fmt.Errorf("%s is not a git checkout", r.Dir)
	}
	out, err := r.git(ctx, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("unknown revision %q", rev)
	}
	return strings.TrimSpace(string(out)), nil
}

// MergeBase returns merge-base(ref, HEAD), which is what a pull request
// from HEAD into ref is compared against.
func (r *Repo) MergeBase(ctx context.Context, ref string) (string, error) {
	if _, err := r.Resolve(ctx, ref); err != nil {
		return "", err
	}
	out, err := r.git(ctx, "merge-base", ref, "HEAD")
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
		out, err = r.git(ctx, "ls-tree", "-r", "-z", "--name-only", rev)
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
	if _, err := r.git(ctx, "cat-file", "-e", spec); err != nil {
		return nil, false, nil
	}
	out, err := r.git(ctx, "cat-file", "blob", spec)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// Commit is one commit of a range.
type Commit struct {
	SHA     string
	Parents []string
}

// Commits lists base..head oldest first.
func (r *Repo) Commits(ctx context.Context, base, head string) ([]Commit, error) {
	out, err := r.git(ctx, "rev-list", "--reverse", "--parents", base+".."+head)
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

// Diff compares two revisions by file name ("" as head compares with the
// index). Renames count as a removal and an addition.
func (r *Repo) Diff(ctx context.Context, base, head string) (*Change, error) {
	args := []string{"diff", "--name-status", "-z", "--no-renames", "--no-ext-diff"}
	if head == "" {
		args = append(args, "--cached", base)
	} else {
		args = append(args, base, head)
	}
	out, err := r.git(ctx, args...)
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

// Patch returns the unified diff a commit introduces against its first
// parent (a root commit against the empty tree), or the staged change when
// sha is "".
func (r *Repo) Patch(ctx context.Context, sha string) ([]byte, error) {
	args := []string{"-c", "diff.noprefix=false", "diff", "--no-color", "--no-renames", "--no-ext-diff", "-U0", "--full-index"}
	if sha == "" {
		args = append(args, "--cached")
	} else {
		out, err := r.git(ctx, "rev-list", "--parents", "-n", "1", sha)
		if err != nil {
			return nil, err
		}
		f := strings.Fields(string(out))
		if len(f) > 1 {
			args = append(args, f[1], sha)
		} else {
			args = append(args, emptyTree, sha)
		}
	}
	out, err := r.git(ctx, args...)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(out), nil
}

// RangePatch returns the net unified diff from base to head.
func (r *Repo) RangePatch(ctx context.Context, base, head string) ([]byte, error) {
	return r.git(ctx, "-c", "diff.noprefix=false", "diff", "--no-color", "--no-renames", "--no-ext-diff", "-U0", "--full-index", base, head)
}

// emptyTree is git's well-known empty tree object.
const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
