package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/housekeeper-app/housekeeper/internal/checkrun"
)

// newActionCmd is the GitHub Action's entry point (action.yml): it reads
// the Actions environment, runs the checks once, and writes the three
// outputs — annotations as workflow commands on stdout, the Markdown
// summary to $GITHUB_STEP_SUMMARY, and a SARIF file.
func newActionCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "action",
		Short:  "Run as the GitHub Action (reads GITHUB_* and INPUT_* from the environment)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAction(cmd.Context(), os.Getenv, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
}

// actionInputs are the Action's inputs, passed by action.yml as INPUT_*.
type actionInputs struct {
	base, only, config, failOn, sarif string
}

func readInputs(getenv func(string) string) actionInputs {
	in := func(name string) string { return strings.TrimSpace(getenv("INPUT_" + name)) }
	return actionInputs{base: in("BASE"), only: in("ONLY"), config: in("CONFIG"), failOn: in("FAIL_ON"), sarif: in("SARIF")}
}

func runAction(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	in := readInputs(getenv)
	dir := getenv("GITHUB_WORKSPACE")
	if dir == "" {
		dir = "."
	}
	base := in.base
	if base == "" {
		var err error
		if base, err = eventBase(getenv("GITHUB_EVENT_NAME"), getenv("GITHUB_EVENT_PATH")); err != nil {
			return usageErr("%v", err)
		}
	}
	o := checkOpts{base: base, only: in.only, config: in.config, format: "github"}
	if in.config != "" && !filepath.IsAbs(in.config) {
		o.config = filepath.Join(dir, in.config)
	}
	if in.failOn != "" {
		tiers, err := parseFailOn(in.failOn)
		if err != nil {
			return usageErr("input fail-on: %v", err)
		}
		o.failOn = tiers
	}
	if base != "" {
		fmt.Fprintf(stderr, "housekeeper: checking the change from %s (merge base) to HEAD\n", short(base))
	} else {
		fmt.Fprintln(stderr, "housekeeper: no base for this event: auditing the whole tree")
	}
	report, rules, err := buildReport(ctx, o, dir, stderr)
	if err != nil {
		var ee *exitError
		if base != "" && errors.As(err, &ee) && strings.Contains(ee.Error(), base) {
			ee.err = fmt.Errorf("%w (is the base commit in the clone? check out with fetch-depth: 0)", ee.err)
		}
		return err
	}
	if err := checkrun.WriteGitHub(stdout, report); err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("write annotations: %w", err)}
	}
	if p := getenv("GITHUB_STEP_SUMMARY"); p != "" {
		if err := appendFile(p, func(w io.Writer) error { return checkrun.WriteMarkdown(w, report) }); err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("write the step summary: %w", err)}
		}
	}
	if in.sarif != "" {
		sarif := in.sarif
		if !filepath.IsAbs(sarif) {
			sarif = filepath.Join(dir, sarif)
		}
		f, err := os.Create(sarif)
		if err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("write SARIF: %w", err)}
		}
		werr := writeSARIF(f, report, rules)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("write SARIF %s: %w", sarif, werr)}
		}
	}
	if p := getenv("GITHUB_OUTPUT"); p != "" {
		if err := appendFile(p, func(w io.Writer) error {
			for _, c := range report.Checks {
				if _, err := fmt.Fprintf(w, "%s=%s\n", strings.TrimPrefix(c.Name, "housekeeper/"), c.Conclusion); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("write step outputs: %w", err)}
		}
	}
	return reportStatus(report)
}

func appendFile(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	werr := write(f)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}

// shaRE accepts a commit id as the event payload gives it; anything else
// (the payload is data from whoever triggered the run) is refused before
// it reaches git.
var shaRE = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// eventBase is the commit a run compares with, from the event payload: a
// pull request's base SHA, a push's before (none for a new branch), a
// merge group's base SHA. Other events audit the whole tree ("").
func eventBase(event, payloadPath string) (string, error) {
	var field func(p eventPayload) string
	switch event {
	case "pull_request", "pull_request_target":
		field = func(p eventPayload) string { return p.PullRequest.Base.SHA }
	case "push":
		field = func(p eventPayload) string { return p.Before }
	case "merge_group":
		field = func(p eventPayload) string { return p.MergeGroup.BaseSHA }
	default:
		return "", nil
	}
	if payloadPath == "" {
		return "", fmt.Errorf("GITHUB_EVENT_PATH is not set for a %s event; give the base input", event)
	}
	data, err := os.ReadFile(payloadPath)
	if err != nil {
		return "", fmt.Errorf("read the event payload: %w", err)
	}
	var p eventPayload
	if err := json.Unmarshal(data, &p); err != nil {
		return "", fmt.Errorf("read the event payload %s: %w", payloadPath, err)
	}
	sha := field(p)
	if strings.Trim(sha, "0") == "" {
		return "", nil // a new branch: nothing before it
	}
	if !shaRE.MatchString(sha) {
		return "", fmt.Errorf("the %s payload's base is not a commit id", event)
	}
	return sha, nil
}

type eventPayload struct {
	Before      string `json:"before"`
	PullRequest struct {
		Base struct {
			SHA string `json:"sha"`
		} `json:"base"`
	} `json:"pull_request"`
	MergeGroup struct {
		BaseSHA string `json:"base_sha"`
	} `json:"merge_group"`
}

func short(sha string) string {
	if len(sha) > 12 && shaRE.MatchString(sha) {
		return sha[:12]
	}
	return sha
}
