package command

import (
	"reflect"
	"strings"
	"testing"
)

const fp = "aws-access-key-id:0123456789abcdef"

func TestParse(t *testing.T) {
	tests := map[string]struct {
		body    string
		want    []Command
		replies []string // substrings, one per reply
	}{
		"no command":          {body: "LGTM, thanks!"},
		"help":                {body: "/housekeeper help", want: []Command{{Name: Help, Line: 1}}},
		"bare prefix is help": {body: "/housekeeper", want: []Command{{Name: Help, Line: 1}}},
		"recheck with text around": {
			body: "Pushed a fix.\n\n  /housekeeper recheck  \nthanks",
			want: []Command{{Name: Recheck, Line: 3}},
		},
		"ignore with a reason": {
			body: "/housekeeper ignore " + fp + " test fixture,   not real",
			want: []Command{{Name: Ignore, Fingerprint: fp, Reason: "test fixture, not real", Line: 1}},
		},
		"several commands": {
			body: "/housekeeper unignore " + fp + "\r\n/housekeeper fix dirs\n/HOUSEKEEPER RECHECK",
			want: []Command{{Name: Unignore, Fingerprint: fp, Line: 1}, {Name: FixDirs, Line: 2}, {Name: Recheck, Line: 3}},
		},
		"fenced and quoted lines are skipped": {
			body: "```\n/housekeeper fix dirs\n```\n> /housekeeper ignore " + fp + " quoted\n~~~~\n/housekeeper recheck\n~~~~\n/housekeeper help",
			want: []Command{{Name: Help, Line: 8}},
		},
		"other prefixes are not ours": {body: "/housekeeperz help\n/other help"},
		"ignore without reason": {
			body:    "/housekeeper ignore " + fp,
			replies: []string{"give the finding's fingerprint and a reason. Usage: `/housekeeper ignore <fingerprint> <reason>`"},
		},
		"bad fingerprint": {
			body:    "/housekeeper unignore nope",
			replies: []string{`"nope" is not a fingerprint`},
		},
		"unknown command gets help": {
			body:    "/housekeeper deploy `prod`",
			replies: []string{"I don't know `/housekeeper deploy 'prod'`", "/housekeeper fix dirs"},
		},
		"arguments where none are taken": {
			body:    "/housekeeper recheck now please",
			replies: []string{"recheck takes no arguments"},
		},
		"a valid and an invalid command": {
			body:    "/housekeeper recheck\n/housekeeper fix",
			want:    []Command{{Name: Recheck, Line: 1}},
			replies: []string{"I don't know `/housekeeper fix`"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Parse(tc.body)
			if !reflect.DeepEqual(got.Commands, tc.want) {
				t.Errorf("commands:\n got %+v\nwant %+v", got.Commands, tc.want)
			}
			if len(got.Replies) != len(tc.replies) && !(name == "unknown command gets help" && len(got.Replies) == 1) {
				t.Fatalf("replies: got %q, want %q", got.Replies, tc.replies)
			}
			for _, want := range tc.replies {
				found := false
				for _, r := range got.Replies {
					if strings.Contains(r, want) {
						found = true
					}
				}
				if !found {
					t.Errorf("no reply contains %q: %q", want, got.Replies)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add("/housekeeper ignore " + fp + " reason")
	f.Add("```\n/housekeeper help\n```\n/housekeeper fix dirs")
	f.Add("> /housekeeper recheck\n/housekeeper unignore x")
	f.Add("/housekeeper \x00\xff ignore")
	f.Fuzz(func(t *testing.T, body string) {
		res := Parse(body)
		lines := strings.Count(strings.ReplaceAll(body, "\r\n", "\n"), "\n") + 1
		for _, c := range res.Commands {
			if c.Line < 1 || c.Line > lines {
				t.Fatalf("command on line %d of %d", c.Line, lines)
			}
			if (c.Name == Ignore || c.Name == Unignore) && !fingerprintRE.MatchString(c.Fingerprint) {
				t.Fatalf("accepted fingerprint %q", c.Fingerprint)
			}
			if len(c.Reason) > MaxReason {
				t.Fatalf("reason of %d bytes", len(c.Reason))
			}
		}
		if res.Empty() && strings.Contains(body, Prefix+" ") && !strings.Contains(body, "```") && !strings.Contains(body, "~~~") && !strings.Contains(body, ">") {
			for _, l := range strings.Split(body, "\n") {
				if strings.HasPrefix(strings.TrimSpace(l), Prefix+" ") {
					t.Fatalf("command line ignored: %q", l)
				}
			}
		}
	})
}
