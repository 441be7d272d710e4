package secrets_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

// TestTierByContext pins the tier that the file, the key or the lines
// around a value give it, in pairs where one token format takes both
// tiers: the cases the blind corpus's tier misses showed (docs/secrets.md,
// Tiers).
func TestTierByContext(t *testing.T) {
	const boot, run = secrets.Bootstrap, secrets.Runtime
	ec := "-----BEGIN " + "EC PRIVATE KEY-----\n{{b64 64}}\n{{b64 64}}\n-----END " + "EC PRIVATE KEY-----\n"
	tests := map[string]struct {
		path, content, rule string
		tier                secrets.Tier
	}{
		// Infrastructure files and keys raise runtime rules.
		"ansible become password":    {"ansible/group_vars/all/main.yml", "ansible_become_password: {{alnum 7}}4{{alnum 10}}\n", "generic-password", boot},
		"ansible app password":       {"ansible/group_vars/all/main.yml", "postgres_password: {{alnum 7}}4{{alnum 10}}\n", "generic-password", run},
		"gradle signing password":    {"app/gradle.properties", "signing.password={{alnum 7}}4{{alnum 12}}\n", "generic-password", boot},
		"ossrh password in env":      {"ci/release.env", "OSSRH_PASSWORD={{alnum 7}}4{{alnum 12}}\n", "generic-password", boot},
		"bitbucket key":              {".circleci/config.yml", "      BITBUCKET_APP_PASSWORD: ATBB{{alnum 32}}{{upper 8}}\n", "generic-password", boot},
		"terraform state secret":     {"infra/terraform.tfstate", "            \"secret\": \"{{b64 40}}\",\n", "generic-api-secret", boot},
		"terraform state hash":       {"infra/terraform.tfstate", "            \"bcrypt_hash\": \"$2a$10${{alnum 53}}\",\n", "password-hash", boot},
		"sql dump hash":              {"db/dump.sql", "INSERT INTO users VALUES (1,'$2y$10${{alnum 53}}');\n", "password-hash", run},
		"encryption config":          {"k8s/encryption-config.yaml", "            - name: key1\n              secret: {{b64 44}}\n", "generic-api-secret", boot},
		"grafana in terraform":       {"infra/main.tf", "  grafana_api_key = \"glsa_{{alnum 32}}_{{hex 8}}\"\n", "grafana-token", boot},
		"grafana in an app":          {"app/config.yaml", "grafana_api_key: glsa_{{alnum 32}}_{{hex 8}}\n", "grafana-token", run},
		"sentry-cli token":           {"ci/deploy.sh", "export SENTRY_AUTH_TOKEN=sntryu_{{hex 64}}\n", "sentry-token", boot},
		"sentry token in a workflow": {".github/workflows/release.yml", "      TOKEN: sntryu_{{hex 64}}\n", "sentry-token", boot},
		"sentry token in an app":     {"app/settings.py", "SENTRY_API = \"sntryu_{{hex 64}}\"\n", "sentry-token", run},
		"curl upload":                {"scripts/publish.sh", "curl -u deploy:{{alnum 7}}4{{alnum 10}} -T build.tar https://artifacts.acme.dev/\n", "curl-basic-auth", boot},
		"curl in gitlab ci":          {".gitlab-ci.yml", "    - curl -u ci:{{alnum 7}}4{{alnum 10}} https://acme.dev/hook\n", "curl-basic-auth", boot},
		"curl query":                 {"scripts/check.sh", "curl -u elastic:{{alnum 7}}4{{alnum 10}} https://es.local:9200\n", "curl-basic-auth", run},
		"gcloud adc client secret":   {"home/.config/gcloud/application_default_credentials.json", "  \"client_secret\": \"GOCSPX-{{b64url 28}}\",\n", "gcp-oauth-client-secret", boot},
		"app oauth client secret":    {"web/client_secret.json", "  \"client_secret\": \"GOCSPX-{{b64url 28}}\",\n", "gcp-oauth-client-secret", run},
		"infisical operator secret": {"k8s/infisical.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: universal-auth-credentials\n  namespace: infisical\nstringData:\n  clientSecret: {{hex 64}}\n",
			"k8s-secret-literal", boot},
		"app secret": {"k8s/api.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\n  namespace: api\nstringData:\n  apiKey: {{hex 64}}\n",
			"k8s-secret-literal", run},
		// The application's side of formats that are bootstrap elsewhere.
		"oauth login registration": {"src/main/resources/application.properties", "spring.security.oauth2.client.registration.github.client-secret={{hex 40}}\n", "generic-api-secret", run},
		"github named secret":      {"config/app.yaml", "github_secret: {{hex 40}}\n", "generic-api-secret", boot},
		"service bus":              {"app/application.properties", "sb=Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={{b64 43}}=\n", "azure-shared-access-key", run},
		"storage account":          {"app/application.properties", "st=DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={{b64 86}}==;EndpointSuffix=core.windows.net\n", "azure-storage-key", boot},
		"azure ad sign-in":         {"Web/appsettings.json", "{\n  \"AzureAd\": {\n    \"ClientId\": \"web\",\n    \"ClientSecret\": \"{{alnum 3}}8Q~{{alnum 34}}\"\n  }\n}\n", "azure-ad-app-client-secret", run},
		"azure service principal":  {"ci/env.sh", "export ARM_CLIENT_SECRET=\"{{alnum 3}}8Q~{{alnum 34}}\"\n", "azure-ad-client-secret", boot},
		"atlassian in an app":      {"app/integrations.py", "ATLASSIAN_API_TOKEN = \"ATATT3xFfGF0{{b64url 180}}=12AB34CD\"\n", "atlassian-account-token", run},
		"atlassian for bitbucket":  {"ci/env.sh", "export BITBUCKET_API_TOKEN=ATATT3xFfGF0{{b64url 180}}=12AB34CD\n", "atlassian-account-token", boot},
		"tls secret key":           {"k8s/tls.yaml", "type: kubernetes.io/tls\ndata:\n  tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0t{{b64 400}}\n", "tls-private-key-base64", run},
		"ssh key base64":           {"deploy/.env", "SSH_KEY_B64=LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0t{{b64 300}}=\n", "private-key-base64", boot},
		"nginx key":                {"web/nginx/api.key", ec, "tls-private-key", run},
		"unknown key":              {"keys/api.key", ec, "private-key", boot},
	}
	s := newScanner(t, secrets.Options{})
	g := corpus.NewRand(12)
	// In name order: the samples drawn from g are the same every run.
	for _, name := range slices.Sorted(maps.Keys(tests)) {
		tc := tests[name]
		t.Run(name, func(t *testing.T) {
			fs := s.ScanContent(tc.path, []byte(g.Expand(tc.content)))
			var got []string
			for _, f := range fs {
				if f.Kind == secrets.KindFile {
					continue
				}
				got = append(got, f.RuleID+" "+string(f.Tier))
				if f.RuleID == tc.rule && f.Tier != tc.tier {
					t.Errorf("%s: tier %s, want %s", f.RuleID, f.Tier, tc.tier)
				}
			}
			if len(got) != 1 || got[0] != tc.rule+" "+string(tc.tier) {
				t.Errorf("got %v, want one %s finding", got, tc.rule)
			}
		})
	}
}
