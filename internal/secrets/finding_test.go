package secrets_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

// TestRedactionNeverLeaks plants every rule's samples and checks that no
// finding's fields, Message(), String(), %+v or JSON carry more than 4
// consecutive characters of any planted random value.
func TestRedactionNeverLeaks(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	g := corpus.NewRand(7)
	checked := 0
	for _, r := range s.Rules().Rules() {
		if r.Tests == nil {
			continue
		}
		path := r.Tests.Path
		if path == "" {
			path = "sample.txt"
		}
		for i, tmpl := range r.Tests.Match {
			content, pieces := g.ExpandRecord(tmpl)
			for _, f := range s.ScanContent(path, []byte(content)) {
				js, err := json.Marshal(f)
				if err != nil {
					t.Fatal(err)
				}
				text := strings.Join([]string{f.Message(), f.String(), fmt.Sprintf("%+v", f), fmt.Sprintf("%#v", f), string(js)}, "\n")
				// Fingerprints (current and former) are hashes: random hex
				// pieces may share 5 characters with them by chance.
				text = strings.ReplaceAll(text, f.Fingerprint, "")
				for _, fp := range f.FormerFingerprints {
					text = strings.ReplaceAll(text, fp, "")
				}
				for _, p := range pieces {
					if gram := sharedGram(text, p, 5); gram != "" {
						t.Errorf("rule %s sample %d: finding %s leaks %q of a planted value", r.ID, i, f.RuleID, gram)
					}
				}
				if n := len([]rune(strings.TrimSuffix(f.Redacted, "…"))); n > 4 {
					t.Errorf("rule %s: Redacted %q shows %d characters", r.ID, f.Redacted, n)
				}
				checked++
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d findings checked", checked)
	}
}

func sharedGram(text, value string, n int) string {
	for i := 0; i+n <= len(value); i++ {
		if strings.Contains(text, value[i:i+n]) {
			return value[i : i+n]
		}
	}
	return ""
}

func TestRedact(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"token":      {"AKIA" + strings.Repeat("B", 16), "AKIA…"},
		"short":      {"abcdefgh", "ab…"},
		"tiny":       {"abc", "…"},
		"quarter":    {"abcdefghijkl", "abc…"},
		"empty":      {"", ""},
		"pem":        {"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "MIIE…"},
		"pem-json":   {`-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n`, "MIIE…"},
		"multi-byte": {"ééééééééé", "éé…"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := secrets.Redact(tc.in); got != tc.want {
				t.Errorf("Redact = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	sum := sha256.Sum256([]byte("generic-password\x00config/app.yaml\x00hunter2hunter2"))
	want := "generic-password:" + hex.EncodeToString(sum[:8])
	if got := secrets.Fingerprint("generic-password", "config/app.yaml", "hunter2hunter2"); got != want {
		t.Errorf("Fingerprint = %s, want %s", got, want)
	}
	pem := "-----BEGIN EC PRIVATE KEY-----\nAAAA\nBBBB\n-----END EC PRIVATE KEY-----"
	indented := "-----BEGIN EC PRIVATE KEY-----\n    AAAA\n    BBBB\n    -----END EC PRIVATE KEY-----"
	crlf := strings.ReplaceAll(pem, "\n", "\r\n")
	base := secrets.Fingerprint("private-key", "k", pem)
	for name, v := range map[string]string{"indented": indented, "crlf": crlf} {
		if got := secrets.Fingerprint("private-key", "k", v); got != base {
			t.Errorf("%s PEM: fingerprint %s, want %s", name, got, base)
		}
	}
	if secrets.Fingerprint("a", "p", "v") == secrets.Fingerprint("a", "q", "v") {
		t.Error("fingerprint ignores the path")
	}
}

// TestFingerprintIndependentOfLine: moving a value keeps its fingerprint.
func TestFingerprintIndependentOfLine(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	tok := "gh" + "p_" + corpus.NewRand(3).String(corpus.Alnum, 36)
	a := s.ScanContent("ci.yml", []byte("token: "+tok+"\n"))
	b := s.ScanContent("ci.yml", []byte("# moved\n\n\n  token:   "+tok+"\r\n"))
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("want one finding each, got %v and %v", a, b)
	}
	if a[0].Fingerprint != b[0].Fingerprint || b[0].Line != 4 || b[0].Column != 12 {
		t.Errorf("got %s at %d:%d, want %s at 4:12", b[0].Fingerprint, b[0].Line, b[0].Column, a[0].Fingerprint)
	}
}

// TestRuleTiers pins every embedded rule's tier (docs/secrets.md).
func TestRuleTiers(t *testing.T) {
	want := map[string]secrets.Tier{
		"github-pat": secrets.Bootstrap, "github-fine-grained-pat": secrets.Bootstrap,
		"github-app-token": secrets.Bootstrap, "github-oauth-token": secrets.Bootstrap,
		"github-refresh-token": secrets.Bootstrap, "github-app-private-key": secrets.Bootstrap,
		"aws-access-key-id": secrets.Bootstrap, "aws-secret-access-key": secrets.Bootstrap,
		"cloudflare-api-token": secrets.Bootstrap, "cloudflare-r2-access-key": secrets.Bootstrap,
		"gcp-service-account-key": secrets.Bootstrap, "azure-storage-key": secrets.Bootstrap,
		"azure-ad-client-secret": secrets.Bootstrap, "digitalocean-token": secrets.Bootstrap,
		"hetzner-cloud-token": secrets.Bootstrap, "linode-token": secrets.Bootstrap,
		"vultr-api-key": secrets.Bootstrap, "tls-private-key": secrets.Runtime,
		"private-key": secrets.Bootstrap, "terraform-cloud-token": secrets.Bootstrap,
		"vault-token": secrets.Bootstrap, "vault-legacy-token": secrets.Bootstrap, "vault-approle-secret-id": secrets.Bootstrap,
		"infisical-token": secrets.Bootstrap, "kubeconfig-client-key": secrets.Bootstrap,
		"kubeconfig-token": secrets.Bootstrap, "tfvars-secret": secrets.Bootstrap,
		"npmrc-auth": secrets.Bootstrap, "npm-token": secrets.Bootstrap, "pypi-token": secrets.Bootstrap,
		"docker-registry-auth": secrets.Bootstrap, "atlantis-github-token": secrets.Bootstrap,
		"atlantis-env-literal": secrets.Bootstrap, "k8s-secret-literal": secrets.Runtime,
		"stripe-secret-key": secrets.Runtime, "slack-webhook": secrets.Runtime, "tines-webhook-url": secrets.Runtime, "braintree-access-token": secrets.Runtime,
		"sendgrid-api-key": secrets.Runtime, "twilio-api-key": secrets.Runtime, "openai-api-key": secrets.Runtime,
		"anthropic-api-key": secrets.Runtime, "jwt": secrets.Runtime, "database-url-password": secrets.Runtime,
		"generic-password": secrets.Runtime, "generic-api-secret": secrets.Runtime,
		"terraform-state-file": secrets.Bootstrap, "dotenv-file": secrets.Runtime, "mounted-secret-file": secrets.Runtime,
		"ssh-private-key-file": secrets.Bootstrap, "pkcs12-file": secrets.Bootstrap, "private-key-file": secrets.Bootstrap,
		// Credential files.
		"private-key-base64": secrets.Bootstrap, "private-key-log-prefixed": secrets.Bootstrap,
		"password-hash": secrets.Runtime, "netrc-password": secrets.Bootstrap, "pgpass-password": secrets.Runtime,
		"htpasswd-file": secrets.Runtime, "shadow-file": secrets.Bootstrap, "rails-master-key": secrets.Runtime,
		"rails-secret-key-base": secrets.Runtime, "wordpress-config-secret": secrets.Runtime, "nuget-config-password": secrets.Bootstrap,
		"xml-credential-element": secrets.Runtime, "keystore-file": secrets.Bootstrap, "keepass-file": secrets.Bootstrap,
		"putty-private-key": secrets.Bootstrap, "dbeaver-credentials-file": secrets.Runtime, "winscp-password": secrets.Bootstrap,
		"gcloud-credentials-file": secrets.Bootstrap, "docker-config-file": secrets.Bootstrap, "registry-credentials-file": secrets.Bootstrap,
		// Token formats by vendor.
		"terraform-variable-default": secrets.Bootstrap, "helm-values-secret": secrets.Runtime,
		"gitlab-pat": secrets.Bootstrap, "gitlab-oauth-app-secret": secrets.Bootstrap, "gitlab-deploy-token": secrets.Bootstrap, "gitlab-runner-token": secrets.Bootstrap, "gitlab-runner-registration-token": secrets.Bootstrap, "gitlab-job-token": secrets.Bootstrap, "gitlab-pipeline-trigger-token": secrets.Bootstrap, "gitlab-feed-token": secrets.Bootstrap, "gitlab-incoming-mail-token": secrets.Bootstrap, "gitlab-agent-token": secrets.Bootstrap, "gitlab-scim-token": secrets.Bootstrap, "gitlab-feature-flag-token": secrets.Runtime, "gitlab-session-cookie": secrets.Bootstrap, "slack-bot-token": secrets.Runtime, "slack-user-token": secrets.Runtime, "slack-app-token": secrets.Runtime, "slack-config-token": secrets.Bootstrap, "slack-legacy-token": secrets.Runtime, "stripe-test-key": secrets.Runtime, "stripe-webhook-secret": secrets.Runtime, "aws-session-token": secrets.Bootstrap, "aws-mws-key": secrets.Runtime, "aws-bedrock-api-key": secrets.Runtime, "gcp-api-key": secrets.Runtime, "gcp-oauth-client-secret": secrets.Runtime, "gcp-oauth-access-token": secrets.Bootstrap, "gcp-oauth-refresh-token": secrets.Bootstrap, "azure-sas-token": secrets.Bootstrap, "azure-devops-pat": secrets.Bootstrap, "scaleway-access-key": secrets.Bootstrap, "ovh-credential": secrets.Bootstrap, "cloudflare-origin-ca-key": secrets.Bootstrap, "flyio-token": secrets.Bootstrap, "heroku-api-key": secrets.Bootstrap, "render-api-key": secrets.Bootstrap, "vercel-token": secrets.Bootstrap, "tailscale-key": secrets.Bootstrap, "tailscale-webhook-secret": secrets.Runtime, "netlify-token": secrets.Bootstrap, "alibaba-access-key": secrets.Bootstrap, "yandex-cloud-credential": secrets.Bootstrap, "backblaze-b2-key": secrets.Bootstrap, "minio-secret": secrets.Bootstrap, "vault-recovery-token": secrets.Bootstrap, "doppler-token": secrets.Bootstrap, "onepassword-service-account-token": secrets.Bootstrap, "onepassword-secret-key": secrets.Bootstrap, "age-secret-key": secrets.Bootstrap, "pulumi-access-token": secrets.Bootstrap, "terraform-cloud-named-token": secrets.Bootstrap, "bitbucket-app-password": secrets.Bootstrap, "circleci-token": secrets.Bootstrap, "buildkite-token": secrets.Bootstrap, "rubygems-api-key": secrets.Bootstrap, "nuget-api-key": secrets.Bootstrap, "docker-hub-token": secrets.Bootstrap, "jfrog-token": secrets.Bootstrap, "clojars-token": secrets.Bootstrap, "codecov-token": secrets.Bootstrap, "sonar-token": secrets.Bootstrap, "snyk-token": secrets.Bootstrap, "travis-ci-token": secrets.Bootstrap, "harness-token": secrets.Bootstrap, "octopus-deploy-api-key": secrets.Bootstrap, "drone-ci-token": secrets.Bootstrap, "datadog-api-key": secrets.Runtime, "new-relic-key": secrets.Runtime, "grafana-token": secrets.Runtime, "sentry-token": secrets.Runtime, "honeycomb-key": secrets.Runtime, "pagerduty-key": secrets.Runtime, "dynatrace-token": secrets.Runtime, "sumologic-key": secrets.Runtime, "discord-bot-token": secrets.Runtime, "discord-webhook": secrets.Runtime, "discord-client-secret": secrets.Runtime, "telegram-bot-token": secrets.Runtime, "mailgun-key": secrets.Runtime, "brevo-api-key": secrets.Runtime, "postmark-token": secrets.Runtime, "mailchimp-api-key": secrets.Runtime, "square-token": secrets.Runtime, "shopify-token": secrets.Runtime, "atlassian-api-token": secrets.Runtime, "linear-api-key": secrets.Runtime, "linear-client-secret": secrets.Runtime, "notion-token": secrets.Runtime, "airtable-token": secrets.Runtime, "hubspot-token": secrets.Runtime, "okta-api-token": secrets.Runtime, "auth0-client-secret": secrets.Runtime, "twilio-api-key-sid": secrets.Runtime, "teams-webhook": secrets.Runtime, "databricks-token": secrets.Runtime, "planetscale-token": secrets.Runtime, "postman-api-key": secrets.Runtime, "mapbox-secret-token": secrets.Runtime, "huggingface-token": secrets.Runtime, "perplexity-api-key": secrets.Runtime, "groq-api-key": secrets.Runtime, "replicate-api-token": secrets.Runtime, "xai-api-key": secrets.Runtime, "openrouter-api-key": secrets.Runtime, "langsmith-api-key": secrets.Runtime, "cohere-api-key": secrets.Runtime, "anthropic-admin-key": secrets.Runtime, "duffel-token": secrets.Runtime, "flutterwave-key": secrets.Runtime, "lob-api-key": secrets.Runtime, "shippo-token": secrets.Runtime, "easypost-api-key": secrets.Runtime, "sourcegraph-token": secrets.Runtime, "openshift-token": secrets.Bootstrap, "intra42-client-secret": secrets.Runtime, "facebook-token": secrets.Runtime, "facebook-app-token": secrets.Runtime, "adafruit-io-key": secrets.Runtime, "infracost-api-key": secrets.Bootstrap, "typeform-token": secrets.Runtime, "prefect-api-key": secrets.Runtime, "readme-api-key": secrets.Runtime, "scalingo-token": secrets.Bootstrap, "settlemint-token": secrets.Runtime, "frameio-token": secrets.Runtime, "defined-networking-token": secrets.Bootstrap, "clickhouse-cloud-key": secrets.Bootstrap, "beamer-api-key": secrets.Runtime, "maxmind-license-key": secrets.Runtime, "authress-key": secrets.Runtime, "sidekiq-credential": secrets.Bootstrap, "vault-legacy-named-token": secrets.Bootstrap, "basic-auth-url": secrets.Runtime, "curl-basic-auth": secrets.Runtime, "authorization-header": secrets.Runtime, "jwt-base64": secrets.Runtime,
		// Added for the leaked-files repository and the blind corpus's misses.
		"kubeadm-bootstrap-token": secrets.Bootstrap, "kubeadm-certificate-key": secrets.Bootstrap, "doppler-service-token": secrets.Bootstrap, "jfrog-reference-token-b64": secrets.Bootstrap, "scaleway-access-key-id": secrets.Bootstrap, "scaleway-secret-key-config": secrets.Bootstrap, "backblaze-b2-key-context": secrets.Bootstrap, "backblaze-b2-key-id": secrets.Bootstrap, "nginx-credential-header": secrets.Runtime, "heroku-named-api-key": secrets.Bootstrap,
		"wordpress-salt": secrets.Runtime, "django-secret-key": secrets.Runtime, "laravel-app-key": secrets.Runtime, "editor-deployment-password": secrets.Bootstrap, "jetbrains-deployment-password": secrets.Bootstrap, "hub-config-token": secrets.Bootstrap, "tugboat-config-token": secrets.Bootstrap, "robo3t-password": secrets.Runtime, "mysql-native-password-hash": secrets.Runtime, "circleci-docker-auth-password": secrets.Bootstrap,
		"phoenix-secret-key-base": secrets.Runtime, "jwt-signing-key-named": secrets.Runtime, "algolia-admin-key": secrets.Runtime, "mysql-cli-password": secrets.Runtime,
		"curl-tls-password": secrets.Runtime, "url-query-password": secrets.Runtime, "shell-default-secret": secrets.Runtime, "dockerfile-env-secret": secrets.Runtime, "gradle-repository-password": secrets.Bootstrap,
		"dotnet-appsettings-secret": secrets.Runtime, "dotnet-network-credential": secrets.Runtime, "azure-app-configuration-connection-string": secrets.Runtime,
		"wireguard-private-key": secrets.Bootstrap, "new-relic-license-key-named": secrets.Runtime, "psexec-password": secrets.Bootstrap,
		"netrc-entry-password": secrets.Bootstrap, "aws-secret-access-key-labelled": secrets.Bootstrap, "connection-string-password": secrets.Runtime,
		"service-named-key": secrets.Runtime, "htpasswd-plain-password": secrets.Runtime, "config-password-word": secrets.Runtime, "yaml-password-list": secrets.Runtime, "prose-password": secrets.Runtime, "generic-key-value": secrets.Runtime,
		// The blind corpus's tier misses: the application's side of formats that are bootstrap elsewhere.
		"azure-shared-access-key": secrets.Runtime, "azure-ad-app-client-secret": secrets.Runtime, "atlassian-account-token": secrets.Runtime, "tls-private-key-base64": secrets.Runtime,
	}
	s := newScanner(t, secrets.Options{})
	seen := map[string]bool{}
	for _, r := range s.Rules().Rules() {
		seen[r.ID] = true
		w, ok := want[r.ID]
		if !ok {
			t.Errorf("rule %s: tier not pinned in this test", r.ID)
			continue
		}
		if r.Tier != w {
			t.Errorf("rule %s: tier %s, want %s", r.ID, r.Tier, w)
		}
		if r.Description == "" {
			t.Errorf("rule %s: no description", r.ID)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("rule %s is missing from the rule file", id)
		}
	}
}

func TestMessage(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	tok := "AK" + "IA" + corpus.NewRand(4).String(corpus.B32, 16)
	fs := s.ScanContent("infra/main.tf", []byte(`access_key = "`+tok+`"`))
	if len(fs) != 1 {
		t.Fatalf("want 1 finding, got %v", fs)
	}
	msg := fs[0].Message()
	for _, want := range []string{"aws-access-key-id", "Tier 1", "AKIA…", "GitHub Secrets", "sensitive = true", "Atlantis", "rotate it"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Message() = %q lacks %q", msg, want)
		}
	}
}
