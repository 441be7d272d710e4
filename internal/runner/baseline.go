package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"path"
	"strings"
	"time"

	"github.com/google/go-github/v66/github"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/change"
	"github.com/housekeeper-app/housekeeper/internal/checkrun"
	"github.com/housekeeper-app/housekeeper/internal/config"
	"github.com/housekeeper-app/housekeeper/internal/dirmap"
	"github.com/housekeeper-app/housekeeper/internal/mapgen"
	"github.com/housekeeper-app/housekeeper/internal/onboarding"
	"github.com/housekeeper-app/housekeeper/internal/publish"
	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// A baseline reads the default branch from one tarball: the commit (its pax
// comment), the tree, the map, the config and every file for the secrets
// scan. A clean branch gets no check run (nothing to look at); a branch
// with findings gets a run for each check that has some. Then, for a
// repository without a map, the onboarding pull request.

// maxPending bounds what is held in memory before the config is known
// (files that sort before .github/ in the tarball).
const maxPending = 32 << 20

// errFallback sends the audit down the per-request path (config read
// through the contents API), for tarballs that do not fit the fast one.
var errFallback = errors.New("baseline needs the config first")

// errManifestNotKept: the namespace check asks for a manifest the
// snapshot did not keep.
var errManifestNotKept = errors.New("baseline: a manifest was not kept from the tarball")

// snapshot is what one tarball says about the default branch.
type snapshot struct {
	sha       string
	cfg       *config.Config
	ownConfig bool
	files     []string
	hasMap    bool
	mapData   []byte
	mapSize   int64 // when mapData is only the start of a map over dirmap.MaxMapSize
	tree      *mapgen.Mem
	scan      *checkrun.SecretsScan
	// yaml holds YAML files for the namespace check (bounded by
	// maxManifestBytes; yamlCut says some were not kept).
	yaml      map[string][]byte
	yamlSize  map[string]int64
	yamlTotal int64
	yamlCut   bool
}

// maxManifestBytes bounds the YAML a baseline keeps for the namespace check.
const maxManifestBytes = 64 << 20

// holdWhole: tarball entries up to this size are read whole and scanned in
// parallel; a larger one is streamed into the scanner while the tarball
// waits (as a pull request's tarball is), so a baseline holds no file
// whole whatever its size. The map is held up to what it takes to read or
// refuse it, and the map generator gets the start of the files it reads.
const holdWhole = 1 << 20

type tarItem struct {
	e    change.TarEntry
	data []byte // a regular file's content; only its start when streamed
	// done, for a streamed entry, is closed once the scanner is finished
	// with e.Reader; the tarball waits for it before moving on.
	done chan struct{}
}

func (it tarItem) streamed() bool { return it.done != nil }

// release lets the tarball move past a streamed entry.
func (it tarItem) release() {
	if it.done != nil {
		close(it.done)
	}
}

// baseline audits one repository's default branch.
func (a *Auditor) baseline(ctx context.Context, t auditTask, client *github.Client, counter *callCounter, branch string) error {
	start := time.Now()
	r := a.Runner
	log := zerolog.Ctx(ctx).With().Str("repository", t.repo.Owner+"/"+t.repo.Name).Logger()
	ctx = log.WithContext(ctx)
	rd := &change.Reader{Client: client}
	snap, err := a.snapshot(ctx, rd, t, branch)
	if errors.Is(err, errFallback) {
		log.Info().Msg("baseline: reading the config first")
		return a.fallback(ctx, t, client, branch)
	}
	if err != nil {
		var ce *configError
		if errors.As(err, &ce) {
			return a.fallback(ctx, t, client, branch) // fails closed on runs that say why
		}
		if change.IsNotFound(err) {
			log.Info().Msg("baseline: empty repository, nothing to audit")
			return nil
		}
		return err
	}
	cfg := snap.cfg
	in := dirmap.Input{Head: &dirmap.Side{HasMap: snap.hasMap, Map: snap.mapData, MapSize: snap.mapSize, Files: snap.files}}
	// The manifests come from the snapshot's one tarball; one it did not
	// keep sends the baseline to the slower path that reads them itself.
	in.ReadManifests = func(paths []string) ([]dirmap.Manifest, error) {
		out := make([]dirmap.Manifest, 0, len(paths))
		for _, p := range paths {
			data, ok := snap.yaml[p]
			switch {
			case ok:
				out = append(out, dirmap.Manifest{Path: p, Data: data})
			case snap.yamlSize[p] > dirmap.MaxManifestSize:
				out = append(out, dirmap.Manifest{Path: p, TooLarge: true})
			default:
				return nil, errManifestNotKept
			}
		}
		return out, nil
	}
	dirs, _, err := checkrun.RunDirs(ctx, cfg, in, []string{t.repo.Name}, nil, false)
	if errors.Is(err, errManifestNotKept) {
		log.Info().Msg("baseline: more manifests than it keeps; reading them one by one")
		return a.fallback(ctx, t, client, branch)
	}
	if err != nil {
		return err
	}
	sec := checkrun.Secrets(checkrun.SecretsInput{Scan: snap.scan, Config: cfg, ConfigSource: cfg.Source})
	var publishNow []result
	for _, c := range []checkrun.Check{dirs, sec} {
		if worthARun(c) {
			publishNow = append(publishNow, result{Check: c})
		}
	}
	if len(publishNow) > 0 {
		pub := &publish.Publisher{Client: client, AppID: r.AppID, Pacer: r.Pacer, MaxAnnotations: cfg.Secrets.MaxAnnotations}
		target := publish.Target{Owner: t.repo.Owner, Repo: t.repo.Name, SHA: snap.sha}
		runs, err := pub.Lookup(ctx, target)
		if err != nil {
			return err
		}
		for _, c := range publishNow {
			if err := a.Pace.Wait(ctx); err != nil {
				return err
			}
			if err := pub.Complete(ctx, target, runs, c.Check, nil); err != nil {
				return err
			}
		}
	}
	r.observe(start, counter, []result{{Check: dirs}, {Check: sec}})
	log.Info().Str("sha", snap.sha).Int("runs", len(publishNow)).Int("api_calls", counter.n()).Msg("baseline audited")
	onboardingPR, note := 0, ""
	if !snap.hasMap {
		onboardingPR, note = a.onboard(ctx, t, client, branch, snap)
	}
	if t.repo.StubsPR {
		a.stubsPR(ctx, t, client, snap)
	}
	if cfg.Dashboard {
		t.repo.DefaultBranch = branch
		a.updateDashboard(ctx, t, client, snap, dirs, sec, onboardingPR, note)
	}
	return nil
}

// worthARun: a check with nothing to say is not posted on a default branch.
func worthARun(c checkrun.Check) bool {
	if c.Conclusion == checkrun.Failure {
		return true
	}
	for _, f := range c.Findings {
		if f.Level == checkrun.LevelFailure || f.Level == checkrun.LevelWarning {
			return true
		}
	}
	return false
}

// fallback audits through the per-request path (Runner.Run).
func (a *Auditor) fallback(ctx context.Context, t auditTask, client *github.Client, branch string) error {
	b, _, err := client.Repositories.GetBranch(ctx, t.repo.Owner, t.repo.Name, branch, 0)
	if err != nil {
		return fmt.Errorf("read branch %s of %s/%s: %w", branch, t.repo.Owner, t.repo.Name, err)
	}
	return a.Runner.Run(ctx, Job{
		InstallationID: t.inst, Owner: t.repo.Owner, Repo: t.repo.Name, DefaultBranch: branch,
		HeadSHA: b.GetCommit().GetSHA(), BaseRef: branch, Event: "installation",
	})
}

// pastConfig reports whether a tarball path sorts after the config in git's
// tree order, so the config can no longer come.
func pastConfig(p string) bool {
	top, _, nested := strings.Cut(p, "/")
	if nested {
		top += "/"
	}
	return top > ".github/"
}

// snapshot streams the tarball once: entries before the config is known
// are held (bounded), then the scanner takes them and the rest as they
// come, large ones streamed.
func (a *Auditor) snapshot(ctx context.Context, rd *change.Reader, t auditTask, branch string) (*snapshot, error) {
	snap := &snapshot{tree: mapgen.NewMem(), yaml: map[string][]byte{}, yamlSize: map[string]int64{}}
	// Until the config is known entries are held, up to maxPending in all;
	// then mapPath is the map's path. (The iterator runs only inside
	// next(), so no lock is needed.)
	configKnown, mapPath := false, ""
	var pendingHeld int64
	var tarErr error
	entries := func(yield func(tarItem, error) bool) {
		stopped := errors.New("stopped")
		sha, err := rd.Snapshot(ctx, t.repo.Owner, t.repo.Name, branch, func(e change.TarEntry) error {
			it := tarItem{e: e}
			if e.Regular {
				whole, start := int64(holdWhole), int64(0)
				switch {
				case !configKnown && !pastConfig(e.Path):
					whole = max(maxPending-pendingHeld, 0)
				case !configKnown:
					// The last entry read before the config is known: it
					// may be the map.
					start = dirmap.MaxMapSize + 1
				case e.Path == mapPath:
					start = dirmap.MaxMapSize + 1
				case mapgen.Wanted(e.Path):
					start = mapgen.MaxAddRead
				}
				if e.Size > whole {
					it.done = make(chan struct{})
				} else {
					start = whole
				}
				data, err := io.ReadAll(io.LimitReader(e.Reader, start))
				if err != nil {
					return fmt.Errorf("read %s from the tarball: %w", e.Path, err)
				}
				it.data = data
				if !configKnown {
					pendingHeld += int64(len(data))
				}
			}
			if !yield(it, nil) {
				return stopped
			}
			if it.streamed() {
				select {
				case <-it.done:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
		snap.sha = sha
		if err != nil && !errors.Is(err, stopped) {
			tarErr = err
			yield(tarItem{}, err)
		}
	}
	next, stop := iter.Pull2(entries)
	defer stop()

	var pending []tarItem
	var configData []byte
	haveConfig := false
	for {
		it, err, ok := next()
		if !ok {
			break
		}
		if err != nil {
			return nil, err
		}
		if it.streamed() && !pastConfig(it.e.Path) {
			// Larger than what may be held before the config is known.
			return nil, errFallback
		}
		if it.e.Path == config.Path && it.e.Regular {
			configData, haveConfig = it.data, true
		}
		pending = append(pending, it)
		if haveConfig || pastConfig(it.e.Path) {
			break
		}
	}
	if tarErr != nil {
		return nil, tarErr
	}
	cfg, err := a.baselineConfig(ctx, rd, t, branch, configData, haveConfig)
	if err != nil {
		return nil, err
	}
	snap.cfg, snap.ownConfig = cfg, haveConfig
	scanner, err := checkrun.NewScanner(cfg)
	if err != nil {
		return nil, &configError{source: cfg.Source, err: err}
	}
	snap.scan = checkrun.NewSecretsScan(scanner, true)
	configKnown, mapPath = true, cfg.Dirs.Map
	lateConfig := false
	take := func(it tarItem) (secrets.File, bool) {
		e := it.e
		snap.files = append(snap.files, e.Path)
		var r io.Reader
		if e.Regular {
			r = bytes.NewReader(it.data)
		}
		if _, err := snap.tree.Add(mapgen.File{Path: e.Path, Size: e.Size, Regular: e.Regular}, r); err != nil {
			it.release()
			return secrets.File{}, false
		}
		if e.Path == cfg.Dirs.Map && e.Regular {
			snap.hasMap, snap.mapData = true, it.data
			if it.streamed() {
				snap.mapSize = e.Size
			}
		}
		if e.Path == config.Path && !haveConfig {
			lateConfig = true
		}
		if e.Regular && isYAML(e.Path) {
			snap.yamlSize[e.Path] = e.Size
			switch {
			case e.Size > dirmap.MaxManifestSize:
			case !it.streamed() && snap.yamlTotal+e.Size <= maxManifestBytes:
				snap.yaml[e.Path] = it.data
				snap.yamlTotal += e.Size
			default:
				snap.yamlCut = true
			}
		}
		if !e.Regular {
			return secrets.File{}, false
		}
		if !it.streamed() {
			return secrets.ContentFile(e.Path, it.data), true
		}
		// The scanner reads the held start, then the rest from the
		// tarball, or only looks at the size (over max_file_size: a
		// not-scanned finding, as everywhere); either way it calls Done.
		return secrets.File{Path: e.Path, Size: e.Size,
			Open: func() (io.ReadCloser, error) {
				return io.NopCloser(io.MultiReader(bytes.NewReader(it.data), e.Reader)), nil
			},
			Done: it.release}, true
	}
	files := func(yield func(secrets.File, error) bool) {
		for _, it := range pending {
			if f, ok := take(it); ok && !yield(f, nil) {
				return
			}
		}
		pending = nil
		for {
			it, err, ok := next()
			if !ok {
				return
			}
			if err != nil {
				yield(secrets.File{}, err)
				return
			}
			if f, ok := take(it); ok && !yield(f, nil) {
				return
			}
		}
	}
	res, err := scanner.ScanTree(ctx, files)
	if err != nil {
		return nil, err
	}
	if lateConfig {
		return nil, errFallback
	}
	if snap.sha == "" {
		return nil, errFallback // no commit in the tarball: name it through the API
	}
	snap.scan.AddTree(res)
	snap.scan.Allow(nil) // an audit honours every inline allow, as Runner.Run's does
	return snap, nil
}

// baselineConfig is the repository's config from the tarball, else the
// organisation's (cached), else the defaults.
func (a *Auditor) baselineConfig(ctx context.Context, rd *change.Reader, t auditTask, branch string, data []byte, ok bool) (*config.Config, error) {
	if ok {
		src := fmt.Sprintf("%s/%s@%s:%s", t.repo.Owner, t.repo.Name, branch, config.Path)
		cfg, err := config.Parse(src, data)
		if err != nil {
			return nil, &configError{source: "`" + src + "`", err: err}
		}
		return cfg, nil
	}
	return a.Runner.orgConfig(ctx, rd, Job{Owner: t.repo.Owner, Repo: t.repo.Name})
}

// onboard opens or refreshes the onboarding pull request of a repository
// without a map, unless it is switched off, a fork, the organisation's
// .github repository, or the installation lacks the permissions.
func (a *Auditor) onboard(ctx context.Context, t auditTask, client *github.Client, branch string, snap *snapshot) (openPR int, note string) {
	log := zerolog.Ctx(ctx)
	cfg := snap.cfg
	skip := ""
	switch {
	case cfg.Onboarding == config.OnboardingOff:
		skip = "switched_off"
	case t.repo.Fork:
		skip = "fork"
	case t.repo.Name == ".github":
		skip = "org_config_repository"
	case t.repo.Permissions != nil && (t.repo.Permissions["contents"] != "write" || t.repo.Permissions["pull_requests"] != "write"):
		skip = string(onboarding.NoAccess)
	}
	if skip != "" {
		a.Runner.observeOnboarding(skip)
		if skip == string(onboarding.NoAccess) {
			log.Warn().Msg("onboarding skipped: the installation has not granted contents and pull requests write (accept the new permissions)")
		} else {
			log.Info().Str("reason", skip).Msg("onboarding skipped")
		}
		if skip == string(onboarding.NoAccess) {
			return 0, noAccessNote
		}
		return 0, ""
	}
	gen, err := mapgen.Generate(snap.tree, mapgen.Options{
		MapPath: cfg.Dirs.Map, Ignore: cfg.Dirs.Ignore, MaxDepth: cfg.Dirs.MaxDepth,
		RequiredAnnotations: cfg.Dirs.RequiredAnnotations, RootNames: []string{t.repo.Name}, Layer: cfg.Dirs.LayerOf,
	})
	if err != nil {
		log.Error().Err(err).Msg("onboarding: generating the map failed")
		a.Runner.observeOnboarding("error")
		return 0, ""
	}
	withConfig := !snap.ownConfig && cfg.Source == "defaults"
	content := onboarding.Content{MapPath: cfg.Dirs.Map, Map: gen.Map,
		Body: onboarding.Body(onboarding.BodyInput{MapPath: cfg.Dirs.Map, Result: gen, WithConfig: withConfig, ConfigFrom: cfg.Source})}
	if withConfig {
		content.Config = []byte(onboarding.ConfigTemplate)
	}
	o := &onboarding.Onboarder{Client: client, Pacer: a.Runner.Pacer, Pace: a.Pace}
	res, err := o.Ensure(ctx, onboarding.Repo{Owner: t.repo.Owner, Name: t.repo.Name, DefaultBranch: branch, HeadSHA: snap.sha},
		content, cfg.Onboarding == config.OnboardingDryRun)
	if errors.Is(err, onboarding.ErrPermission) {
		a.Runner.observeOnboarding(string(onboarding.NoAccess))
		log.Warn().Err(err).Msg("onboarding skipped: the installation has not granted contents and pull requests write (accept the new permissions)")
		return 0, noAccessNote
	}
	if err != nil {
		a.Runner.observeOnboarding("error")
		log.Error().Err(err).Msg("onboarding failed")
		return 0, ""
	}
	a.Runner.observeOnboarding(string(res.Outcome))
	log.Info().Str("outcome", string(res.Outcome)).Int("pr", res.Number).Int("todo", len(gen.TODOs())).Msg("onboarding")
	switch res.Outcome {
	case onboarding.Opened, onboarding.Refreshed, onboarding.UpToDate, onboarding.HandedOver:
		return res.Number, ""
	}
	return 0, ""
}

const noAccessNote = "No onboarding pull request: this installation has not granted the App contents and pull requests write. An organisation owner can accept the new permissions in the App's installation settings."

func isYAML(p string) bool {
	ext := strings.ToLower(path.Ext(p))
	return ext == ".yaml" || ext == ".yml"
}
