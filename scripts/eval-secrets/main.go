// Command eval-secrets scores secret-scanner reports against the labels of
// the generated corpus (internal/secrets/cmd/gencorpus), matching findings
// to planted secrets by file and line. It reads gitleaks' JSON report, the
// housekeeper CLI's JSON output (docs/output.md) or scantree's output.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

type label struct {
	Path string `json:"path"`
	Line int    `json:"line"`
	Rule string `json:"rule"`
}

type loc struct {
	path string
	line int
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "eval-secrets:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fl := flag.NewFlagSet("eval-secrets", flag.ContinueOnError)
	labelsPath := fl.String("labels", "", "labels JSON written by gencorpus")
	root := fl.String("root", "", "corpus directory (stripped from reported paths)")
	format := fl.String("format", "", "gitleaks | housekeeper | scantree")
	report := fl.String("report", "", "report file")
	name := fl.String("name", "", "tool name to print")
	if err := fl.Parse(args); err != nil {
		return err
	}
	var labels []label
	if err := readJSON(*labelsPath, &labels); err != nil {
		return err
	}
	found, err := readReport(*format, *report, *root)
	if err != nil {
		return err
	}
	planted := map[loc]bool{}
	for _, l := range labels {
		planted[loc{l.Path, l.Line}] = true
	}
	tp := 0
	hit := map[loc]bool{}
	for _, f := range found {
		if planted[f] {
			tp++
			hit[f] = true
		}
	}
	recalled := 0
	for _, l := range labels {
		if hit[loc{l.Path, l.Line}] {
			recalled++
		}
	}
	prec := 1.0
	if len(found) > 0 {
		prec = float64(tp) / float64(len(found))
	}
	fmt.Printf("%-12s planted %d, reported %d, recall %.3f, precision %.3f\n", *name, len(labels), len(found),
		float64(recalled)/float64(max(1, len(labels))), prec)
	return nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

func readReport(format, path, root string) ([]loc, error) {
	rel := func(p string) string {
		p = filepath.ToSlash(p)
		r := filepath.ToSlash(root)
		return strings.TrimPrefix(strings.TrimPrefix(p, r), "/")
	}
	var out []loc
	switch format {
	case "gitleaks":
		var rep []struct {
			File      string
			StartLine int
		}
		if err := readJSON(path, &rep); err != nil {
			return nil, err
		}
		for _, f := range rep {
			out = append(out, loc{rel(f.File), f.StartLine})
		}
	case "housekeeper":
		var rep struct {
			Checks []struct {
				Name     string `json:"name"`
				Findings []struct {
					Path string `json:"path"`
					Line int    `json:"line"`
				} `json:"findings"`
			} `json:"checks"`
		}
		if err := readJSON(path, &rep); err != nil {
			return nil, err
		}
		for _, c := range rep.Checks {
			if c.Name != "housekeeper/secrets" {
				continue
			}
			for _, f := range c.Findings {
				out = append(out, loc{rel(f.Path), f.Line})
			}
		}
	case "scantree":
		var rep struct {
			Findings []struct {
				Path string `json:"path"`
				Line int    `json:"line"`
			} `json:"findings"`
		}
		if err := readJSON(path, &rep); err != nil {
			return nil, err
		}
		for _, f := range rep.Findings {
			out = append(out, loc{rel(f.Path), f.Line})
		}
	default:
		return nil, fmt.Errorf("unknown -format %q", format)
	}
	return out, nil
}
