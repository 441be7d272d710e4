package secrets_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

// TestAtlantisTokenContext: a token of a known format in Atlantis's chart
// values is one finding, under the token rule's id (so its fingerprint is
// the token's), Tier 1, with the Atlantis context in its message.
func TestAtlantisTokenContext(t *testing.T) {
	g := corpus.NewRand(7)
	ghp := "ghp_" + g.String(corpus.Alnum, 36)
	glpat := "glpat-" + g.String(corpus.B64URL, 20)
	bb := "ATBB" + g.String(corpus.Alnum, 32)
	tests := map[string]struct {
		path, content string
		want          []string
		context       []string
	}{
		"github token": {"helm/atlantis/values.yaml", "orgAllowlist: github.com/acme/*\ngithub:\n  user: atlantis-bot\n  token: " + ghp + "\n",
			[]string{"github-pat@4:10"}, []string{"Atlantis's GitHub token", "`github.token`", "ATLANTIS_GH_TOKEN", "GitHub Secrets", "Terraform variable", "deploy time"}},
		"quoted token under an umbrella chart": {"platform/values.yaml", "atlantis:\n  github:\n    token: \"" + ghp + "\"\n",
			[]string{"github-pat@3:13"}, []string{"Atlantis's GitHub token"}},
		"gitlab token": {"helm/atlantis/values.yaml", "gitlab:\n  user: bot\n  token: " + glpat + "\n",
			[]string{"gitlab-pat@3:10"}, []string{"Atlantis's GitLab token", "ATLANTIS_GITLAB_TOKEN"}},
		"bitbucket token": {"helm/atlantis/values.yaml", "bitbucket:\n  user: bot\n  token: " + bb + "\n",
			[]string{"bitbucket-app-password@3:10"}, []string{"Atlantis's Bitbucket token"}},
		"webhook secret of no known format": {"helm/atlantis/values.yaml", "github:\n  secret: q8fj2k9x0vbzW3\n",
			[]string{"atlantis-github-token@2:11"}, []string{"Atlantis's GitHub webhook secret", "ATLANTIS_GH_WEBHOOK_SECRET"}},
	}
	s := newScanner(t, secrets.Options{})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fs := s.ScanContent(tc.path, []byte(tc.content))
			if g := got(fs); !reflect.DeepEqual(g, tc.want) {
				t.Fatalf("got %v, want %v", g, tc.want)
			}
			f := fs[0]
			if f.Tier != secrets.Bootstrap {
				t.Errorf("tier %s, want bootstrap", f.Tier)
			}
			msg := f.Message()
			for _, w := range tc.context {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
	// The fingerprint is the token rule's: the same token elsewhere in the
	// same file would be the same finding, and an ignore written for the
	// token keeps matching.
	fs := s.ScanContent("helm/atlantis/values.yaml", []byte("github:\n  token: "+ghp+"\n"))
	if len(fs) != 1 || fs[0].Fingerprint != secrets.Fingerprint("github-pat", "helm/atlantis/values.yaml", ghp) {
		t.Errorf("fingerprint: got %v", fs)
	}
	// Outside Atlantis values the same token has no Atlantis context.
	fs = s.ScanContent("ci/env.yaml", []byte("token: "+ghp+"\n"))
	if len(fs) != 1 || fs[0].Context != "" {
		t.Errorf("plain token: got %+v", fs)
	}
}

// TestRuleAliases: a rule split or renamed keeps its former id as an
// alias, so ignores written under the old id still match and disabling
// the old id still works.
func TestRuleAliases(t *testing.T) {
	g := corpus.NewRand(9)
	tok := "xoxb-" + g.String(corpus.Digits, 12) + "-" + g.String(corpus.Digits, 13) + "-" + g.String(corpus.Alnum, 24)
	const p = "deploy/slack.yaml"
	content := []byte("slack_bot: " + tok + "\n")
	old := secrets.Fingerprint("slack-token", p, tok) // as the rule was called before the split
	s := newScanner(t, secrets.Options{Ignore: map[string]string{old: "rotated, kept for history"}})
	fs := s.ScanContent(p, content)
	if len(fs) != 1 || fs[0].RuleID != "slack-bot-token" {
		t.Fatalf("got %v", got(fs))
	}
	if !fs[0].Suppressed || !strings.Contains(fs[0].SuppressedBy, "rotated") {
		t.Errorf("an ignore of the former fingerprint does not suppress: %+v", fs[0])
	}
	if fs[0].Fingerprint == old || len(fs[0].FormerFingerprints) != 1 || fs[0].FormerFingerprints[0] != old {
		t.Errorf("fingerprints: %q, former %q", fs[0].Fingerprint, fs[0].FormerFingerprints)
	}
	off := newScanner(t, secrets.Options{Disable: []string{"slack-token"}})
	for _, id := range []string{"slack-bot-token", "slack-user-token", "slack-app-token", "slack-legacy-token", "slack-config-token"} {
		if off.Rules().Rule(id) != nil {
			t.Errorf("disable slack-token left %s on", id)
		}
	}
	if fs := off.ScanContent(p, content); hasRule(fs, "slack-bot-token") {
		t.Errorf("disabled by its former id, still reported: %v", got(fs))
	}
}

// TestTakeOverKeepsFormerFingerprint: a value a new vendor or tool rule
// takes over from a generic rule was that rule's finding before; an
// ignore written for it then still matches.
func TestTakeOverKeepsFormerFingerprint(t *testing.T) {
	g := corpus.NewRand(12)
	pw := g.String(corpus.Alnum, 14) + "!" + g.String(corpus.Digits, 2)
	const p = "sites/blog/sftp-config.json"
	content := []byte("{\n    \"host\": \"www.acme.io\",\n    \"password\": \"" + pw + "\"\n}\n")
	old := secrets.Fingerprint("generic-password", p, pw)
	fs := newScanner(t, secrets.Options{}).ScanContent(p, content)
	if len(fs) != 1 || fs[0].RuleID != "editor-deployment-password" || fs[0].Tier != secrets.Bootstrap {
		t.Fatalf("got %+v", fs)
	}
	if !slices.Contains(fs[0].FormerFingerprints, old) {
		t.Errorf("former fingerprints %q lack the generic rule's %q", fs[0].FormerFingerprints, old)
	}
	ign := newScanner(t, secrets.Options{Ignore: map[string]string{old: "accepted as generic-password"}})
	if fs := ign.ScanContent(p, content); len(fs) != 1 || !fs[0].Suppressed {
		t.Errorf("an ignore of the generic fingerprint does not suppress: %+v", fs)
	}
	// A value only the specific rule sees has no former fingerprint.
	fs = newScanner(t, secrets.Options{}).ScanContent(p, []byte("{\"passphrase\": \"swordfish\"}\n"))
	if len(fs) != 1 || len(fs[0].FormerFingerprints) != 0 {
		t.Errorf("got %+v", fs)
	}
}
