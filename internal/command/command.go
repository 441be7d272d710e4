// Package command parses /housekeeper slash commands in pull-request
// comments. Parse is a pure function: a comment yields commands to run, a
// ready reply (usage or help), or nothing at all.
package command

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/housekeeper-app/housekeeper/internal/escape"
)

// Prefix starts every command.
const Prefix = "/housekeeper"

// Name is a command's name.
type Name string

const (
	Help     Name = "help"
	Recheck  Name = "recheck"
	Ignore   Name = "ignore"
	Unignore Name = "unignore"
	FixDirs  Name = "fix dirs"
)

// Command is one parsed command.
type Command struct {
	Name        Name
	Fingerprint string // ignore, unignore
	Reason      string // ignore
	// Line is the 1-based line of the comment it was on.
	Line int
}

// NeedsWrite reports whether the command changes what the checks decide,
// which takes write, maintain or admin on the repository.
func (c Command) NeedsWrite() bool {
	return c.Name == Ignore || c.Name == Unignore || c.Name == FixDirs
}

// Result is what a comment asks for.
type Result struct {
	Commands []Command
	// Replies are answers the parser can give by itself (usage for a
	// malformed command, help for an unknown one), one per line at fault.
	Replies []string
}

// Empty reports whether the comment holds no command at all.
func (r Result) Empty() bool { return len(r.Commands) == 0 && len(r.Replies) == 0 }

type spec struct {
	name  Name
	words []string // name words
	args  string   // usage of the arguments
	parse func(c *Command, args []string) error
}

// Fingerprint format, as findings show it: RULE:16 hex digits.
var fingerprintRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*:[0-9a-f]{16}$`)

// MaxReason bounds an ignore's reason (it is repeated in the App's reply).
const MaxReason = 500

var specs = []spec{
	{name: Help, words: []string{"help"}, parse: noArgs},
	{name: Recheck, words: []string{"recheck"}, parse: noArgs},
	{name: Ignore, words: []string{"ignore"}, args: "<fingerprint> <reason>", parse: func(c *Command, args []string) error {
		if len(args) < 2 {
			return fmt.Errorf("give the finding's fingerprint and a reason")
		}
		if !fingerprintRE.MatchString(args[0]) {
			return fmt.Errorf("%s is not a fingerprint (RULE:16 hex digits, as the secrets check shows it)", escape.Code(clip(args[0], 80)))
		}
		c.Fingerprint = args[0]
		c.Reason = strings.Join(args[1:], " ")
		if len(c.Reason) > MaxReason {
			return fmt.Errorf("keep the reason under %d characters", MaxReason)
		}
		return nil
	}},
	{name: Unignore, words: []string{"unignore"}, args: "<fingerprint>", parse: func(c *Command, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("give exactly one fingerprint")
		}
		if !fingerprintRE.MatchString(args[0]) {
			return fmt.Errorf("%s is not a fingerprint (RULE:16 hex digits, as the secrets check shows it)", escape.Code(clip(args[0], 80)))
		}
		c.Fingerprint = args[0]
		return nil
	}},
	{name: FixDirs, words: []string{"fix", "dirs"}, parse: noArgs},
}

func noArgs(c *Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no arguments", c.Name)
	}
	return nil
}

// Parse reads every /housekeeper line of a comment. Lines inside fenced
// code blocks and quoted lines (replies quoting an earlier command) are
// skipped; text around commands is allowed.
func Parse(body string) Result {
	var res Result
	fence := ""
	for i, raw := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		line := strings.TrimSpace(raw)
		if f := fenceOf(line); f != "" {
			switch {
			case fence == "":
				fence = f
			case strings.HasPrefix(f, fence[:1]) && len(f) >= len(fence) && strings.Trim(line, f[:1]) == "":
				fence = ""
			}
			continue
		}
		if fence != "" || strings.HasPrefix(line, ">") {
			continue
		}
		if len(line) < len(Prefix) || !strings.EqualFold(line[:len(Prefix)], Prefix) {
			continue
		}
		rest := line[len(Prefix):]
		if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
			continue // "/housekeeperish" is not ours
		}
		c, reply := parseLine(strings.Fields(rest))
		if reply != "" {
			res.Replies = append(res.Replies, reply)
			continue
		}
		c.Line = i + 1
		res.Commands = append(res.Commands, c)
	}
	return res
}

func fenceOf(line string) string {
	for _, ch := range []string{"`", "~"} {
		n := 0
		for n < len(line) && line[n:n+1] == ch {
			n++
		}
		if n >= 3 {
			return line[:n]
		}
	}
	return ""
}

func parseLine(words []string) (Command, string) {
	if len(words) == 0 {
		return Command{Name: Help}, ""
	}
	for _, s := range specs {
		if len(words) < len(s.words) || !equalFold(words[:len(s.words)], s.words) {
			continue
		}
		c := Command{Name: s.name}
		if err := s.parse(&c, words[len(s.words):]); err != nil {
			return Command{}, fmt.Sprintf("`%s %s` — %s. Usage: `%s`", Prefix, s.name, err, usage(s))
		}
		return c, ""
	}
	return Command{}, fmt.Sprintf("I don't know %s.\n\n%s", escape.Code(Prefix+" "+clip(strings.Join(words, " "), 80)), HelpText())
}

func equalFold(a, b []string) bool {
	for i := range b {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

func usage(s spec) string {
	u := Prefix + " " + string(s.name)
	if s.args != "" {
		u += " " + s.args
	}
	return u
}

// HelpText lists the commands.
func HelpText() string {
	return "Housekeeper commands (comment on the pull request):\n\n" +
		"| Command | What it does |\n|---|---|\n" +
		"| `/housekeeper help` | this list |\n" +
		"| `/housekeeper recheck` | run both checks again on the head commit |\n" +
		"| `/housekeeper ignore <fingerprint> <reason>` | accept a secrets finding on this pull request (write access) |\n" +
		"| `/housekeeper unignore <fingerprint>` | withdraw an accepted finding (write access) |\n" +
		"| `/housekeeper fix dirs` | commit stub entries for unregistered directories to the map (write access) |\n\n" +
		"To keep an ignore beyond this pull request, add it to `secrets.ignore` in `.github/housekeeper.yml`."
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
