// Command evalblind scores the secrets engine on the blind corpus
// (internal/secrets/blind): recall and precision per family, tier
// accuracy, misses and false alarms, values redacted.
//
//	go run ./internal/secrets/cmd/evalblind             # embedded engine
//	go run ./internal/secrets/cmd/evalblind -out DIR    # write the corpus
//	housekeeper check --only secrets --format json DIR > f.json
//	go run ./internal/secrets/cmd/evalblind -findings f.json  # score any build
//	go run ./internal/secrets/cmd/evalblind -markdown   # the table in docs/secrets.md
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/housekeeper-app/housekeeper/internal/secrets/blind"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "evalblind:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("evalblind", flag.ContinueOnError)
	out := fl.String("out", "", "write the corpus into this directory and exit (its labels: internal/secrets/blind/testdata/manifest.json)")
	findings := fl.String("findings", "", "score the findings of `housekeeper check --format json` in this file instead of running the embedded engine")
	verbose := fl.Bool("v", true, "list misses, tier misses and false alarms")
	markdown := fl.Bool("markdown", false, "print the per-family table as Markdown (for docs/secrets.md)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	c, err := blind.Build()
	if err != nil {
		return err
	}
	if *out != "" {
		return write(c, *out)
	}
	var fs []blind.Finding
	if *findings != "" {
		fs, err = readCheckJSON(*findings)
	} else {
		fs, err = blind.Scan(ctx, c)
	}
	if err != nil {
		return err
	}
	r := blind.Evaluate(c, fs)
	if *markdown {
		r.Markdown(stdout)
		return nil
	}
	r.Print(stdout, *verbose)
	return nil
}

func write(c *blind.Corpus, dir string) error {
	for _, p := range c.Paths() {
		fp := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(fp, c.Files[p], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// readCheckJSON reads the secrets check's findings from the JSON output of
// `housekeeper check`; suppressed findings are left out.
func readCheckJSON(p string) ([]blind.Finding, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Checks []struct {
			Name     string `json:"name"`
			Findings []struct {
				blind.Finding
				Suppressed bool `json:"suppressed"`
			} `json:"findings"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	var out []blind.Finding
	for _, c := range doc.Checks {
		if c.Name != "housekeeper/secrets" {
			continue
		}
		for _, f := range c.Findings {
			if !f.Suppressed {
				out = append(out, f.Finding)
			}
		}
	}
	return out, nil
}
