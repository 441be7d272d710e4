package runner

import (
	"context"
	"fmt"

	"github.com/housekeeper-app/housekeeper/internal/change"
	"github.com/housekeeper-app/housekeeper/internal/checkrun"
	"github.com/housekeeper-app/housekeeper/internal/dirmap"
)

// DirsFix is the map change that registers a commit's unregistered
// directories.
type DirsFix struct {
	MapPath string
	HadMap  bool
	MapSHA  string // the map's blob at the head, which an update must name
	Old     []byte
	New     []byte
	Dirs    []string
	Patch   string
}

// FixDirs computes the stub entries for a job's unregistered directories,
// in the map's own format; nil when there is nothing to fix.
func (r *Runner) FixDirs(ctx context.Context, job Job) (*DirsFix, error) {
	client, err := r.client(job.InstallationID, &callCounter{})
	if err != nil {
		return nil, fmt.Errorf("installation client: %w", err)
	}
	rd := &change.Reader{Client: client}
	cfg, err := r.loadConfig(ctx, rd, job)
	if err != nil {
		return nil, err
	}
	ch, err := rd.Read(ctx, change.Request{Owner: job.Owner, Repo: job.Repo, BaseSHA: job.BaseSHA, HeadSHA: job.HeadSHA, PR: job.PR, MapPath: cfg.Dirs.Map, MaxCommits: cfg.Secrets.MaxCommits})
	if err != nil {
		return nil, err
	}
	st := &state{r: r, job: job, cfg: cfg}
	in := st.dirsInput(ch)
	_, res, err := checkrun.RunDirs(ctx, cfg, in, []string{job.Repo}, nil, false)
	if err != nil {
		return nil, err
	}
	if len(res.Fixes) == 0 {
		return nil, nil
	}
	f := &DirsFix{MapPath: cfg.Dirs.Map, HadMap: ch.HasHeadMap, Old: ch.HeadMap}
	if ch.HasHeadMap {
		_, f.MapSHA, _, err = rd.File(ctx, job.Owner, job.Repo, cfg.Dirs.Map, job.HeadSHA)
		if err != nil {
			return nil, err
		}
	}
	if f.New, err = dirmap.ApplyFixes(f.Old, res.Fixes); err != nil {
		return nil, err
	}
	if f.Patch, err = dirmap.FixPatch(f.MapPath, f.Old, res.Fixes); err != nil {
		return nil, err
	}
	for _, fx := range res.Fixes {
		if fx.Path != "" {
			f.Dirs = append(f.Dirs, fx.Path)
		}
	}
	return f, nil
}
