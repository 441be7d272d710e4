package secrets_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// TestMountedSecretFile: a file named for a secret is reported on the line
// of its one value (comment lines above it count for nothing), and only when
// that value is the whole content and looks random.
func TestMountedSecretFile(t *testing.T) {
	value := strings.Repeat("q7Xv2LpK9sWm4", 3)  // 39 characters, 10 distinct: entropy over 3.3
	random := "Zr8Kq2Xw7Lm4Pv9Ns3Bt6Hy1Jc5Df0Ga" // 32 distinct characters: entropy 5
	tests := map[string]struct {
		path, content string
		want          []string
	}{
		"value after comments":     {"run/secrets/api.token", "# Should match\n# mounted by the pod\n" + random + "\n", []string{"mounted-secret-file@3:1"}},
		"camel-case extension":     {"conf/foo.clientSecret", random, []string{"mounted-secret-file@1:1"}},
		"entropy below the floor":  {"run/secrets/db.password", value + "\n", nil},
		"two values: not one":      {"run/secrets/db.password", random + "\n" + random + "\n", nil},
		"a sentence":               {"notes/where.secret", "kept in the team vault\n", nil},
		"name says nothing secret": {"run/secrets/db.txt", random + "\n", nil},
	}
	s := newScanner(t, secrets.Options{})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var g []string
			for _, f := range s.ScanContent(tc.path, []byte(tc.content)) {
				if f.RuleID == "mounted-secret-file" {
					g = append(g, got([]secrets.Finding{f})...)
				}
			}
			if !reflect.DeepEqual(g, tc.want) {
				t.Errorf("got %v, want %v", g, tc.want)
			}
		})
	}
}

// TestStandInKeyFileNames: a private key in a file whose own name says it
// is a stand-in (dummy.key, fake-ca.pem) is not reported; the same key in
// any other file is, by the content rule and the file rule.
func TestStandInKeyFileNames(t *testing.T) {
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\n" + strings.Repeat("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz\n", 3) +
		"-----END OPENSSH PRIVATE KEY-----\n"
	s := newScanner(t, secrets.Options{})
	for path, want := range map[string]bool{
		"pki/dummy.key":          false,
		"certs/fake-ca.pem":      false,
		"certs/Dummy_Server.pem": false,
		"pki/deploy.key":         true,
		"certs/server.pem":       true,
		"docs/dummy/deploy.key":  true, // the file's own name decides, not a folder's
	} {
		var rules []string
		for _, f := range s.ScanContent(path, []byte(key)) {
			rules = append(rules, f.RuleID)
		}
		if got := len(rules) > 0; got != want {
			t.Errorf("%s: findings %v, want reported=%v", path, rules, want)
		}
	}
}
