package secrets_test

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestEncodedSecrets: base64 values in YAML and JSON are decoded and
// scanned again; PEM blocks with \n escapes, behind log prefixes and
// base64-encoded are found.
func TestEncodedSecrets(t *testing.T) {
	g := corpus.NewRand(11)
	ghp := "ghp_" + g.String(corpus.Alnum, 36)
	pem := "-----BEGIN RSA PRIVATE KEY-----\n" + g.String(corpus.B64, 64) + "\n" + g.String(corpus.B64, 64) + "\n" + g.String(corpus.B64, 20) + "\n-----END RSA PRIVATE KEY-----\n"
	escaped := strings.ReplaceAll(pem, "\n", `\n`)
	tests := map[string]struct {
		path, content string
		want          []string
		tier          secrets.Tier
	}{
		"secret data holding a github token": {"k8s/ci.yaml",
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: ci\ndata:\n  GITHUB_TOKEN: " + b64(ghp) + "\n",
			[]string{"github-pat@6:17"}, secrets.Bootstrap},
		"configmap holding a base64 github token": {"k8s/cm.yaml",
			"apiVersion: v1\nkind: ConfigMap\ndata:\n  token.b64: \"" + b64("token="+ghp) + "\"\n",
			[]string{"github-pat@4:15"}, secrets.Bootstrap},
		"helm values with a base64 private key": {"charts/app/values.yaml",
			"tls:\n  key: " + b64(pem) + "\n",
			[]string{"private-key-base64@2:8"}, secrets.Bootstrap},
		"json with a base64 token": {"config/app.json",
			`{"slack": "` + b64("xoxb-"+g.String(corpus.Digits, 12)+"-"+g.String(corpus.Digits, 13)+"-"+g.String(corpus.Alnum, 24)) + `"}`,
			[]string{"slack-bot-token@1:12"}, secrets.Runtime},
		"pem with \\n escapes in json": {"logs/events.json",
			`{"level":"info","key":"` + escaped + `"}`,
			[]string{"private-key@1:24"}, secrets.Bootstrap},
		"pem with \\n escapes in a yaml string": {"config/app.yaml",
			`signing_key: "` + escaped + `"` + "\n",
			[]string{"private-key@1:15"}, secrets.Bootstrap},
	}
	s := newScanner(t, secrets.Options{})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fs := s.ScanContent(tc.path, []byte(tc.content))
			if g := got(fs); !reflect.DeepEqual(g, tc.want) {
				t.Fatalf("got %v, want %v", g, tc.want)
			}
			if fs[0].Tier != tc.tier {
				t.Errorf("tier %s, want %s", fs[0].Tier, tc.tier)
			}
		})
	}

	// Decoding does not change what a specific rule already reported, and
	// a value once reported as a raw Secret's literal keeps that
	// fingerprint as a former one.
	kube := "apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user:\n    client-key-data: " + b64(pem) + "\n"
	if g := got(s.ScanContent("kubeconfig", []byte(kube))); !reflect.DeepEqual(g, []string{"kubeconfig-client-key@6:22"}) {
		t.Errorf("kubeconfig: got %v", g)
	}
	sec := "apiVersion: v1\nkind: Secret\ndata:\n  t: " + b64(ghp) + "\n"
	fs := s.ScanContent("k8s/s.yaml", []byte(sec))
	old := secrets.Fingerprint("k8s-secret-literal", "k8s/s.yaml", b64(ghp))
	if len(fs) != 1 || fs[0].Fingerprint != secrets.Fingerprint("github-pat", "k8s/s.yaml", ghp) || !reflect.DeepEqual(fs[0].FormerFingerprints, []string{old}) {
		t.Errorf("fingerprints: %+v", fs)
	}
	ign := newScanner(t, secrets.Options{Ignore: map[string]string{old: "accepted before decoding"}})
	if fs := ign.ScanContent("k8s/s.yaml", []byte(sec)); len(fs) != 1 || !fs[0].Suppressed {
		t.Errorf("an ignore of the former k8s-secret-literal fingerprint does not suppress: %+v", fs)
	}
	// Base64 that is not text, and text without secrets, add nothing.
	bin := "data:\n  blob: " + base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 3, 255, 254, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}) + "\n  note: " + b64("hello world, nothing to see") + "\n"
	if fs := s.ScanContent("config/blob.yaml", []byte(bin)); len(fs) != 0 {
		t.Errorf("harmless base64: got %v", got(fs))
	}
}
