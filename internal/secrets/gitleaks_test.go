package secrets_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

const teamRules = `title = "acme"

[extend]
useDefault = true

[allowlist]
description = "global"
paths = ['''(^|/)vendor/''']
regexes = ['''^acme_0{4}''']
stopwords = ["sandbox"]

[[rules]]
id = "acme-token"
description = "ACME API token"
regex = '''\b(acme_[a-z0-9]{24})\b'''
secretGroup = 1
keywords = ["acme_"]
tier = "bootstrap"

[rules.allowlist]
regexes = ['''_q{24}$''']
stopwords = ["example"]

[[rules]]
id = "acme-legacy"
description = "ACME legacy key"
regex = '''legacy_key\s*=\s*"([A-Z0-9]{20})"'''
entropy = 3.0
keywords = ["legacy_key"]
path = '''\.conf$'''

[[rules]]
id = "acme-keyfile"
description = "ACME key file"
path = '''(^|/)acme\.key$'''
`

func TestImportGitleaks(t *testing.T) {
	s := newScanner(t, secrets.Options{Gitleaks: []secrets.GitleaksFile{{Path: ".gitleaks.toml", Data: []byte(teamRules)}}})
	if r := s.Rules().Rule("acme-token"); r == nil || r.Tier != secrets.Bootstrap {
		t.Fatalf("acme-token: %+v", r)
	}
	if r := s.Rules().Rule("acme-legacy"); r == nil || r.Tier != secrets.Runtime {
		t.Fatalf("acme-legacy: tier should default to runtime: %+v", r)
	}
	if n := s.Notices(); len(n) != 1 || !strings.Contains(n[0], "useDefault") || !strings.Contains(n[0], "embedded rules stand in") {
		t.Errorf("notices: %q", n)
	}
	tests := map[string]struct {
		path, content string
		want          []string
	}{
		"team token":                 {"app/config.yaml", "x: acme_k3j9v7q2m8w1z5r0t6y4u2p9\n", []string{"acme-token@1:4"}},
		"rule allowlist regex":       {"app/config.yaml", "x: acme_qqqqqqqqqqqqqqqqqqqqqqqq\n", nil},
		"rule stopword":              {"app/config.yaml", "x: acme_k3jexamplem8w1z5r0t6y4u\n", nil},
		"global regex":               {"app/config.yaml", "x: acme_0000k3j9v7q2m8w1z5r0t6\n", nil},
		"global stopword, any rule":  {"app/config.yaml", "x: acme_sandboxv7q2m8w1z5r0t6y\nt: ghp_sandbox" + strings.Repeat("k3j9v7", 5) + "x\n", nil},
		"global path, any rule":      {"vendor/lib/config.yaml", "x: acme_k3j9v7q2m8w1z5r0t6y4u2p9\n", nil},
		"path-restricted rule":       {"etc/app.conf", `legacy_key = "K3J9V7Q2M8W1Z5R0T6Y4"` + "\n", []string{"acme-legacy@1:15"}},
		"path-restricted, elsewhere": {"etc/app.yaml", `legacy_key = "K3J9V7Q2M8W1Z5R0T6Y4"` + "\n", nil},
		"file rule by path regex":    {"keys/acme.key", "anything\n", []string{"acme-keyfile@0:0"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fs := s.ScanContent(tc.path, []byte(tc.content))
			var g []string
			for _, f := range fs {
				if f.RuleID == "generic-api-secret" || f.RuleID == "generic-password" {
					continue
				}
				g = append(g, f.RuleID+"@"+itoa(f.Line)+":"+itoa(f.Column))
			}
			if !reflect.DeepEqual(g, tc.want) {
				t.Errorf("got %v, want %v", g, tc.want)
			}
		})
	}
	// gitleaks:allow marks the line like housekeeper:allow: the caller
	// honours it only where that line is already on the base.
	fs := s.ScanContent("app/config.yaml", []byte("x: acme_k3j9v7q2m8w1z5r0t6y4u2p9 # gitleaks:allow\n"))
	if len(fs) != 1 || !fs[0].Allowed || fs[0].AllowedBy != "gitleaks:allow" || fs[0].AllowedLine != 1 || fs[0].Suppressed {
		t.Errorf("gitleaks:allow: %+v", fs)
	}
	// Without an import the marker means nothing.
	plain := newScanner(t, secrets.Options{})
	tok := "ghp_" + strings.Repeat("k3j9v7", 6)
	if fs := plain.ScanContent("a.yaml", []byte("t: "+tok+" # gitleaks:allow\n")); len(fs) != 1 || fs[0].Allowed {
		t.Errorf("gitleaks:allow without an import: %+v", fs)
	}
}

func TestImportGitleaksErrors(t *testing.T) {
	tests := map[string]struct{ toml, want string }{
		"syntax": {"[[rules]\nid = 1\n", ".gitleaks.toml:2: expected end of table array name"},
		"re2 rejects lookahead": {"[[rules]]\nid = \"a\"\nkeywords = [\"x\"]\nregex = '''x(?=y)'''\n\n[[rules]]\nid = \"b\"\nkeywords = [\"y\"]\nregex = '''(?<!z)y'''\n",
			`.gitleaks.toml:1: rule "a": regex: error parsing regexp: invalid or unsupported Perl syntax: ` + "`(?=`"},
		"second rule named":      {"[[rules]]\nid = \"a\"\nkeywords = [\"x\"]\nregex = 'x'\n\n[[rules]]\nid = \"b\"\nkeywords = [\"y\"]\nregex = '(?<!z)y'\n", `.gitleaks.toml:6: rule "b"`},
		"no keywords, no path":   {"[[rules]]\nid = \"a\"\nregex = 'x+'\n", `.gitleaks.toml:1: rule "a": keywords: none`},
		"unknown key":            {"[[rules]]\nid = \"a\"\nkeywords = [\"x\"]\nregex = 'x'\nsecretGroups = 1\n", "unknown keys: rules.secretGroups"},
		"bad tier":               {"[[rules]]\nid = \"a\"\nkeywords = [\"x\"]\nregex = 'x'\ntier = \"prod\"\n", `rule "a": tier: must be bootstrap or runtime, not "prod"`},
		"bad global allow regex": {"[allowlist]\nregexes = ['(']\n", ".gitleaks.toml: global allowlist: regexes[0]: error parsing regexp"},
		"upper-case id":          {"[[rules]]\nid = \"Acme_Key\"\nkeywords = [\"x\"]\nregex = 'x'\n", `.gitleaks.toml:1: rule "Acme_Key": id: must be`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := secrets.New(secrets.Options{Gitleaks: []secrets.GitleaksFile{{Path: ".gitleaks.toml", Data: []byte(tc.toml)}}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}
