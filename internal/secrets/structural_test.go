package secrets_test

import (
	"encoding/base64"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

// got lists findings as "rule@line:column".
func got(fs []secrets.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+"@"+itoa(f.Line)+":"+itoa(f.Column))
	}
	return out
}

func TestStructuralRules(t *testing.T) {
	tests := map[string]struct {
		path, content string
		want          []string
	}{
		"k8s secret, multi-document, one finding per key on its line": {
			path: "k8s/app.yaml",
			content: "apiVersion: apps/v1\nkind: Deployment\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n" +
				"data:\n  user: YWRtaW4=\nstringData:\n  mode: \"debug\"\n  empty: \"\"\n  tmpl: \"{{ .Values.x }}\"\n",
			want: []string{"k8s-secret-literal@9:9", "k8s-secret-literal@11:9"},
		},
		"password list items, each on its own line": {
			path:    "config/users.yml",
			content: "users:\n  admin_passwords:\n    - \"Qz8vLm2kWp4x\"\n    - Rt5nHj7cXa9e\n  weak_passwords:\n    - Yb3mKq8sLd2w\n",
			want:    []string{"yaml-password-list@3:7", "yaml-password-list@4:7"},
		},
		"k8s secret list": {
			path:    "k8s/list.yml",
			content: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  stringData:\n    k: v\n",
			want:    []string{"k8s-secret-literal@7:8"},
		},
		"sealed secret":    {path: "k8s/s.yaml", content: "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nspec:\n  encryptedData:\n    k: AgBy3i4OJSWK+PiTySYZZA==\n"},
		"sops secret":      {path: "k8s/s.yaml", content: "apiVersion: v1\nkind: Secret\nstringData:\n  k: ENC[AES256_GCM,data:abc,type:str]\nsops:\n  version: 3.8.1\n"},
		"not a manifest":   {path: "k8s/s.json", content: `{"kind": "Secret", "stringData": {"k": "v"}}`},
		"helm template":    {path: "chart/templates/s.yaml", content: "apiVersion: v1\nkind: Secret\ndata:\n{{- range $k, $v := .Values.x }}\n  {{ $k }}: {{ $v }}\n{{- end }}\n"},
		"other apiVersion": {path: "k8s/x.yaml", content: "apiVersion: example.com/v1\nkind: Secret\nstringData:\n  k: v\n"},
		"atlantis values": {
			path:    "helm/atlantis/values.yaml",
			content: "github:\n  user: bot\n  token: q8fj2k9x0vbz\n  secret: ${WEBHOOK}\n",
			want:    []string{"atlantis-github-token@3:10"},
		},
		"atlantis umbrella chart": {
			path:    "platform/values.yaml",
			content: "atlantis:\n  github:\n    user: bot\n    secret: \"s3cr3tWebhook\"\n",
			want:    []string{"atlantis-github-token@4:13"},
		},
		"github values of another chart": {
			path:    "platform/values.yaml",
			content: "github:\n  token: q8fj2k9x0vbz\n",
			want:    []string{"generic-api-secret@2:10"}, // not Atlantis, still a literal token
		},
		"atlantis values referencing secrets": {
			path:    "helm/atlantis/values.yaml",
			content: "vcsSecretName: atlantis-vcs\ngithub:\n  user: bot\n  token:\n    valueFrom:\n      secretKeyRef: {name: a, key: b}\n  secret: \"\"\n",
		},
		"atlantis env in compose map": {
			path:    "docker-compose.yaml",
			content: "services:\n  atlantis:\n    environment:\n      ATLANTIS_GH_TOKEN: tok3nValue99\n",
			want:    []string{"atlantis-env-literal@4:26"},
		},
		"atlantis env in compose list": {
			path:    "docker-compose.yaml",
			content: "services:\n  atlantis:\n    environment:\n      - \"ATLANTIS_GH_WEBHOOK_SECRET=w3bh00kS3cret\"\n",
			want:    []string{"atlantis-env-literal@4:37"},
		},
		"atlantis env in .env": {
			path:    "ops/atlantis.sh",
			content: "#!/bin/sh\nexport ATLANTIS_GH_TOKEN='tok3nValue99'\nATLANTIS_GH_WEBHOOK_SECRET=$SECRET\n",
			want:    []string{"atlantis-env-literal@2:27"},
		},
	}
	s := newScanner(t, secrets.Options{})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := got(s.ScanContent(tc.path, []byte(tc.content)))
			if !reflect.DeepEqual(g, tc.want) {
				t.Errorf("got %v, want %v", g, tc.want)
			}
		})
	}
}

// TestStructuralHostileYAML: malformed, deeply nested and alias-bomb YAML
// neither panics nor takes long.
func TestStructuralHostileYAML(t *testing.T) {
	bomb := "kind: Secret\na: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n"
	prev := "a"
	for i := range 9 {
		name := string(rune('b' + i))
		bomb += name + ": &" + name + " [*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + "]\n"
		prev = name
	}
	inputs := map[string]string{
		"deep flow":   "kind: Secret\nstringData: " + strings.Repeat("[", 100000) + "\n",
		"deep block":  "kind: Secret\n" + deepBlock(2000),
		"alias bomb":  bomb,
		"malformed":   "kind: Secret\nstringData:\n  a: [unclosed\n  b: 'x\n\t- tab",
		"binary junk": "kind: Secret\n\xff\xfe\x00\x01",
	}
	s := newScanner(t, secrets.Options{})
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			s.ScanContent("x.yaml", []byte(in))
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func deepBlock(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i))
		b.WriteString("k:\n")
	}
	return b.String()
}

// TestK8sSecretStandIns: a Secret value that marks itself a stand-in (a
// documented example, an angle-bracketed name) is not reported, also when
// its data value is base64 of one, once or twice over, or of a JSON
// document whose every non-public string is one; any other literal still
// is, however it is encoded, and an "example" elsewhere in a document (a
// registry host) does not hide its credential.
func TestK8sSecretStandIns(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	g := corpus.NewRand(7)
	b64 := func(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) }
	example := g.Expand("{{upper 8}}EXAMPLE{{upper 5}}")
	random := g.Expand("{{alnum 24}}")
	pem := func(label, body string) string {
		return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n"
	}
	exampleKey := `{"crt":` + strconv.Quote(pem("CERTIFICATE", g.Expand("{{b64 64}}"))) +
		`,"key":` + strconv.Quote(pem("EXAMPLE PRIVATE KEY", g.Expand("{{b64 64}}"))) + `}`
	registry := `{"auths":{"https://example/v1/":{"auth":"` + random + `"}}}`
	manifest := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ndata:\n" +
		"  once: " + b64(example) + "\n" + // line 6
		"  twice: " + b64(b64(`{"key":"`+example+`"}`)) + "\n" +
		"  key-json-twice: " + b64(b64(exampleKey)) + "\n" +
		"  real: " + b64(random) + "\n" + // line 9
		"  real-twice: " + b64(b64(random)) + "\n" +
		"  .dockercfg: " + b64(registry) + "\n" +
		"  config: " + b64("url: https://example.com\npassword: "+random+"\n") + "\n" +
		"stringData:\n  hint: \"<your-api-key>\"\n  plain: " + random + "\n" // lines 14, 15
	var lines []int
	for _, f := range s.ScanContent("k8s/secret.yaml", []byte(manifest)) {
		if f.RuleID == "k8s-secret-literal" {
			lines = append(lines, f.Line)
		}
	}
	if want := []int{9, 10, 11, 12, 15}; !reflect.DeepEqual(lines, want) {
		t.Errorf("k8s-secret-literal on lines %v, want %v\n%s", lines, want, manifest)
	}
}

// TestXMLSecretKeyElements: an AWS <SecretAccessKey> is an XML credential
// element and, being a cloud key, Tier 1; <AccessKeyId> names the key and
// is not reported; an app's <apiSecret> stays Tier 2.
func TestXMLSecretKeyElements(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	content := "<Credentials>\n  <AccessKeyId>AKIA" + strings.Repeat("Q7", 8) + "</AccessKeyId>\n" +
		"  <SecretAccessKey>" + strings.Repeat("Xk7/Pq2+Lm", 4) + "</SecretAccessKey>\n" +
		"  <apiSecret>" + strings.Repeat("p4Kx9mQ2", 3) + "</apiSecret>\n</Credentials>\n"
	fs := s.ScanContent("sts/response.xml", []byte(content))
	tiers := map[int]secrets.Tier{}
	for _, f := range fs {
		if f.RuleID != "xml-credential-element" {
			t.Errorf("line %d: rule %s, want xml-credential-element", f.Line, f.RuleID)
		}
		tiers[f.Line] = f.Tier
	}
	want := map[int]secrets.Tier{3: secrets.Bootstrap, 4: secrets.Runtime}
	if !reflect.DeepEqual(tiers, want) {
		t.Errorf("tiers by line %v, want %v", tiers, want)
	}
}
