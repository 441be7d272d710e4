package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/housekeeper-app/housekeeper/internal/checkout"
	"github.com/housekeeper-app/housekeeper/internal/dirmap"
	"github.com/housekeeper-app/housekeeper/internal/mapgen"
)

type initOpts struct {
	format string
	depth  int
	write  bool
	config string
}

func newInitCmd() *cobra.Command {
	var o initOpts
	cmd := &cobra.Command{
		Use:   "init [PATH] [--format table|tree|list] [--depth N] [--write]",
		Short: "Generate the directory map from the tree (or add what an existing map misses)",
		Long: `Generates an annotated directory map for PATH (default "."): every
directory not ignored down to --depth (default 2), with Function, Layer and
Namespace inferred where the tree says them (README first sentences,
Chart.yaml descriptions, Go package comments, well-known layouts,
manifests' namespaces, the config's dirs.layers) and TODO elsewhere.

When the map (dirs.map, default docs/dir.md) already exists, only the
entries it misses are added, in its own format; nothing else changes.

Prints the map; --write writes it to the map path instead. Notes (skipped
names, read limits) and a summary go to standard error.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErr("init takes at most one PATH, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			p := "."
			if len(args) == 1 {
				p = args[0]
			}
			return runInit(cmd.Context(), o, p, cmd.Flags().Changed("format"), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "table", "format of a new map: table, tree or list")
	f.IntVar(&o.depth, "depth", 2, "list directories down to this depth (top level is 1)")
	f.BoolVar(&o.write, "write", false, "write the map to the configured map path instead of printing it")
	f.StringVar(&o.config, "config", "", "config file (default PATH/.github/housekeeper.yml)")
	return cmd
}

func parseFormat(s string) (dirmap.Format, error) {
	switch s {
	case "table":
		return dirmap.FormatTable, nil
	case "tree":
		return dirmap.FormatTree, nil
	case "list":
		return dirmap.FormatList, nil
	}
	return 0, usageErr("--format must be table, tree or list, got %q", s)
}

func runInit(ctx context.Context, o initOpts, dir string, formatSet bool, stdout, stderr io.Writer) error {
	format, err := parseFormat(o.format)
	if err != nil {
		return err
	}
	if o.depth < 1 {
		return usageErr("--depth must be 1 or more, got %d", o.depth)
	}
	repo, err := checkout.Open(ctx, dir)
	if err != nil {
		return usageErr("%v", err)
	}
	cfg, err := loadConfig(ctx, repo, checkOpts{config: o.config})
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	files, err := repo.WorkingFiles(ctx)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	opts := mapgen.Options{
		MapPath: cfg.Dirs.Map, Depth: o.depth, Format: format,
		Ignore: cfg.Dirs.Ignore, MaxDepth: cfg.Dirs.MaxDepth,
		RequiredAnnotations: cfg.Dirs.RequiredAnnotations, RootNames: repo.Names(ctx),
		Layer: cfg.Dirs.LayerOf,
	}
	data, _, err := repo.ReadWorkingAtMost(cfg.Dirs.Map, dirmap.MaxMapSize+1)
	switch {
	case err == nil:
		opts.Existing, opts.HasExisting = data, true
	case errors.Is(err, fs.ErrNotExist):
	default:
		return &exitError{code: exitUsage, err: fmt.Errorf("read map %s: %w", cfg.Dirs.Map, err)}
	}
	src := &checkoutSource{repo: repo}
	for _, f := range files {
		src.files = append(src.files, mapgen.File{Path: f.Path, Size: f.Size, Regular: f.Regular})
	}
	res, err := mapgen.Generate(src, opts)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if res.Extended && formatSet {
		fmt.Fprintf(stderr, "note: %s exists; its own format is kept (--format applies to new maps)\n", cfg.Dirs.Map)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	summary := initSummary(cfg.Dirs.Map, res)
	if !o.write {
		if _, err := stdout.Write(res.Map); err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("write output: %w", err)}
		}
		fmt.Fprintln(stderr, summary+" (printed; --write writes it)")
		return nil
	}
	if !res.Changed {
		fmt.Fprintln(stderr, summary)
		return nil
	}
	if err := writeMap(repo.Dir, cfg.Dirs.Map, res.Map); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	fmt.Fprintln(stderr, summary)
	return nil
}

func initSummary(mapPath string, res *mapgen.Result) string {
	todo := len(res.TODOs())
	switch {
	case res.Extended && !res.Changed:
		return fmt.Sprintf("%s already registers every directory; nothing to add.", mapPath)
	case res.Extended:
		return fmt.Sprintf("%s: %s added, %s TODO.", mapPath, plural(len(res.Entries), "entry", "entries"), plural(todo, "annotation", "annotations"))
	}
	return fmt.Sprintf("%s: %s, %s TODO.", mapPath, plural(len(res.Entries), "directory", "directories"), plural(todo, "annotation", "annotations"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// writeMap writes the map without following symbolic links: neither the
// file nor any directory on its way may be one.
func writeMap(root, rel string, data []byte) error {
	clean := path.Clean(rel)
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("map path %q leaves the directory", rel)
	}
	cur := root
	parts := strings.Split(clean, "/")
	for _, c := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, c)
		st, err := os.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(cur, 0o755); err != nil {
				return fmt.Errorf("write map %s: %w", rel, err)
			}
			continue
		case err != nil:
			return fmt.Errorf("write map %s: %w", rel, err)
		case !st.IsDir():
			return fmt.Errorf("write map %s: %s is not a directory (symbolic links are not followed)", rel, cur)
		}
	}
	full := filepath.Join(root, filepath.FromSlash(clean))
	if st, err := os.Lstat(full); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("write map %s: not a regular file (symbolic links are not followed)", rel)
	}
	tmp, err := os.CreateTemp(filepath.Dir(full), ".dir.md-*")
	if err != nil {
		return fmt.Errorf("write map %s: %w", rel, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write map %s: %w", rel, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write map %s: %w", rel, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write map %s: %w", rel, err)
	}
	if err := os.Rename(tmp.Name(), full); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write map %s: %w", rel, err)
	}
	return nil
}

// checkoutSource reads a working tree for mapgen: regular files only,
// bounded.
type checkoutSource struct {
	repo  *checkout.Repo
	files []mapgen.File
}

func (s *checkoutSource) Files() []mapgen.File { return s.files }

func (s *checkoutSource) Read(p string, limit int64) ([]byte, error) {
	// No directory on the way may be a link either (a checkout whose index
	// lists docs/README.md while docs is a link elsewhere).
	dir := s.repo.Dir
	parts := strings.Split(path.Clean(p), "/")
	for _, c := range parts[:len(parts)-1] {
		dir = filepath.Join(dir, c)
		st, err := os.Lstat(dir)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("read %s: %s is not a directory (links are not followed)", p, c)
		}
	}
	f, err := s.repo.OpenWorking(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}
