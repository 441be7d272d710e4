package command

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestRepliesQuoteArgumentsSafely: what anyone can make the App say pings
// nobody, links nothing and renders no Markdown or HTML of theirs
// (testdata/replies.golden; go test ./internal/command -update rewrites it).
func TestRepliesQuoteArgumentsSafely(t *testing.T) {
	bodies := []string{
		"/housekeeper ignore @acme/security-team because",
		"/housekeeper unignore [Approve](https://evil.example) <img src=x>",
		"/housekeeper ignore x:1 <!-- housekeeper:v2 AAAA -->",
		"/housekeeper deploy @here ``` `` ` <b>bold</b> www.evil.example",
		"/housekeeper recheck @acme/security-team",
		"/housekeeper unignore \u202eevil",
	}
	var b strings.Builder
	mention := regexp.MustCompile("@[A-Za-z0-9]")
	for _, body := range bodies {
		res := Parse(body)
		if len(res.Replies) != 1 {
			t.Fatalf("%q: replies %q", body, res.Replies)
		}
		r := res.Replies[0]
		// Outside code spans nothing of the argument may remain live.
		for _, bad := range []string{"<!--", "<img", "<b>", "](http"} {
			if strings.Contains(stripCode(r), bad) {
				t.Errorf("%q: reply carries %q outside code: %q", body, bad, r)
			}
		}
		if mention.MatchString(stripCode(r)) {
			t.Errorf("%q: reply mentions someone: %q", body, r)
		}
		b.WriteString("> " + body + "\n\n" + strings.SplitN(r, "\n\nHousekeeper commands", 2)[0] + "\n\n---\n\n")
	}
	golden(t, "replies.golden", b.String())
}

// stripCode removes code spans (a run of n backticks to the next run of
// exactly n), as GitHub renders them: literally.
func stripCode(s string) string {
	var out strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '`' {
			out.WriteByte(s[i])
			i++
			continue
		}
		n := 0
		for i+n < len(s) && s[i+n] == '`' {
			n++
		}
		fence := strings.Repeat("`", n)
		j := i + n
		end := -1
		for k := j; k < len(s); {
			idx := strings.Index(s[k:], fence)
			if idx < 0 {
				break
			}
			at := k + idx
			m := 0
			for at+m < len(s) && s[at+m] == '`' {
				m++
			}
			if m == n {
				end = at
				break
			}
			k = at + m
		}
		if end < 0 {
			out.WriteString(fence)
			i = j
			continue
		}
		i = end + n
	}
	return out.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./internal/command -update creates it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test ./internal/command -update rewrites it):\n%s", name, got)
	}
}

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
			replies: []string{"`nope` is not a fingerprint"},
		},
		"unknown command gets help": {
			body:    "/housekeeper deploy `prod`",
			replies: []string{"I don't know `` /housekeeper deploy `prod` ``", "/housekeeper fix dirs"},
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
		for _, r := range res.Replies {
			if live := stripCode(r); strings.Contains(live, "<!--") || regexp.MustCompile(`@[A-Za-z0-9]`).MatchString(live) {
				t.Fatalf("reply repeats a comment opener or mentions someone outside code: %q", r)
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
