// Command scantree runs the secrets engine over a plain directory (never
// following symlinks, skipping .git) and prints the findings as JSON. It is
// the benchmark stand-in for `housekeeper check --only secrets --format json`.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "scantree:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("scantree", flag.ContinueOnError)
	workers := fl.Int("workers", 0, "parallel workers (0: GOMAXPROCS)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	root := "."
	if fl.NArg() > 0 {
		root = fl.Arg(0)
	}
	s, err := secrets.New(secrets.Options{Workers: *workers})
	if err != nil {
		return err
	}
	res, err := s.ScanTree(ctx, walk(root))
	if err != nil {
		return err
	}
	out := struct {
		Findings []secrets.Finding `json:"findings"`
		Skipped  []secrets.Skipped `json:"skipped"`
		Stats    secrets.TreeStats `json:"stats"`
	}{res.Findings, res.Skipped, res.Stats}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// walk yields the regular files under root, never following symlinks and
// skipping .git directories.
func walk(root string) iter.Seq2[secrets.File, error] {
	return func(yield func(secrets.File, error) bool) {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == ".git" {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			f := secrets.File{
				Path: filepath.ToSlash(rel),
				Size: info.Size(),
				Open: func() (io.ReadCloser, error) { return os.Open(p) },
			}
			if !yield(f, nil) {
				return filepath.SkipAll
			}
			return nil
		})
		if err != nil {
			yield(secrets.File{}, fmt.Errorf("walk %s: %w", root, err))
		}
	}
}
