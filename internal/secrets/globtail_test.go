package secrets

import (
	"testing"

	"github.com/bmatcuk/doublestar/v4"
)

// matchGlob skips doublestar for names without the glob's literal ending;
// it must answer as doublestar does for every glob form the rules use.
func TestMatchGlobAgreesWithDoublestar(t *testing.T) {
	globs := []string{"*.pem", "**/*.tfvars", "id_rsa", ".env.*", "*.env", "terraform.tfstate*",
		"**/.m2/**", "**/config/credentials/*.key", "a{b,c}d", "*.[jJ]ks", `we\*ird`, "x?z", "**/shadow-",
		"sftp-config-alt*.json", "**/.circleci/*.yml", "{x,y}", "**/.pypirc", "a/**/b"}
	names := []string{"key.pem", "a/b/key.pem", "key.pem.txt", "prod.tfvars", "env/prod.tfvars", "id_rsa",
		"a/id_rsa", "id_rsa.pub", ".env.local", "x/.env", "app.env", "terraform.tfstate.backup",
		"home/.m2/settings.xml", "app/config/credentials/prod.key", "abd", "acd", "aed", "t.jks", "t.Jks",
		"we*ird", "weXird", "xyz", "etc/shadow-", "shadow-", ".pypirc", "a/.pypirc", "sftp-config-alt2.json", "r/.circleci/config.yml", "a/b", "a/x/b", "b", "x", "y", ""}
	for _, g := range globs {
		for _, n := range names {
			want, _ := doublestar.Match(g, n)
			if got := matchGlob(newGlobs([]string{g})[0], n); got != want {
				t.Errorf("matchGlob(%q, %q) = %v, doublestar says %v", g, n, got, want)
			}
		}
	}
	for g, want := range map[string]string{"*.pem": ".pem", "**/*.tfvars": ".tfvars", "**/.pypirc": ".pypirc", "id_rsa": "id_rsa", ".env.*": "", "a{b,c}d": "d", `we\*ird`: "ird"} {
		if got := literalTail(g); got != want {
			t.Errorf("literalTail(%q) = %q, want %q", g, got, want)
		}
	}
}
