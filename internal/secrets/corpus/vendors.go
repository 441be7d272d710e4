package corpus

import (
	"regexp"
	"strings"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// vendors plants one credential of each vendor token format that the
// hand-written files above do not cover, the way such credentials sit in a
// deploy script: one export per line. The values come from the rule's own
// first single-line sample (random text in the rule's documented shape), so
// a new rule is covered here as soon as it has a sample.
func (g *Rand) vendors(c *Corpus) {
	specs, err := secrets.DefaultRuleSpecs()
	if err != nil {
		return // the rule tests report a broken rule file
	}
	c.file("deploy/sops/age/keys.txt").
		l("# created: 2025-01-01T00:00:00Z", "# public key: age1"+strings.ToLower(g.String(Bech32, 58))).
		p("age-secret-key", boot, "AGE-SECRET-KEY-1%s", g.String(Bech32, 58)).done()
	c.file("bots/discord/config.yaml").
		l("discord:", "  guild: ops").
		p("discord-bot-token", run, "  bot_token: M%s.%s.%s", g.String(Alnum, 25), g.String(Alnum, 6), g.String(B64URL, 38)).done()
	c.file("marketing/facebook.ini").
		l("[facebook]").
		p("facebook-app-token", run, "facebook_app_access = %s|%s", g.String(Digits, 16), g.String(B64URL, 27)).done()
	c.file("infra/db/variables.tf").
		l(`variable "region" {`, `  default = "eu-west-1"`, `}`, ``, `variable "db_password" {`, `  type      = string`, `  sensitive = true`).
		p("terraform-variable-default", boot, `  default   = "%s#%s"`, g.String(Alnum, 6), g.String(Alnum, 10)).
		l(`}`).done()
	c.file("charts/shop/values.yaml").
		l("replicaCount: 2", "postgresql:", "  auth:", "    username: shop", "    existingSecret: \"\"").
		p("helm-values-secret", run, "    password: %s", "mississippi1").
		l("    passwordKey: db-password").done()
	planted := map[string]bool{}
	for _, l := range c.Labels {
		planted[l.Rule] = true
	}
	b := c.file("deploy/vendors/export.sh").l("#!/bin/sh", "set -eu")
	for _, s := range specs {
		if planted[s.ID] || s.Kind != secrets.KindSecret || s.Tests == nil || s.Tests.Path != "" || s.Context != "" || len(s.Paths) > 0 {
			continue
		}
		for _, m := range s.Tests.Match {
			if strings.Contains(m, "\n") {
				continue
			}
			line := g.Expand(m)
			tier := string(s.Tier)
			// The rule's own escalation applies: a sample under a key
			// that names infrastructure (SENTRY_AUTH_TOKEN) is bootstrap.
			if e := s.BootstrapIf; e != nil && e.Key != "" && regexp.MustCompile(e.Key).MatchString(line) {
				tier = boot
			}
			b.p(s.ID, tier, "%s", line)
			break
		}
	}
	b.done()
}
