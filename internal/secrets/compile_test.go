package secrets_test

import (
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

func TestCompileRulesErrors(t *testing.T) {
	ok := secrets.RuleSpec{ID: "my-rule", Description: "d", Tier: secrets.Runtime, Kind: secrets.KindSecret, Keywords: []string{"tok"}, Regex: `tok_([a-z]{8})`}
	with := func(f func(*secrets.RuleSpec)) []secrets.RuleSpec {
		r := ok
		f(&r)
		return []secrets.RuleSpec{r}
	}
	tests := map[string]struct {
		specs []secrets.RuleSpec
		want  string
	}{
		"bad regex":         {with(func(r *secrets.RuleSpec) { r.Regex = `(unclosed` }), `rule 0 ("my-rule"): regex: error parsing regexp`},
		"bad tier":          {with(func(r *secrets.RuleSpec) { r.Tier = "tier3" }), `rule 0 ("my-rule"): tier: must be "bootstrap" or "runtime", not "tier3"`},
		"bad kind":          {with(func(r *secrets.RuleSpec) { r.Kind = "magic" }), `kind: must be`},
		"no keywords":       {with(func(r *secrets.RuleSpec) { r.Keywords = nil }), `keywords: a secret rule needs at least one keyword`},
		"upper keyword":     {with(func(r *secrets.RuleSpec) { r.Keywords = []string{"TOK"} }), `keywords[0]: "TOK" must be lower-case`},
		"group range":       {with(func(r *secrets.RuleSpec) { r.SecretGroup = 3 }), `secret_group: 3 out of range`},
		"bad allow":         {with(func(r *secrets.RuleSpec) { r.Allow = []string{"ok", "[z-a]"} }), `allow[1]: error parsing regexp`},
		"bad glob":          {with(func(r *secrets.RuleSpec) { r.Paths = []string{"a/[b"} }), `paths[0]: invalid glob`},
		"bad id":            {with(func(r *secrets.RuleSpec) { r.ID = "My Rule" }), `id: must be`},
		"unknown analyser":  {with(func(r *secrets.RuleSpec) { r.Kind = secrets.KindStructural; r.Structural = "nope" }), `structural: unknown analyser "nope"`},
		"bad entropy":       {with(func(r *secrets.RuleSpec) { r.Entropy = 9 }), `entropy: must be between 0 and 8`},
		"bad bootstrap key": {with(func(r *secrets.RuleSpec) { r.BootstrapIf = &secrets.TierEscalation{Key: "("} }), `bootstrap_if.key:`},
		"bad unless key":    {with(func(r *secrets.RuleSpec) { r.BootstrapIf = &secrets.TierEscalation{Key: "a", UnlessKey: "["} }), `bootstrap_if.unless_key:`},
		"duplicate id":      {[]secrets.RuleSpec{ok, ok}, `rule 1 ("my-rule"): id: duplicate rule id`},
		"index of second":   {[]secrets.RuleSpec{ok, {ID: "x2", Tier: "bootstrap", Kind: "file"}}, `rule 1 ("x2"): paths: a file rule needs at least one path glob`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := secrets.CompileRules(tc.specs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := secrets.CompileRules([]secrets.RuleSpec{ok}); err != nil {
		t.Errorf("valid rule: %v", err)
	}
}

// The embedded rules' regexes are compiled on first use by a scan, where
// an error could only disable the rule: here every one is compiled, so a
// broken regex in the rule file fails the tests instead.
func TestEmbeddedRulesCompile(t *testing.T) {
	specs, err := secrets.DefaultRuleSpecs()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.CompileRules(specs); err != nil {
		t.Fatal(err)
	}
}

func TestOptionsRules(t *testing.T) {
	if _, err := secrets.New(secrets.Options{Disable: []string{"no-such-rule"}}); err == nil || !strings.Contains(err.Error(), `"no-such-rule"`) {
		t.Errorf("disabling an unknown rule: err = %v", err)
	}
	if _, err := secrets.New(secrets.Options{Add: []secrets.RuleSpec{{ID: "github-pat", Tier: "bootstrap", Kind: "secret", Keywords: []string{"x"}, Regex: "x"}}}); err == nil {
		t.Error("adding a rule with an embedded rule's id: no error")
	}
	custom := secrets.RuleSpec{ID: "acme-token", Description: "ACME token", Tier: secrets.Bootstrap, Kind: secrets.KindSecret,
		Keywords: []string{"acme_"}, Regex: `\b(acme_[a-z0-9]{16})\b`, Specificity: 300}
	s := newScanner(t, secrets.Options{Disable: []string{"generic-api-secret"}, Add: []secrets.RuleSpec{custom}})
	g := got(s.ScanContent("a.yaml", []byte("x: acme_q7w2e9r4t1y8u3i6\napi_token: Zq8vN3pL0sR7tY2wK5mB\n")))
	if want := []string{"acme-token@1:4"}; strings.Join(g, ",") != strings.Join(want, ",") {
		t.Errorf("got %v, want %v", g, want)
	}
}

// TestUserRuleSpecYAML: a config's secrets.rules.add decodes into RuleSpec
// by its yaml tags.
func TestUserRuleSpecYAML(t *testing.T) {
	specs, err := secrets.ParseRuleSpecs([]byte(`
rules:
  - id: acme-token
    description: ACME token
    tier: bootstrap
    kind: secret
    keywords: [acme_]
    regex: '\b(acme_[a-z0-9]{16})\b'
    secret_group: 1
    entropy: 3
    allow: ['^acme_0+$']
    paths: ['**/*.yaml']
    specificity: 300
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 1 || specs[0].SecretGroup != 1 || specs[0].Paths[0] != "**/*.yaml" {
		t.Fatalf("decoded %+v", specs)
	}
	if _, err := secrets.ParseRuleSpecs([]byte("rules:\n  - id: x\n    unknown_key: 1\n")); err == nil {
		t.Error("unknown key: no error")
	}
}

// FuzzCompileRules: arbitrary rule files and regexes never panic, and a
// compiled rule set scans arbitrary content safely.
func FuzzCompileRules(f *testing.F) {
	f.Add([]byte("rules:\n  - id: a\n    tier: runtime\n    kind: secret\n    keywords: [x]\n    regex: 'x(y+)'\n"), []byte("xyy\nx"))
	f.Add([]byte("rules:\n  - id: b\n    tier: bootstrap\n    kind: file\n    paths: ['**/[']\n"), []byte(""))
	f.Add([]byte("rules:\n  - id: c\n    tier: runtime\n    kind: secret\n    keywords: ['a']\n    regex: '(?P<secret>a)|(?P<secret>b)'\n    multiline: true\n    context: '('\n"), []byte("a\nb"))
	f.Fuzz(func(t *testing.T, rules, content []byte) {
		specs, err := secrets.ParseRuleSpecs(rules)
		if err != nil {
			return
		}
		if _, err := secrets.CompileRules(specs); err != nil {
			return
		}
		for i := range specs {
			specs[i].ID = "user-" + itoa(i+1)
		}
		s, err := secrets.New(secrets.Options{Add: specs})
		if err != nil {
			return
		}
		s.ScanContent("f.yaml", content)
	})
}
