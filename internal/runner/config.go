package runner

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/change"
	"github.com/housekeeper-app/housekeeper/internal/config"
)

// configError is an invalid config: shown on the run, never only logged.
type configError struct {
	source string
	err    error
	edited bool
}

func (e *configError) Error() string { return fmt.Sprintf("invalid config %s: %v", e.source, e.err) }

func (e *configError) summary() string {
	var b strings.Builder
	if e.edited {
		fmt.Fprintf(&b, "This change edits `%s`, and the new version is invalid. The config on the base branch judges this change; the new one would apply after merge, so fix it first:\n\n", config.Path)
	} else {
		fmt.Fprintf(&b, "The Housekeeper config that applies (%s) is invalid, so the check fails closed:\n\n", e.source)
	}
	b.WriteString("```\n" + strings.ReplaceAll(e.err.Error(), "```", "'''") + "\n```\n")
	b.WriteString("\nFix the file, then push again or re-run this check.\n")
	return b.String()
}

// loadConfig reads the config from the tip of the base branch, else the
// organisation's .github repository (cached), else the defaults. A PR
// cannot change the rules that judge it.
func (r *Runner) loadConfig(ctx context.Context, rd *change.Reader, job Job) (*config.Config, error) {
	ref := job.BaseRef
	if ref == "" {
		ref = job.DefaultBranch
	}
	data, ok, err := rd.Contents(ctx, job.Owner, job.Repo, config.Path, ref)
	if err != nil {
		return nil, err
	}
	if ok {
		src := fmt.Sprintf("%s/%s@%s:%s", job.Owner, job.Repo, ref, config.Path)
		cfg, err := config.Parse(src, data)
		if err == nil {
			// Imported rule files come from the same ref as the config.
			err = cfg.ReadImports(fmt.Sprintf("%s/%s@%s", job.Owner, job.Repo, ref), func(p string) ([]byte, bool, error) {
				return rd.Contents(ctx, job.Owner, job.Repo, p, ref)
			})
		}
		if err != nil {
			return nil, &configError{source: "`" + src + "`", err: err}
		}
		return cfg, nil
	}
	return r.orgConfig(ctx, rd, job)
}

// orgConfig reads <owner>/.github's .github/housekeeper.yml, cached per
// owner so an organisation's repositories share one read.
func (r *Runner) orgConfig(ctx context.Context, rd *change.Reader, job Job) (*config.Config, error) {
	if job.Repo == ".github" {
		return config.Default(), nil
	}
	ttl := r.OrgConfigTTL
	if ttl == 0 {
		ttl = 5 * time.Minute
	}
	if e, ok := r.orgCfg.get(job.Owner, ttl); ok {
		return e.cfg, e.err
	}
	data, ok, err := rd.Contents(ctx, job.Owner, ".github", config.Path, "")
	if err != nil && !change.IsNotFound(err) {
		return nil, err
	}
	e := orgEntry{cfg: config.Default(), at: time.Now()}
	if ok {
		src := fmt.Sprintf("%s/.github:%s", job.Owner, config.Path)
		cfg, perr := config.Parse(src, data)
		if perr == nil {
			perr = cfg.ReadImports(job.Owner+"/.github", func(p string) ([]byte, bool, error) {
				d, ok, err := rd.Contents(ctx, job.Owner, ".github", p, "")
				if change.IsNotFound(err) {
					return nil, false, nil
				}
				return d, ok, err
			})
		}
		if perr != nil {
			e.cfg, e.err = nil, &configError{source: "`" + src + "` (inherited from the organisation)", err: perr}
		} else {
			e.cfg = cfg
		}
	}
	r.orgCfg.put(job.Owner, e)
	return e.cfg, e.err
}

type orgEntry struct {
	cfg *config.Config
	err error
	at  time.Time
}

type orgCache struct {
	mu sync.Mutex
	m  map[string]orgEntry
}

func (c *orgCache) get(owner string, ttl time.Duration) (orgEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[owner]
	if !ok || time.Since(e.at) > ttl {
		return orgEntry{}, false
	}
	return e, true
}

func (c *orgCache) put(owner string, e orgEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]orgEntry{}
	}
	c.m[owner] = e
}

func readAll(e change.TarEntry) ([]byte, error) {
	data, err := io.ReadAll(e.Reader)
	if err != nil {
		return nil, fmt.Errorf("read %s from the tarball: %w", e.Path, err)
	}
	return data, nil
}
