package marker

import (
	"strings"
	"testing"
)

var key = Key([]byte("webhook-secret"))

func TestSignFindVerify(t *testing.T) {
	m := Marker{Repo: "Acme/Infra", PR: 7, Fingerprint: "aws-access-key-id:0123456789abcdef", Actor: "alice", Action: ActionIgnore, Reason: "fixture --> <!-- x"}
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
	ignore := Sign(key, Marker{Repo: "acme/infra", PR: 7, Fingerprint: fp, Actor: "alice", Action: ActionIgnore, Reason: "fixture"})
	unignore := Sign(key, Marker{Repo: "acme/infra", PR: 7, Fingerprint: fp, Actor: "bob", Action: ActionUnignore})
	forged := Sign(Key([]byte("guess")), Marker{Repo: "acme/infra", PR: 7, Fingerprint: fp, Actor: "mallory", Action: ActionIgnore, Reason: "x"})
	otherPR := Sign(key, Marker{Repo: "acme/infra", PR: 8, Fingerprint: fp, Actor: "alice", Action: ActionIgnore, Reason: "x"})
	tests := map[string]struct {
		comments []Comment
		want     bool
	}{
		"app ignore":                    {[]Comment{{Body: ignore, ByApp: true}}, true},
		"copied by a user":              {[]Comment{{Body: "look: " + ignore}}, false},
		"forged hmac":                   {[]Comment{{Body: forged, ByApp: true}}, false},
		"another pull request's marker": {[]Comment{{Body: otherPR, ByApp: true}}, false},
		"ignore then unignore":          {[]Comment{{Body: ignore, ByApp: true}, {Body: unignore, ByApp: true}}, false},
		"unignore then ignore":          {[]Comment{{Body: unignore, ByApp: true}, {Body: ignore, ByApp: true}}, true},
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

func TestEscape(t *testing.T) {
	in := "see <!-- housekeeper:v1 abc --> `code` @team\nnext"
	got := Escape(in)
	if strings.ContainsAny(got, "<>`\n") || strings.Contains(got, "@team") {
		t.Errorf("Escape(%q) = %q", in, got)
	}
}
