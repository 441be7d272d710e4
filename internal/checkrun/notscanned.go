package checkrun

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/housekeeper-app/housekeeper/internal/config"
	"github.com/housekeeper-app/housekeeper/internal/escape"
	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// Kinds of secrets-check findings that are not secrets: what was not
// scanned, and what was found but not listed. They carry no *Secret.
const (
	KindNotScanned = "not-scanned"
	KindCapped     = "capped"
)

// addCapped keeps one "N more matches" finding per file and rule.
func (s *SecretsScan) addCapped(f secrets.Finding) {
	for i, c := range s.capped {
		if c.Path == f.Path && c.RuleID == f.RuleID {
			s.capped[i].Omitted = max(c.Omitted, f.Omitted)
			return
		}
	}
	s.capped = append(s.capped, f)
}

// unscannedFindings turns what was not scanned and what was not listed
// into findings, so that every format carries them: a text file not
// scanned (too large, unreadable, cut by the deadline) fails — an
// unscanned file is how a leak gets in; a binary file is a notice without
// an annotation; the matches past a file's per-rule cap fail as their
// rule's findings would.
func (s *SecretsScan) unscannedFindings(cfg config.Secrets) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, k := range s.skipped {
		if seen[k.Path+"\x00"+string(k.Reason)] {
			continue
		}
		seen[k.Path+"\x00"+string(k.Reason)] = true
		f := Finding{Kind: KindNotScanned, Path: k.Path, File: k.Path, Level: LevelFailure}
		switch k.Reason {
		case secrets.SkipBinary:
			f.File, f.Level = "", LevelNotice
			f.Message = "Binary file (a NUL byte in its first 8 KiB): its content is not scanned; file-name rules still apply."
		case secrets.SkipTooLarge:
			f.Message = fmt.Sprintf("Not scanned: larger than max_file_size (%s). A file that is not scanned could hold a secret: keep it out of the repository, raise secrets.max_file_size, or list it in secrets.exclude_paths if it holds none.", cfg.MaxFileSize)
		default:
			why := "it could not be read"
			if k.Err != nil {
				why += " (" + errText(k.Err) + ")"
			}
			f.Message = "Not scanned: " + why + ". Re-run the check; a file that is not scanned fails the run."
		}
		out = append(out, f)
	}
	if s.stopped != nil {
		f := Finding{Kind: KindNotScanned, Level: LevelFailure,
			Message: "The scan stopped at its deadline before the end of the change; what follows it was not scanned. Re-run the check."}
		var stop *secrets.StopError
		if errors.As(s.stopped, &stop) {
			f.Path, f.File = stop.Path, stop.Path
			f.Message = fmt.Sprintf("The scan stopped at its deadline at line %d of this file; the rest of it, and any file after it, was not scanned. Re-run the check.", stop.Line)
		}
		out = append(out, f)
	}
	for _, c := range s.capped {
		level := LevelFailure
		if !cfg.FailsOn(string(c.Tier)) {
			level = LevelWarning
		}
		out = append(out, Finding{Kind: KindCapped, Path: c.Path, File: c.Path, Level: level, omitted: c.Omitted,
			Message: fmt.Sprintf("%s more %s of %s [%s, %s] in this file are not listed: each file lists the first %d per rule. %s",
				commas(c.Omitted), plural2(c.Omitted, "match", "matches"), c.Description, c.RuleID, secrets.TierLabel(c.Tier), secrets.MaxFindingsPerRule, c.Remediation)})
	}
	return out
}

// errText is a read error's own words, short: the file's path is said
// elsewhere.
func errText(err error) string {
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}

func plural2(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// unscannedTitle adds "2 files not scanned" and "25 more not listed" to
// the title.
func unscannedTitle(fs []Finding) []string {
	n, more := 0, 0
	for _, f := range fs {
		switch {
		case f.Kind == KindNotScanned && f.Level == LevelFailure:
			n++
		case f.Kind == KindCapped:
			more += f.omitted
		}
	}
	var parts []string
	if n > 0 {
		parts = append(parts, plural(n, "file not scanned", "files not scanned"))
	}
	if more > 0 {
		parts = append(parts, commas(more)+" more not listed")
	}
	return parts
}

// unscannedSection lists, in the summary (messages as Markdown text, the
// encoder escaping what a read error may carry), the files not scanned and the
// matches not listed; binary files are counted.
func unscannedSection(fs []Finding) string {
	var failing, capped []Finding
	binary := 0
	for _, f := range fs {
		switch {
		case f.Kind == KindCapped:
			capped = append(capped, f)
		case f.Level == LevelNotice:
			binary++
		default:
			failing = append(failing, f)
		}
	}
	sort.SliceStable(failing, func(i, j int) bool { return failing[i].Path < failing[j].Path })
	var b strings.Builder
	if len(failing) > 0 {
		fmt.Fprintf(&b, "\n### Not scanned\n\n")
		for i, f := range failing {
			if i == skippedShown {
				fmt.Fprintf(&b, "- … and %d more\n", len(failing)-skippedShown)
				break
			}
			where := "—"
			if f.Path != "" {
				where = code(f.Path)
			}
			fmt.Fprintf(&b, "- ❌ %s: %s\n", where, escape.Text(f.Message))
		}
	}
	if len(capped) > 0 {
		fmt.Fprintf(&b, "\n### Not listed\n\n")
		for i, f := range capped {
			if i == 50 {
				fmt.Fprintf(&b, "- … and %d more\n", len(capped)-50)
				break
			}
			fmt.Fprintf(&b, "- %s %s: %s\n", levelIcon[f.Level], code(f.Path), escape.Text(f.Message))
		}
	}
	if binary > 0 {
		fmt.Fprintf(&b, "\n%s not content-scanned (listed in the JSON and SARIF reports).\n", plural(binary, "binary file was", "binary files were"))
	}
	return b.String()
}
