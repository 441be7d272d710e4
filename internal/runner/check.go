package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"path"
	"strings"

	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/change"
	"github.com/housekeeper-app/housekeeper/internal/checkrun"
	"github.com/housekeeper-app/housekeeper/internal/config"
	"github.com/housekeeper-app/housekeeper/internal/dirmap"
	"github.com/housekeeper-app/housekeeper/internal/marker"
	"github.com/housekeeper-app/housekeeper/internal/publish"
	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// state is one run's working set.
type state struct {
	r      *Runner
	job    Job
	client *github.Client
	pub    *publish.Publisher
	target publish.Target
	runs   publish.Runs
	reader *change.Reader

	cfg            *config.Config
	maxAnnotations int
	notes          []string

	// comments are the ignore PR's comments, read while the rest loads.
	comments    chan commentsResult
	commentsFor int
}

type commentsResult struct {
	list []change.Comment
	err  error
}

// drainComments waits for a prefetch nobody used (the check failed
// early), so no request outlives the run.
func (st *state) drainComments() {
	if st.comments != nil {
		<-st.comments
	}
}

// prefetchComments starts reading the comments that hold the ignore
// markers, in parallel with the config and the change.
func (st *state) prefetchComments(ctx context.Context) {
	n := st.job.PR
	if n == 0 {
		n = st.job.IgnoresPR
	}
	if n == 0 || st.r.MarkerKey == nil {
		return
	}
	st.commentsFor = n
	st.comments = make(chan commentsResult, 1)
	go func() {
		list, err := st.reader.Comments(ctx, st.job.Owner, st.job.Repo, n)
		st.comments <- commentsResult{list, err}
	}()
}

type result struct {
	checkrun.Check
	actions []publish.Action
}

// slowCommits: past this many commits to read one by one, the runs are
// shown in progress first.
const slowCommits = 3

func (st *state) check(ctx context.Context) ([]result, error) {
	job := st.job
	st.reader = &change.Reader{Client: st.client}
	st.prefetchComments(ctx)
	defer st.drainComments()
	cfg, err := st.r.loadConfig(ctx, st.reader, job)
	if err != nil {
		return nil, err
	}
	st.cfg = cfg
	st.maxAnnotations = cfg.Secrets.MaxAnnotations
	if job.BaseSHA == "" {
		if err := st.start(ctx); err != nil {
			return nil, err
		}
	}
	ch, err := st.reader.Read(ctx, change.Request{
		Owner: job.Owner, Repo: job.Repo, BaseSHA: job.BaseSHA, HeadSHA: job.HeadSHA, PR: job.PR,
		MapPath: cfg.Dirs.Map, MaxCommits: cfg.Secrets.MaxCommits,
	})
	if err != nil {
		return nil, err
	}
	if err := st.configEdit(ctx, ch); err != nil {
		return nil, err
	}
	if !ch.Audit && !ch.NetDiffOnly && countUnloaded(ch) > slowCommits {
		if err := st.start(ctx); err != nil {
			return nil, err
		}
	}
	dirs, err := st.dirs(ctx, ch)
	if err != nil {
		return nil, err
	}
	sec, err := st.secrets(ctx, ch)
	if err != nil {
		return nil, err
	}
	return []result{dirs, sec}, nil
}

// start shows both runs in progress, for checks that take a while.
func (st *state) start(ctx context.Context) error {
	for _, name := range []string{checkrun.NameDirs, checkrun.NameSecrets} {
		if err := st.pub.Start(ctx, st.target, st.runs, name); err != nil {
			return err
		}
	}
	return nil
}

func countUnloaded(ch *change.Change) int {
	n := 0
	for _, c := range ch.Commits {
		if !c.Merge && len(c.Files) == 0 {
			n++
		}
	}
	return n
}

// configEdit tells a PR that edits the config that its change applies after
// merge, and fails it when the new config is invalid.
func (st *state) configEdit(ctx context.Context, ch *change.Change) error {
	for _, f := range ch.Files {
		if f.Path != config.Path || f.Status == "removed" {
			continue
		}
		data, ok, err := st.reader.Contents(ctx, st.job.Owner, st.job.Repo, config.Path, st.job.HeadSHA)
		if err != nil || !ok {
			return err
		}
		if _, err := config.Parse(config.Path, data); err != nil {
			return &configError{source: config.Path + " in this change", err: err, edited: true}
		}
		st.notes = append(st.notes, fmt.Sprintf("This change edits `%s`; it is valid, and applies once merged (the config on the base branch judges this change).", config.Path))
	}
	return nil
}

func (st *state) dirs(ctx context.Context, ch *change.Change) (result, error) {
	in := st.dirsInput(ch)
	in.ReadManifests = st.readManifests(ctx, ch)
	c, res, err := checkrun.RunDirs(ctx, st.cfg, in, []string{st.job.Repo}, st.notes, st.job.PR > 0)
	if err != nil {
		return result{}, err
	}
	var actions []publish.Action
	if len(res.Fixes) > 0 && st.job.PR > 0 {
		actions = append(actions, publish.Action{Label: "Add stub entries", Description: "Commit TODO entries for new directories", Identifier: ActionAddStubs})
	}
	return result{Check: c, actions: actions}, nil
}

// ActionAddStubs is the "Add stub entries" button's identifier.
const ActionAddStubs = "add-stub-entries"

func (st *state) dirsInput(ch *change.Change) dirmap.Input {
	in := dirmap.Input{Head: &dirmap.Side{HasMap: ch.HasHeadMap, Map: ch.HeadMap, MapSize: ch.HeadMapSize}}
	for _, f := range ch.HeadFiles {
		in.Head.Files = append(in.Head.Files, f.Path)
	}
	if !ch.Audit {
		in.Base = &dirmap.Side{HasMap: ch.HasBaseMap, Map: ch.BaseMap, MapSize: ch.BaseMapSize, Files: ch.BaseFiles}
		for _, f := range ch.Files {
			switch f.Status {
			case "added", "renamed", "copied":
				in.Added = append(in.Added, f.Path)
				in.Changed = append(in.Changed, f.Path)
			case "modified", "changed":
				in.Changed = append(in.Changed, f.Path)
			}
		}
	}
	return in
}

// maxManifestReads is how many manifests are read one by one; beyond it
// one tarball download is cheaper.
const maxManifestReads = 50

// readManifests returns the dirs engine's reader of manifests at the head:
// the files the namespace check asks for, one by one up to
// maxManifestReads, else from one tarball, each bounded to just over the
// engine's size limit (which reports what is larger).
func (st *state) readManifests(ctx context.Context, ch *change.Change) func([]string) ([]dirmap.Manifest, error) {
	job := st.job
	return func(scope []string) ([]dirmap.Manifest, error) {
		var out []dirmap.Manifest
		if len(scope) <= maxManifestReads {
			blobs := make(map[string]change.TreeFile, len(ch.HeadFiles))
			for _, f := range ch.HeadFiles {
				blobs[f.Path] = f
			}
			for _, p := range scope {
				f := blobs[p]
				if f.Size > dirmap.MaxManifestSize || f.BlobSHA == "" || !f.Regular {
					out = append(out, dirmap.Manifest{Path: p, TooLarge: true})
					continue
				}
				data, err := st.reader.Blob(ctx, job.Owner, job.Repo, f.BlobSHA)
				if err != nil {
					return nil, err
				}
				out = append(out, dirmap.Manifest{Path: p, Data: data})
			}
			return out, nil
		}
		want := make(map[string]bool, len(scope))
		for _, p := range scope {
			want[p] = true
		}
		err := st.reader.Tarball(ctx, job.Owner, job.Repo, job.HeadSHA, func(e change.TarEntry) error {
			if !e.Regular || !want[e.Path] {
				return nil
			}
			data, err := io.ReadAll(io.LimitReader(e.Reader, dirmap.MaxManifestSize+1))
			if err != nil {
				return fmt.Errorf("read %s from the tarball: %w", e.Path, err)
			}
			out = append(out, dirmap.Manifest{Path: e.Path, Data: data})
			return nil
		})
		return out, err
	}
}

func (st *state) secrets(ctx context.Context, ch *change.Change) (result, error) {
	scanner, err := checkrun.NewScanner(st.cfg)
	if err != nil {
		return result{}, &configError{source: st.cfg.Source, err: err}
	}
	scan := checkrun.NewSecretsScan(scanner, ch.Audit)
	job := st.job
	switch {
	case ch.Audit:
		res, err := scanner.ScanTree(ctx, st.tarballFiles(ctx, scan))
		scan.AddTree(res)
		if err != nil {
			if ctx.Err() == nil {
				return result{}, err
			}
			scan.Stop(err) // fail closed with what was found
		}
	case ch.NetDiffOnly || !ch.FilesComplete:
		why := fmt.Sprintf("more than `max_commits` (%d)", st.cfg.Secrets.MaxCommits)
		if !ch.FilesComplete {
			why = "more files than GitHub lists (3,000)"
		}
		scan.Note(fmt.Sprintf("This change has %s: the net diff was scanned instead of each commit.", why))
		if ch.FilesComplete {
			diffs, err := st.diffs(ctx, ch.Files)
			if err != nil {
				return result{}, err
			}
			if err := scan.AddCommit(ctx, "", diffs, st.contentAt(ctx, job.HeadSHA), true); err != nil && !stopped(ctx, err) {
				return result{}, err
			}
		} else if err := st.tarballDiffs(ctx, ch.Files, scan); err != nil {
			if !stopped(ctx, err) {
				return result{}, err
			}
			scan.Stop(err)
		}
	default:
		for i := range ch.Commits {
			cm := &ch.Commits[i]
			if cm.Merge {
				continue
			}
			if err := st.reader.LoadCommit(ctx, job.Owner, job.Repo, cm); err != nil {
				if stopped(ctx, err) {
					scan.Stop(err)
					break
				}
				return result{}, err
			}
			diffs, err := st.diffs(ctx, cm.Files)
			if err != nil {
				return result{}, err
			}
			if err := scan.AddCommit(ctx, cm.SHA, diffs, st.contentAt(ctx, cm.SHA), i == len(ch.Commits)-1); err != nil {
				if stopped(ctx, err) {
					break
				}
				return result{}, err
			}
		}
		if ctx.Err() == nil {
			scan.Locate(ctx, st.fileAt(ctx, job.HeadSHA))
		}
	}
	if ctx.Err() != nil {
		// The deadline passed: the run is published with what was found,
		// failing, within the closing grace (runOnce).
		scan.Stop(ctx.Err())
		c := checkrun.Secrets(checkrun.SecretsInput{Scan: scan, Config: st.cfg, ConfigSource: st.cfg.Source, Notes: st.notes})
		return result{Check: c}, nil
	}
	if ch.Audit {
		scan.Allow(nil) // an audit honours every inline allow
	} else {
		scan.Allow(st.fileAt(ctx, ch.MergeBase))
	}
	if err := st.prIgnores(ctx, scan); err != nil {
		return result{}, err
	}
	c := checkrun.Secrets(checkrun.SecretsInput{Scan: scan, Config: st.cfg, ConfigSource: st.cfg.Source, Notes: st.notes})
	return result{Check: c}, nil
}

// prIgnores honours the /housekeeper ignore decisions recorded on the pull
// request (one call for its comments).
func (st *state) prIgnores(ctx context.Context, scan *checkrun.SecretsScan) error {
	if st.comments == nil {
		return nil
	}
	n := st.commentsFor
	res := <-st.comments
	st.comments = nil
	comments, err := res.list, res.err
	if err != nil {
		return err
	}
	var cs []marker.Comment
	for _, c := range comments {
		cs = append(cs, marker.Comment{Body: c.Body, ByApp: st.r.AppID != 0 && c.AppID == st.r.AppID})
	}
	by := map[string]string{}
	for fp, d := range marker.Ignores(st.r.MarkerKey, st.job.Owner+"/"+st.job.Repo, n, cs) {
		by[fp] = fmt.Sprintf("@%s with /housekeeper ignore on #%d: %s", d.Actor, n, d.Reason) // data; escaped where shown
	}
	scan.Suppress(by)
	return nil
}

// tarballFiles streams the head's tarball into the scanner: one
// download, nothing on disk. Small files are read and scanned in parallel;
// a large one is streamed to a worker while the tarball waits, so memory
// stays bounded by the scanner's window whatever the files' sizes.
func (st *state) tarballFiles(ctx context.Context, scan *checkrun.SecretsScan) iter.Seq2[secrets.File, error] {
	job, limit := st.job, int64(st.cfg.Secrets.MaxFileSize)
	return func(yield func(secrets.File, error) bool) {
		stopped := errors.New("stopped")
		err := st.reader.Tarball(ctx, job.Owner, job.Repo, job.HeadSHA, func(e change.TarEntry) error {
			if !e.Regular {
				return nil
			}
			if e.Size > limit {
				// Said once: the scanner sees the size and skips the file.
				if !yield(secrets.File{Path: e.Path, Size: e.Size}, nil) {
					return stopped
				}
				return nil
			}
			if e.Size <= smallFile {
				data, err := readAll(e)
				if err != nil {
					return err
				}
				if !yield(secrets.ContentFile(e.Path, data), nil) {
					return stopped
				}
				return nil
			}
			f, done := streamed(e)
			if !yield(f, nil) {
				return stopped
			}
			select {
			case <-done:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		})
		if err != nil && !errors.Is(err, stopped) {
			yield(secrets.File{}, err)
		}
	}
}

// smallFile: tarball entries up to this size are read whole and scanned
// in parallel; larger ones are streamed.
const smallFile = 1 << 20

// streamed hands a tarball entry's reader to the scanner; done closes when
// the scanner is finished with it, so the tarball may move on.
func streamed(e change.TarEntry) (secrets.File, <-chan struct{}) {
	done := make(chan struct{})
	return secrets.File{Path: e.Path, Size: e.Size,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(e.Reader), nil },
		Done: func() { close(done) }}, done
}

// tarballDiffs scans every changed file whole from one tarball download,
// for changes beyond GitHub's file lists (no patches, no per-file calls);
// each file is streamed into the scanner.
func (st *state) tarballDiffs(ctx context.Context, files []change.File, scan *checkrun.SecretsScan) error {
	changed := map[string]bool{}
	for _, f := range files {
		if f.Status != "removed" {
			changed[f.Path] = true
		}
	}
	limit := int64(st.cfg.Secrets.MaxFileSize)
	scan.AddCommit(ctx, "", nil, nil, true)
	return st.reader.Tarball(ctx, st.job.Owner, st.job.Repo, st.job.HeadSHA, func(e change.TarEntry) error {
		if !e.Regular || !changed[e.Path] {
			return nil
		}
		if e.Size > limit {
			scan.AddSkipped(secrets.Skipped{Path: e.Path, Reason: secrets.SkipTooLarge})
			return nil
		}
		d := secrets.FileDiff{NewPath: e.Path, Open: func() (io.ReadCloser, error) { return io.NopCloser(e.Reader), nil }}
		return scan.AddDiff(ctx, "", d, nil, true)
	})
}

// diffs turns GitHub's file list into diffs; a file without a patch (too
// large for GitHub to show) is streamed whole from its blob when scanned.
func (st *state) diffs(ctx context.Context, files []change.File) ([]secrets.FileDiff, error) {
	var out []secrets.FileDiff
	for _, f := range files {
		switch {
		case f.Status == "removed":
			if !f.HasPatch {
				continue
			}
			d, err := secrets.ParsePatch(f.Path, f.Patch)
			if err != nil {
				return nil, fmt.Errorf("read patch of %s: %w", f.Path, err)
			}
			d.OldPath, d.NewPath = f.Path, ""
			out = append(out, d)
		case f.HasPatch:
			d, err := secrets.ParsePatch(f.Path, f.Patch)
			if err != nil {
				return nil, fmt.Errorf("read patch of %s: %w", f.Path, err)
			}
			if f.Status == "added" {
				d.OldPath = ""
			}
			out = append(out, d)
		case f.BlobSHA != "":
			sha := f.BlobSHA
			d := secrets.FileDiff{NewPath: f.Path, Open: func() (io.ReadCloser, error) {
				return st.reader.OpenBlob(ctx, st.job.Owner, st.job.Repo, sha)
			}}
			if f.Status != "added" {
				d.OldPath = f.Path
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// stopped: the error is the job's deadline (or cancellation) ending the
// scan, so the run is published with what was found, failing.
func stopped(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled))
}

// contentAt reads whole YAML files at a commit, up to 4 MiB (structural
// rules read no larger document): structural rules (raw Kubernetes
// Secrets, Atlantis Helm values) read the document. A larger file is
// scanned from its added lines alone, never read whole.
func (st *state) contentAt(ctx context.Context, sha string) func(string) []byte {
	return func(p string) []byte {
		switch strings.ToLower(path.Ext(p)) {
		case ".yaml", ".yml":
		default:
			return nil
		}
		rc, size, ok, err := st.reader.OpenFile(ctx, st.job.Owner, st.job.Repo, p, sha)
		if err != nil || !ok {
			return nil
		}
		defer rc.Close()
		if size > structuralLimit {
			return nil
		}
		data, err := io.ReadAll(io.LimitReader(rc, structuralLimit+1))
		if err != nil || len(data) > structuralLimit {
			return nil
		}
		return data
	}
}

// structuralLimit: the largest document structural rules read.
const structuralLimit = 4 << 20

// fileAt streams files at a commit (Locate, Allow), never holding one
// whole.
func (st *state) fileAt(ctx context.Context, sha string) func(string) (io.ReadCloser, bool) {
	return func(p string) (io.ReadCloser, bool) {
		rc, _, ok, err := st.reader.OpenFile(ctx, st.job.Owner, st.job.Repo, p, sha)
		return rc, err == nil && ok
	}
}
