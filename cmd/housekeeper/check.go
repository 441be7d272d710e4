package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/housekeeper-app/housekeeper/internal/checkout"
	"github.com/housekeeper-app/housekeeper/internal/checkrun"
	"github.com/housekeeper-app/housekeeper/internal/config"
	"github.com/housekeeper-app/housekeeper/internal/dirmap"
	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

type checkOpts struct {
	base   string
	staged bool
	only   string
	format string
	config string
	// failOn overrides secrets.fail_on when set (the Action's fail-on).
	failOn []string
}

func newCheckCmd() *cobra.Command {
	var o checkOpts
	cmd := &cobra.Command{
		Use:   "check [--base REF | --staged] [--only dirs|secrets] [--format text|json|sarif|markdown|github] [--config FILE] [--fail-on TIERS] [PATH]",
		Short: "Run the checks on a checkout or a plain directory, as the App would",
		Long: `Runs housekeeper/dirs and housekeeper/secrets on PATH (default ".").

Without --base or --staged it audits the whole tree (in a git checkout, the
tracked files as they are in the working tree). --base REF checks the change
merge-base(REF, HEAD)..HEAD exactly as a pull request; --staged checks the
staged change (for a pre-commit hook).

Exit status: 0 when no finding is at failure level (or the check is in
report-only mode), 1 when one is, 2 for usage, config or git errors.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErr("check takes at most one PATH, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "."
			if len(args) == 1 {
				path = args[0]
			}
			return runCheck(cmd.Context(), o, path, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.base, "base", "", "compare with merge-base(REF, HEAD), as a pull request into REF")
	f.BoolVar(&o.staged, "staged", false, "check the staged change")
	f.StringVar(&o.only, "only", "", "run one check: dirs or secrets")
	f.StringVar(&o.format, "format", "text", "output format: text, json, sarif, markdown (the summaries the App posts) or github (Actions workflow commands)")
	f.Var(failOnFlag{&o.failOn}, "fail-on", "secret tiers that fail the check, overriding secrets.fail_on: bootstrap, runtime (comma-separated) or none")
	f.StringVar(&o.config, "config", "", "config file (default: REF:.github/housekeeper.yml with --base, else PATH/.github/housekeeper.yml)")
	return cmd
}

// failOnFlag reads --fail-on: tiers, comma-separated, or "none".
type failOnFlag struct{ tiers *[]string }

func (f failOnFlag) String() string {
	if f.tiers == nil || *f.tiers == nil {
		return ""
	}
	return strings.Join(*f.tiers, ",")
}

func (f failOnFlag) Type() string { return "TIERS" }

func (f failOnFlag) Set(v string) error {
	tiers, err := parseFailOn(v)
	if err != nil {
		return err
	}
	*f.tiers = tiers
	return nil
}

func parseFailOn(v string) ([]string, error) {
	tiers := []string{}
	if strings.TrimSpace(v) == "none" {
		return tiers, nil
	}
	for _, t := range strings.Split(v, ",") {
		switch t = strings.TrimSpace(t); t {
		case config.TierBootstrap, config.TierRuntime:
			tiers = append(tiers, t)
		default:
			return nil, fmt.Errorf("unknown tier %q (bootstrap, runtime, or none)", t)
		}
	}
	return tiers, nil
}

func (o checkOpts) validate() error {
	if o.base != "" && o.staged {
		return usageErr("--base and --staged cannot be combined")
	}
	switch o.only {
	case "", "dirs", "secrets":
	default:
		return usageErr("--only must be dirs or secrets, got %q", o.only)
	}
	switch o.format {
	case "text", "json", "markdown", "sarif", "github":
	default:
		return usageErr("--format must be text, json, sarif, markdown or github, got %q", o.format)
	}
	return nil
}

func runCheck(ctx context.Context, o checkOpts, path string, stdout, stderr io.Writer) error {
	report, rules, err := buildReport(ctx, o, path, stderr)
	if err != nil {
		return err
	}
	if err := write(stdout, o.format, report, rules); err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("write output: %w", err)}
	}
	return reportStatus(report)
}

// reportStatus is the exit status of a report: 1 when a check failed.
func reportStatus(report checkrun.Report) error {
	for _, c := range report.Checks {
		if c.Conclusion == checkrun.Failure {
			return &exitError{code: exitFindings, err: errSilent}
		}
	}
	return nil
}

// buildReport runs the checks once; every format renders from the result
// (rules describe the secret rules, for SARIF).
func buildReport(ctx context.Context, o checkOpts, path string, stderr io.Writer) (checkrun.Report, []checkrun.RuleMeta, error) {
	var report checkrun.Report
	if err := o.validate(); err != nil {
		return report, nil, err
	}
	repo, err := checkout.Open(ctx, path)
	if err != nil {
		return report, nil, usageErr("%v", err)
	}
	defer repo.Close()
	if (o.base != "" || o.staged) && !repo.Git {
		flag := "--staged"
		if o.base != "" {
			flag = "--base"
		}
		return report, nil, usageErr("%s needs a git checkout, and %s is not in one", flag, path)
	}
	if repo.Sub != "" {
		// As git does: a path inside a checkout means its repository.
		fmt.Fprintf(stderr, "%s is inside the checkout %s: checking the whole repository from its top.\n", path, repo.Dir)
	}
	cfg, err := loadConfig(ctx, repo, o)
	if err != nil {
		return report, nil, &exitError{code: exitUsage, err: err}
	}
	if o.failOn != nil {
		cfg.Secrets.FailOn = o.failOn
	}
	ch, err := readChange(ctx, repo, o, cfg)
	if err != nil {
		return report, nil, &exitError{code: exitUsage, err: err}
	}
	report.MaxAnnotations = cfg.Secrets.MaxAnnotations
	// The secrets check and the rule descriptions share one compiled
	// scanner: compiling the rules is most of a small run's start-up.
	newScanner := sync.OnceValues(func() (*secrets.Scanner, error) { return checkrun.NewScanner(cfg) })
	if o.only == "" || o.only == "dirs" {
		c, err := checkDirs(ctx, repo, ch, cfg)
		if err != nil {
			return report, nil, &exitError{code: exitUsage, err: err}
		}
		report.Checks = append(report.Checks, c)
	}
	if o.only == "" || o.only == "secrets" {
		c, err := checkSecrets(ctx, repo, ch, cfg, newScanner, o, stderr)
		if err != nil {
			return report, nil, &exitError{code: exitUsage, err: err}
		}
		if c != nil {
			report.Checks = append(report.Checks, *c)
		}
	}
	scanner, err := newScanner()
	if err != nil {
		return report, nil, &exitError{code: exitUsage, err: err}
	}
	return report, checkrun.RuleMetas(scanner), nil
}

func write(w io.Writer, format string, r checkrun.Report, rules []checkrun.RuleMeta) error {
	switch format {
	case "json":
		return checkrun.WriteJSON(w, r)
	case "markdown":
		return checkrun.WriteMarkdown(w, r)
	case "sarif":
		return writeSARIF(w, r, rules)
	case "github":
		return checkrun.WriteGitHub(w, r)
	}
	return checkrun.WriteText(w, r)
}

// loadConfig finds the config in the README's order: --config, else the tip of
// REF with --base (as the App reads the base branch), else PATH's own.
func loadConfig(ctx context.Context, repo *checkout.Repo, o checkOpts) (*config.Config, error) {
	cfg, err := parseConfig(ctx, repo, o)
	if err != nil {
		return nil, err
	}
	// secrets.rules.import files come from where the config came from: the
	// tip of REF with --base, else the working tree.
	where, read := "the working tree", func(p string) ([]byte, bool, error) {
		data, err := repo.ReadWorking(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return data, err == nil, err
	}
	if o.base != "" && o.config == "" {
		where, read = o.base, func(p string) ([]byte, bool, error) { return repo.ReadAt(ctx, o.base, p) }
	}
	if err := cfg.ReadImports(where, read); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

func parseConfig(ctx context.Context, repo *checkout.Repo, o checkOpts) (*config.Config, error) {
	if o.config != "" {
		data, err := os.ReadFile(o.config)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		return config.Parse(o.config, data)
	}
	if o.base != "" {
		data, ok, err := repo.ReadAt(ctx, o.base, config.Path)
		if err != nil {
			return nil, err
		}
		if ok {
			return config.Parse(o.base+":"+config.Path, data)
		}
		return config.Default(), nil
	}
	data, err := repo.ReadWorking(config.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return config.Default(), nil
	case err != nil:
		return nil, fmt.Errorf("read config: %w", err)
	}
	return config.Parse(config.Path, data)
}

// change is what the CLI compares: a whole working tree (audit), or two
// revisions of a checkout.
type change struct {
	audit bool
	// base and head revisions; head "" is the index (--staged).
	base, head string
	// baseExists is false for --staged before the first commit.
	baseExists bool
	// list is the working tree's (audit only): in a plain directory it is
	// still being walked while the secrets scan takes the first files.
	list *checkout.Listing
	diff *checkout.Change
}

func readChange(ctx context.Context, repo *checkout.Repo, o checkOpts, cfg *config.Config) (*change, error) {
	switch {
	case o.base != "":
		mb, err := repo.MergeBase(ctx, o.base)
		if err != nil {
			return nil, err
		}
		head, err := repo.Resolve(ctx, "HEAD")
		if err != nil {
			return nil, err
		}
		d, err := repo.Diff(ctx, mb, head)
		if err != nil {
			return nil, err
		}
		return &change{base: mb, head: head, baseExists: true, diff: d}, nil
	case o.staged:
		ch := &change{base: "HEAD", head: ""}
		if _, err := repo.Resolve(ctx, "HEAD"); err == nil {
			ch.baseExists = true
			d, err := repo.Diff(ctx, "HEAD", "")
			if err != nil {
				return nil, err
			}
			ch.diff = d
		} else {
			files, err := repo.FilesAt(ctx, "")
			if err != nil {
				return nil, err
			}
			ch.diff = &checkout.Change{Added: files}
		}
		return ch, nil
	}
	list, err := repo.ListWorking(ctx)
	if err != nil {
		return nil, err
	}
	return &change{audit: true, list: list}, nil
}

func checkDirs(ctx context.Context, repo *checkout.Repo, ch *change, cfg *config.Config) (checkrun.Check, error) {
	in := dirmap.Input{Head: &dirmap.Side{}}
	mp := cfg.Dirs.Map
	if ch.audit {
		files, err := ch.list.Files()
		if err != nil {
			return checkrun.Check{}, err
		}
		for _, f := range files {
			in.Head.Files = append(in.Head.Files, f.Path)
		}
		data, size, err := repo.ReadWorkingAtMost(mp, dirmap.MaxMapSize+1)
		switch {
		case err == nil:
			in.Head.HasMap, in.Head.Map, in.Head.MapSize = true, data, size
		case !errors.Is(err, fs.ErrNotExist):
			return checkrun.Check{}, fmt.Errorf("read map: %w", err)
		}
	} else {
		var err error
		if in.Head, err = side(ctx, repo, ch.head, mp); err != nil {
			return checkrun.Check{}, err
		}
		in.Base = &dirmap.Side{}
		if ch.baseExists {
			if in.Base, err = side(ctx, repo, ch.base, mp); err != nil {
				return checkrun.Check{}, err
			}
		}
		in.Added = ch.diff.Added
		in.Changed = append(append([]string(nil), ch.diff.Added...), ch.diff.Modified...)
	}
	in.ReadManifests = func(paths []string) ([]dirmap.Manifest, error) {
		out := make([]dirmap.Manifest, 0, len(paths))
		for _, p := range paths {
			m, err := readManifest(ctx, repo, ch, p)
			if err != nil {
				return nil, fmt.Errorf("read manifest %s: %w", p, err)
			}
			out = append(out, m)
		}
		return out, nil
	}
	c, _, err := checkrun.RunDirs(ctx, cfg, in, repo.Names(ctx), emptyCheckoutNotes(repo, ch), false)
	return c, err
}

// readManifest reads a file the namespace check asks for, no more than
// just over the engine's limit from the working tree.
func readManifest(ctx context.Context, repo *checkout.Repo, ch *change, p string) (dirmap.Manifest, error) {
	if !ch.audit {
		data, _, _, err := repo.ReadAtMost(ctx, ch.head, p, dirmap.MaxManifestSize+1)
		return dirmap.Manifest{Path: p, Data: data}, err
	}
	f, err := repo.OpenWorking(p)
	if err != nil {
		return dirmap.Manifest{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, dirmap.MaxManifestSize+1))
	return dirmap.Manifest{Path: p, Data: data}, err
}

// emptyCheckoutNotes says so when a checkout tracks nothing yet (a fresh
// git init): an audit reads tracked files only, so it checked nothing.
func emptyCheckoutNotes(repo *checkout.Repo, ch *change) []string {
	if !repo.Git || !ch.audit {
		return nil
	}
	if n, _ := ch.list.Count(); n > 0 { // a checkout's list is read at once
		return nil
	}
	return []string{"This git checkout tracks no files yet, so nothing was checked: `git add` them (an audit of a checkout reads tracked files only), or check a plain directory."}
}

// side reads one revision's file list and map ("" is the index).
func side(ctx context.Context, repo *checkout.Repo, rev, mapPath string) (*dirmap.Side, error) {
	files, err := repo.FilesAt(ctx, rev)
	if err != nil {
		return nil, err
	}
	// The map comes from the change: no more of it is kept than the engine
	// reads (a larger one is refused, saying its size).
	data, size, ok, err := repo.ReadAtMost(ctx, rev, mapPath, dirmap.MaxMapSize+1)
	if err != nil {
		return nil, err
	}
	return &dirmap.Side{Files: files, HasMap: ok, Map: data, MapSize: size}, nil
}
