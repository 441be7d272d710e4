package marker

import (
	"strings"
	"testing"
)

var key = Key([]byte("webhook-secret"))

func TestSignFindVerify(t *testing.T) {
	m := Marker{Repo: "Acme/Infra", PR: 7, CommentID: 42, Fingerprint: "aws-access-key-id:0123456789abcdef", Actor: "alice", Action: ActionIgnore, Reason: "fixture --> <!-- x"}
	text := Sign(key, m)
	if strings.Count(text, "-->") != 1 || strings.Contains(text, "fixture") {
		t.Fatalf("marker leaks its fields or breaks the comment: %s", text)
	}
	found := Find("Accepted.\n\n" + text + "\n")
	if len(found) != 1 || !Verify(key, found[0]) {
		t.Fatalf("found %+v", found)
	}
	for name, tamper := range map[string]func(*Marker){
		"pr":          func(m *Marker) { m.PR = 8 },
		"fingerprint": func(m *Marker) { m.Fingerprint = "x:0123456789abcdef" },
		"actor":       func(m *Marker) { m.Actor = "mallory" },
		"action":      func(m *Marker) { m.Action = ActionUnignore },
		"reason":      func(m *Marker) { m.Reason = "other" },
		"repo":        func(m *Marker) { m.Repo = "acme/other" },
		"comment":     func(m *Marker) { m.CommentID = 43 },
	} {
		c := found[0]
		tamper(&c)
		if Verify(key, c) {
			t.Errorf("tampered %s still verifies", name)
		}
	}
	if Verify(Key([]byte("other secret")), found[0]) {
		t.Error("verifies under another key")
	}
}

func TestIgnores(t *testing.T) {
	fp := "aws-access-key-id:0123456789abcdef"
	ignore := Sign(key, Marker{Repo: "acme/infra", PR: 7, CommentID: 10, Fingerprint: fp, Actor: "alice", Action: ActionIgnore, Reason: "fixture"})
	unignore := Sign(key, Marker{Repo: "acme/infra", PR: 7, CommentID: 11, Fingerprint: fp, Actor: "bob", Action: ActionUnignore})
	reignore := Sign(key, Marker{Repo: "acme/infra", PR: 7, CommentID: 12, Fingerprint: fp, Actor: "alice", Action: ActionIgnore, Reason: "again"})
	v1 := signV1(key, Marker{Repo: "acme/infra", PR: 7, Fingerprint: fp, Actor: "alice", Action: ActionIgnore, Reason: "before the upgrade"})
	ack := func(m string) string {
		return "@alice\n\nAccepted: it is fake. The checks run again now.\n\n" + m + "\n"
	}
	forged := Sign(Key([]byte("guess")), Marker{Repo: "acme/infra", PR: 7, Fingerprint: fp, Actor: "mallory", Action: ActionIgnore, Reason: "x"})
	otherPR := Sign(key, Marker{Repo: "acme/infra", PR: 8, Fingerprint: fp, Actor: "alice", Action: ActionIgnore, Reason: "x"})
	tests := map[string]struct {
		comments []Comment
		want     bool
	}{
		"app ignore":                    {[]Comment{{Body: ack(ignore), ByApp: true}}, true},
		"v1 marker on the last line":    {[]Comment{{Body: ack(v1), ByApp: true}}, true},
		"v1 marker mid-comment":         {[]Comment{{Body: "Accepted.\n" + v1 + "\n\n---\n\nRe-running.", ByApp: true}}, false},
		"marker mid-comment":            {[]Comment{{Body: "x\n" + ignore + "\nmore text", ByApp: true}}, false},
		"marker in a code block":        {[]Comment{{Body: "```\n" + ignore + "\n```", ByApp: true}}, false},
		"marker after other text":       {[]Comment{{Body: "Here is a line: " + ignore, ByApp: true}}, false},
		"replayed after unignore":       {[]Comment{{Body: ack(ignore), ByApp: true}, {Body: ack(unignore), ByApp: true}, {Body: ack(ignore), ByApp: true}}, false},
		"new ignore after unignore":     {[]Comment{{Body: ack(ignore), ByApp: true}, {Body: ack(unignore), ByApp: true}, {Body: ack(reignore), ByApp: true}}, true},
		"two markers on the last line":  {[]Comment{{Body: ack(unignore + " " + reignore), ByApp: true}}, true},
		"copied by a user":              {[]Comment{{Body: "look: " + ignore}}, false},
		"forged hmac":                   {[]Comment{{Body: forged, ByApp: true}}, false},
		"another pull request's marker": {[]Comment{{Body: otherPR, ByApp: true}}, false},
		"ignore then unignore":          {[]Comment{{Body: ignore, ByApp: true}, {Body: unignore, ByApp: true}}, false},
		"unignore then ignore":          {[]Comment{{Body: unignore, ByApp: true}, {Body: reignore, ByApp: true}}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Ignores(key, "acme/infra", 7, tc.comments)
			if _, ok := got[fp]; ok != tc.want {
				t.Errorf("ignored = %v, want %v", ok, tc.want)
			}
		})
	}
}
