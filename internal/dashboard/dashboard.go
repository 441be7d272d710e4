// Package dashboard renders the "Housekeeping dashboard" issue — one per
// repository, where enabled — and reads the ticks on its checkboxes. It is
// pure: the runner finds, creates and updates the issue.
package dashboard

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/housekeeper-app/housekeeper/internal/checkrun"
	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// Title is the dashboard issue's title.
const Title = "Housekeeping dashboard"

// Marker opens the body, so the App recognises its own dashboard.
const Marker = "<!-- housekeeper:dashboard -->"

// Action is a checkbox on the dashboard.
type Action string

// Actions.
const (
	ActionStubs Action = "stubs"
	ActionRerun Action = "rerun"
)

var actionText = map[Action]string{
	ActionStubs: "Open a pull request adding stub entries for every unregistered directory",
	ActionRerun: "Run the audit again",
}

// Input is one audit of the default branch.
type Input struct {
	Branch, SHA string
	MapPath     string
	HasMap      bool
	Dirs        checkrun.Check
	Secrets     checkrun.Check
	Skipped     []secrets.Skipped
	// Onboarding names the open onboarding pull request (0: none).
	Onboarding int
	// Notes say what the App could not do (a permission not granted).
	Notes []string
}

// Caps keep the body under GitHub's 65,536 characters.
const (
	maxItems = 100
	maxBody  = 60000
)

// Render writes the dashboard's body. Every path and message comes from
// the repository: paths go in code spans, text is escaped.
func Render(in Input) string {
	var b strings.Builder
	b.WriteString(Marker + "\n")
	fmt.Fprintf(&b, "What Housekeeper found on `%s` at %s, updated after every audit of the default branch. Tick a box below to act; only people with write access can.\n", code(in.Branch), short(in.SHA))

	for _, n := range in.Notes {
		b.WriteString("\n> " + escape(n) + "\n")
	}

	var unregistered, stale, incomplete []checkrun.Finding
	for _, f := range in.Dirs.Findings {
		switch f.Kind {
		case "unregistered":
			unregistered = append(unregistered, f)
		case "stale":
			stale = append(stale, f)
		case "incomplete":
			incomplete = append(incomplete, f)
		}
	}
	b.WriteString("\n## Directory map\n")
	switch {
	case !in.HasMap && in.Onboarding > 0:
		fmt.Fprintf(&b, "\nThere is no map at `%s` yet: the onboarding pull request #%d adds one.\n", code(in.MapPath), in.Onboarding)
	case !in.HasMap:
		fmt.Fprintf(&b, "\nThere is no map at `%s` yet (`housekeeper init --write` generates one).\n", code(in.MapPath))
	case len(unregistered)+len(stale)+len(incomplete) == 0:
		fmt.Fprintf(&b, "\n`%s` is up to date.\n", code(in.MapPath))
	}
	list(&b, fmt.Sprintf("Unregistered directories (%d)", len(unregistered)), unregistered, func(f checkrun.Finding) string {
		return "`" + code(f.Path) + "/`"
	})
	list(&b, fmt.Sprintf("Stale entries (%d)", len(stale)), stale, func(f checkrun.Finding) string {
		return fmt.Sprintf("`%s/` (line %d)", code(f.Path), f.Line)
	})
	entries := "entries"
	if len(incomplete) == 1 {
		entries = "entry"
	}
	list(&b, fmt.Sprintf("Annotations still TODO (%d %s)", len(incomplete), entries), incomplete, func(f checkrun.Finding) string {
		return fmt.Sprintf("`%s/` (line %d): %s", code(f.Path), f.Line, escape(missingKeys(f.Message)))
	})

	b.WriteString("\n## Secrets on the default branch\n\n")
	var open []checkrun.Finding
	for _, f := range in.Secrets.Findings {
		if f.Secret != nil && !f.Suppressed {
			open = append(open, f)
		}
	}
	if len(open) == 0 {
		b.WriteString("None found.\n")
	} else {
		fmt.Fprintf(&b, "%d found. Each is in the branch's history: **rotate it**, then move it where it belongs; deleting the line does not un-leak it.\n\n", len(open))
		b.WriteString("| File | Rule | Tier | Value | Fingerprint | Where it belongs |\n|---|---|---|---|---|---|\n")
		for i, f := range open {
			if i == maxItems {
				fmt.Fprintf(&b, "\n… and %d more (the audit's check run lists them all).\n", len(open)-maxItems)
				break
			}
			fmt.Fprintf(&b, "| `%s:%d` | %s | %s | `%s` | `%s` | %s |\n", cellCode(f.Path), f.Line, cell(f.Rule), cell(secrets.TierLabel(secrets.Tier(f.Tier))),
				cellCode(f.Redacted), cellCode(f.Fingerprint), cell(remedy(f.Message)))
		}
	}

	if len(in.Skipped) > 0 {
		fmt.Fprintf(&b, "\n## Files not scanned (%d)\n\n", len(in.Skipped))
		for i, s := range in.Skipped {
			if i == maxItems {
				fmt.Fprintf(&b, "- … and %d more\n", len(in.Skipped)-maxItems)
				break
			}
			fmt.Fprintf(&b, "- `%s`: %s\n", code(s.Path), escape(string(s.Reason)))
		}
	}

	b.WriteString("\n## Actions\n\n")
	for _, a := range []Action{ActionStubs, ActionRerun} {
		fmt.Fprintf(&b, "- [ ] %s <!-- housekeeper:action %s -->\n", actionText[a], a)
	}
	out := b.String()
	if len(out) > maxBody {
		cut := strings.LastIndex(out[:maxBody], "\n")
		actions := out[strings.Index(out, "\n## Actions"):]
		out = out[:cut] + "\n\n… (cut to fit GitHub's size limit)\n" + actions
	}
	return out
}

func list(b *strings.Builder, title string, fs []checkrun.Finding, line func(checkrun.Finding) string) {
	if len(fs) == 0 {
		return
	}
	fmt.Fprintf(b, "\n**%s**\n\n", title)
	for i, f := range fs {
		if i == maxItems {
			fmt.Fprintf(b, "- … and %d more\n", len(fs)-maxItems)
			return
		}
		b.WriteString("- " + line(f) + "\n")
	}
}

var missingRE = regexp.MustCompile(`has no (.+?) annotation`)

func missingKeys(msg string) string {
	if m := missingRE.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return msg
}

// remedy keeps the part of a finding's message after the rule and tier:
// where the secret belongs.
func remedy(msg string) string {
	if i := strings.Index(msg, "]. "); i >= 0 {
		return msg[i+3:]
	}
	return msg
}

var actionRE = regexp.MustCompile(`(?m)^- \[([ xX])\] .*<!-- housekeeper:action ([a-z]+) -->\s*$`)

func ticks(body string) map[Action]bool {
	out := map[Action]bool{}
	for _, m := range actionRE.FindAllStringSubmatch(body, -1) {
		a := Action(m[2])
		if _, known := actionText[a]; known {
			out[a] = m[1] != " "
		}
	}
	return out
}

// Ticked returns the actions ticked by an edit: checked now, not before.
func Ticked(before, after string) []Action {
	was, now := ticks(before), ticks(after)
	var out []Action
	for _, a := range []Action{ActionStubs, ActionRerun} {
		if now[a] && !was[a] {
			out = append(out, a)
		}
	}
	return out
}

// Untick clears the actions' boxes, leaving the rest of the body as it is.
func Untick(body string, actions ...Action) string {
	clear := map[Action]bool{}
	for _, a := range actions {
		clear[a] = true
	}
	return actionRE.ReplaceAllStringFunc(body, func(line string) string {
		m := actionRE.FindStringSubmatch(line)
		if clear[Action(m[2])] {
			return strings.Replace(line, "- ["+m[1]+"]", "- [ ]", 1)
		}
		return line
	})
}

// IsDashboard reports whether an issue is the App's dashboard.
func IsDashboard(title, body string) bool {
	return title == Title && strings.HasPrefix(body, Marker)
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// code makes text safe inside a code span.
func code(s string) string {
	return strings.NewReplacer("`", "'", "\n", " ", "\r", " ", "<!--", "<!- -").Replace(s)
}

func cellCode(s string) string { return strings.ReplaceAll(code(s), "|", `\|`) }

func cell(s string) string { return strings.ReplaceAll(escape(s), "|", `\|`) }

// escape makes text safe in Markdown prose: no HTML, no code, no mentions,
// no links, one line.
func escape(s string) string {
	return strings.NewReplacer(
		"<", "&lt;", ">", "&gt;", "`", "'", "@", "@\u200b", "\r", " ", "\n", " ",
		"[", "\\[", "]", "\\]",
	).Replace(s)
}

// Refusal is the one reply to a tick by someone without write access.
func Refusal(login, level string) string {
	if level == "" {
		level = "none"
	}
	return fmt.Sprintf("@%s, the dashboard's actions need write, maintain or admin access to the repository; you have %s. I unticked the box.", login, escape(level))
}
