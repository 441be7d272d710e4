package corpus

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Label is one planted finding: the rule that must report it, on that
// file and line (0 for a file rule with no line), with that tier.
type Label struct {
	Path string `json:"path"`
	Line int    `json:"line"`
	Rule string `json:"rule"`
	Tier string `json:"tier"`
}

// File is one corpus file.
type File struct {
	Path    string
	Content []byte
}

// Corpus is a generated set of files and the findings planted in them.
// Files without labels are look-alikes: any finding there is a false
// positive.
type Corpus struct {
	Files  []File
	Labels []Label
}

type builder struct {
	c     *Corpus
	path  string
	lines []string
}

func (c *Corpus) file(path string) *builder { return &builder{c: c, path: path} }

// l adds plain lines.
func (b *builder) l(lines ...string) *builder {
	for _, l := range lines {
		b.lines = append(b.lines, strings.Split(l, "\n")...)
	}
	return b
}

// p adds a line holding a planted secret of rule with tier.
func (b *builder) p(rule, tier, format string, args ...any) *builder {
	b.lines = append(b.lines, fmt.Sprintf(format, args...))
	b.c.Labels = append(b.c.Labels, Label{Path: b.path, Line: len(b.lines), Rule: rule, Tier: tier})
	return b
}

// block adds lines whose first holds a planted secret.
func (b *builder) block(rule, tier string, lines []string) *builder {
	b.c.Labels = append(b.c.Labels, Label{Path: b.path, Line: len(b.lines) + 1, Rule: rule, Tier: tier})
	b.lines = append(b.lines, lines...)
	return b
}

// label plants a finding on an existing line (0: the file itself).
func (b *builder) label(rule, tier string, line int) *builder {
	b.c.Labels = append(b.c.Labels, Label{Path: b.path, Line: line, Rule: rule, Tier: tier})
	return b
}

func (b *builder) done() {
	b.c.Files = append(b.c.Files, File{Path: b.path, Content: []byte(strings.Join(b.lines, "\n") + "\n")})
}

func (b *builder) raw(content []byte) {
	b.c.Files = append(b.c.Files, File{Path: b.path, Content: content})
}

// Write writes the corpus's files under dir and its labels, as JSON, to
// labelsPath.
func (c Corpus) Write(dir, labelsPath string) error {
	for _, f := range c.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write corpus: %w", err)
		}
		if err := os.WriteFile(p, f.Content, 0o644); err != nil {
			return fmt.Errorf("write corpus: %w", err)
		}
	}
	data, err := json.MarshalIndent(c.Labels, "", "  ")
	if err != nil {
		return fmt.Errorf("write labels: %w", err)
	}
	if err := os.WriteFile(labelsPath, data, 0o644); err != nil {
		return fmt.Errorf("write labels: %w", err)
	}
	return nil
}

const (
	boot = "bootstrap"
	run  = "runtime"
)

// Generate builds the corpus deterministically from seed.
func Generate(seed uint64) Corpus {
	g := NewRand(seed)
	c := &Corpus{}
	g.terraform(c)
	g.helmAndK8s(c)
	g.envAndCompose(c)
	g.ci(c)
	g.code(c)
	g.packaging(c)
	g.keys(c)
	g.clouds(c)
	g.lookalikes(c)
	g.credentialFiles(c)
	g.vendors(c)
	return *c
}

func (g *Rand) terraform(c *Corpus) {
	c.file("infra/aws/main.tf").
		l(`terraform {`, `  backend "s3" {`, `    bucket = "acme-tfstate"`, `    key    = "prod/terraform.tfstate"`, `  }`, `}`, ``,
			`provider "aws" {`, `  region     = "eu-west-1"`).
		p("aws-access-key-id", boot, `  access_key = "%s"`, g.akia()).
		p("aws-secret-access-key", boot, `  secret_key = "%s"`, g.awsSecret()).
		l(`}`, ``, `resource "aws_db_instance" "main" {`, `  engine   = "postgres"`, `  username = "app"`).
		p("generic-password", boot, `  password = "%s"`, g.password()).
		l(`}`, ``, `resource "aws_db_instance" "replica" {`, `  password = var.db_password`, `}`, ``,
			`variable "db_password" {`, `  type      = string`, `  sensitive = true`, `}`,
			`data "aws_ssm_parameter" "token" { name = "/prod/token" }`,
			`locals { api_token = data.aws_ssm_parameter.token.value }`).
		done()

	c.file("infra/prod/terraform.tfvars").
		l(`region       = "eu-west-1"`, `key_name     = "deployer"`, `instance_ids = ["i-0abc"]`).
		p("tfvars-secret", boot, `db_root_password = "%s"`, g.password()).
		p("cloudflare-api-token", boot, `cloudflare_api_token = "%s"`, g.String(Alnum, 40)).
		p("hetzner-cloud-token", boot, `hcloud_token = "%s"`, g.String(Alnum, 64)).
		p("linode-token", boot, `linode_token = "%s"`, g.String(Hex, 64)).
		p("vultr-api-key", boot, `vultr_api_key = "%s"`, g.String(Upper, 36)).
		p("digitalocean-token", boot, `do_token = "%s"`, g.doToken("p")).
		l(`ssh_public_key_path = "~/.ssh/id_ed25519.pub"`, `db_password_secret_name = "prod-db"`).
		done()

	c.file("infra/state/terraform.tfstate").
		label("terraform-state-file", boot, 0).
		l(`{`, `  "version": 4,`, `  "terraform_version": "1.9.0",`, `  "resources": []`, `}`).done()

	c.file("infra/do/provider.tf").
		l(`provider "digitalocean" {`).
		p("digitalocean-token", boot, `  token = "%s"`, g.doToken("o")).
		l(`}`).done()

	c.file("infra/.terraformrc").
		l(`credentials "app.terraform.io" {`).
		p("terraform-cloud-token", boot, `  token = "%s"`, g.tfcToken()).
		label("registry-credentials-file", boot, 2).
		l(`}`).done()

	c.file("infra/azure/main.tf").
		l(`provider "azurerm" {`, `  features {}`, `  client_id     = "0f0e0d0c-0b0a-4908-8706-050403020100"`).
		p("azure-ad-client-secret", boot, `  client_secret = "%s"`, g.azureClientSecret()).
		l(`}`, ``, `locals {`).
		p("azure-storage-key", boot, `  conn = "DefaultEndpointsProtocol=https;AccountName=acmetf;AccountKey=%s;EndpointSuffix=core.windows.net"`, g.azureAccountKey()).
		l(`}`).done()

	c.file("infra/r2/rclone.conf").
		l(`[r2]`, `type = s3`, `provider = Cloudflare`).
		p("cloudflare-r2-access-key", boot, `access_key_id = %s`, g.String(Hex, 32)).
		p("cloudflare-r2-access-key", boot, `secret_access_key = %s`, g.String(Hex, 64)).
		label("registry-credentials-file", boot, 5).
		l(`endpoint = https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com`).done()
}

func (g *Rand) helmAndK8s(c *Corpus) {
	c.file("helm/atlantis/values.yaml").
		l(`orgAllowlist: github.com/acme/*`, `atlantisUrl: https://atlantis.acme.dev`, `github:`, `  user: acme-atlantis`).
		p("atlantis-github-token", boot, `  token: %s`, g.String(Hex, 40)).
		p("atlantis-github-token", boot, `  secret: "%s"`, g.String(Alnum, 32)).
		l(`repoConfig: |`, `  repos:`, `  - id: /.*/`, `resources:`, `  requests:`, `    memory: 1Gi`).done()

	c.file("helm/atlantis/values-prod.yaml").
		l(`orgAllowlist: github.com/acme/*`, `vcsSecretName: atlantis-vcs`, `github:`, `  user: acme-atlantis`,
			`  token: ""`, `  secret: ${ATLANTIS_GH_WEBHOOK_SECRET}`).done()

	c.file("deploy/atlantis/deployment.yaml").
		l(`apiVersion: apps/v1`, `kind: Deployment`, `metadata:`, `  name: atlantis`, `spec:`, `  template:`, `    spec:`,
			`      containers:`, `        - name: atlantis`, `          image: ghcr.io/runatlantis/atlantis:v0.30.0`, `          env:`,
			`            - name: ATLANTIS_GH_USER`, `              value: acme-atlantis`, `            - name: ATLANTIS_GH_TOKEN`).
		p("atlantis-env-literal", boot, `              value: "%s"`, g.String(Alnum, 40)).
		l(`            - name: ATLANTIS_GH_WEBHOOK_SECRET`, `              valueFrom:`, `                secretKeyRef:`,
			`                  name: atlantis-webhook`, `                  key: secret`).done()

	c.file("k8s/apps/api/secret.yaml").
		l(`apiVersion: apps/v1`, `kind: Deployment`, `metadata:`, `  name: api`, `---`,
			`apiVersion: v1`, `kind: Secret`, `metadata:`, `  name: api`, `type: Opaque`, `stringData:`).
		p("k8s-secret-literal", run, `  DB_USER: api`).
		p("k8s-secret-literal", run, `  DB_PASSWORD: %s`, g.password()).
		p("database-url-password", run, `  DATABASE_URL: postgres://api:%s@db.internal:5432/api`, g.String(Alnum, 20)).
		p("slack-bot-token", run, `  SLACK_TOKEN: %s`, g.slackBot()).
		l(`data:`).
		p("k8s-secret-literal", run, `  api-key: %s`, g.String(B64, 44)).
		done()

	c.file("k8s/apps/api/sealed-secret.yaml").
		l(`apiVersion: bitnami.com/v1alpha1`, `kind: SealedSecret`, `metadata:`, `  name: api`, `spec:`, `  encryptedData:`,
			`    DB_PASSWORD: Ag`+g.String(B64, 300), `    api-key: Ag`+g.String(B64, 300)).done()

	c.file("k8s/apps/api/secret.enc.yaml").
		l(`apiVersion: v1`, `kind: Secret`, `metadata:`, `  name: api`, `stringData:`,
			`  DB_PASSWORD: ENC[AES256_GCM,data:`+g.String(B64, 24)+`,iv:`+g.String(B64, 43)+`=,tag:`+g.String(B64, 22)+`==,type:str]`,
			`sops:`, `  kms: []`, `  age:`, `    - recipient: age1`+g.String(Lower, 58), `  lastmodified: "2024-05-01T10:00:00Z"`,
			`  mac: ENC[AES256_GCM,data:`+g.String(B64, 60)+`,type:str]`, `  version: 3.8.1`).done()

	c.file("charts/api/templates/secret.yaml").
		l(`apiVersion: v1`, `kind: Secret`, `metadata:`, `  name: {{ include "api.fullname" . }}`, `type: Opaque`, `data:`,
			`  password: {{ .Values.db.password | b64enc | quote }}`, `  token: {{ required "token" .Values.token | b64enc }}`).done()

	c.file("k8s/apps/api/infisical-secret.yaml").
		l(`apiVersion: secrets.infisical.com/v1alpha1`, `kind: InfisicalSecret`, `metadata:`, `  name: api`, `spec:`,
			`  authentication:`, `    universalAuth:`, `      credentialsRef:`, `        secretName: universal-auth-credentials`,
			`        secretNamespace: infisical`, `  managedSecretReference:`, `    secretName: api`).done()

	// The operator's own credentials cannot come from Infisical: bootstrap.
	c.file("k8s/infisical/universal-auth.yaml").
		l(`apiVersion: v1`, `kind: Secret`, `metadata:`, `  name: universal-auth-credentials`, `  namespace: infisical`, `stringData:`).
		p("k8s-secret-literal", boot, `  clientSecret: %s`, g.String(Hex, 64)).done()

	// A certificate's key the ingress serves: runtime.
	c.file("k8s/apps/api/tls.yaml").
		l(`apiVersion: v1`, `kind: Secret`, `metadata:`, `  name: api-tls`, `type: kubernetes.io/tls`, `data:`).
		p("tls-private-key-base64", run, `  tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0t%s`, g.String(B64, 400)).done()

	c.file("k8s/apps/api/configmap.yaml").
		l(`apiVersion: v1`, `kind: ConfigMap`, `metadata:`, `  name: api`, `data:`, `  token_ttl: "3600"`,
			`  session_secret_name: api-session`, `  oauth_client_id: 6f1c2b9e-1d2a-4c3b-9e8f-7a6b5c4d3e2f`,
			`  image_digest: sha256:`+g.String(Hex, 64), `  commit_sha: `+g.String(Hex, 40)).done()

	c.file("clusters/prod/kubeconfig.yaml").
		l(`apiVersion: v1`, `kind: Config`, `clusters:`, `- cluster:`, `    certificate-authority-data: `+g.String(B64, 200),
			`    server: https://10.0.0.1:6443`, `  name: prod`, `users:`, `- name: admin`, `  user:`,
			`    client-certificate-data: `+g.String(B64, 300)).
		p("kubeconfig-client-key", boot, `    client-key-data: %s`, g.String(B64, 300)).
		l(`- name: ci`, `  user:`).
		p("kubeconfig-token", boot, `    token: %s`, g.String(Alnum, 48)).
		done()
}

func (g *Rand) envAndCompose(c *Corpus) {
	b := c.file("services/api/.env")
	b.p("dotenv-file", run, `NODE_ENV=production`)
	b.p("stripe-secret-key", run, `STRIPE_SECRET_KEY=%s`, g.stripeLive()).
		p("sendgrid-api-key", run, `SENDGRID_API_KEY=%s`, g.sendgrid()).
		p("openai-api-key", run, `OPENAI_API_KEY=%s`, g.openai()).
		p("anthropic-api-key", run, `ANTHROPIC_API_KEY=%s`, g.anthropic()).
		p("twilio-api-key", run, `TWILIO_AUTH_TOKEN=%s`, g.String(Hex, 32)).
		p("database-url-password", run, `REDIS_URL=rediss://:%s@cache.internal:6380/0`, g.String(Alnum, 32)).
		l(`TWILIO_ACCOUNT_SID=AC`+g.String(Hex, 32), `LOG_LEVEL=info`).done()

	c.file("services/api/.env.example").
		l(`NODE_ENV=development`, `STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx`).
		// A real-shaped test key leaks test data even in an example file.
		p("stripe-test-key", run, `STRIPE_TEST_KEY=%s`, g.stripeTest()).
		l(`SENDGRID_API_KEY=<your-sendgrid-key>`, `OPENAI_API_KEY=`, `DATABASE_URL=postgres://user:password@localhost:5432/app`,
			`REDIS_URL=redis://localhost:6379/0`).done()

	c.file("docker-compose.yml").
		l(`services:`, `  atlantis:`, `    image: ghcr.io/runatlantis/atlantis:v0.30.0`, `    environment:`).
		p("atlantis-env-literal", boot, `      - ATLANTIS_GH_WEBHOOK_SECRET=%s`, g.String(Alnum, 32)).
		l(`      - ATLANTIS_GH_TOKEN=${ATLANTIS_GH_TOKEN}`, `  db:`, `    image: mysql:8`, `    environment:`,
			`      MYSQL_ROOT_PASSWORD: ${MYSQL_ROOT_PASSWORD}`, `  app:`, `    environment:`).
		p("database-url-password", run, `      DATABASE_URL: mysql://app:%s@db:3306/app`, g.String(Alnum, 18)).
		l(`      LOCAL_DB: postgres://postgres:postgres@localhost:5432/dev`).done()

	c.file("scripts/bootstrap-atlantis.sh").
		l(`#!/usr/bin/env bash`, `set -euo pipefail`).
		p("atlantis-env-literal", boot, `export ATLANTIS_GH_TOKEN=%s`, g.String(Alnum, 36)).
		l(`export ATLANTIS_GH_WEBHOOK_SECRET="$(cat /run/secrets/webhook)"`, `atlantis server`).done()

	c.file("scripts/vault-login.sh").
		l(`#!/bin/sh`).
		p("vault-token", boot, `export VAULT_TOKEN=%s`, g.vaultToken()).
		l(`vault kv get secret/app`).done()

	c.file("ops/vault/agent.hcl").
		l(`vault {`, `  address = "https://vault.acme.dev:8200"`, `}`).
		p("vault-legacy-token", boot, `vault_token = "%s"`, g.vaultLegacy()).done()

	c.file("scripts/infisical-bootstrap.sh").
		l(`#!/bin/sh`).
		p("infisical-token", boot, `INFISICAL_TOKEN=%s infisical export --env=prod`, g.infisicalST()).
		p("infisical-token", boot, `export INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET=%s`, g.String(Hex, 64)).
		l(`export INFISICAL_UNIVERSAL_AUTH_CLIENT_ID=8f2d6c1a-4b3e-4d5f-9a8b-7c6d5e4f3a2b`).done()

	c.file("ops/aws/credentials").
		l(`[default]`).
		p("aws-access-key-id", boot, `aws_access_key_id = %s`, g.asia()).
		p("aws-secret-access-key", boot, `aws_secret_access_key = %s`, g.awsSecret()).
		p("aws-session-token", boot, `aws_session_token = %s`, g.String(B64, 300)).done()
}

func (g *Rand) ci(c *Corpus) {
	c.file(".github/workflows/deploy.yml").
		l(`name: deploy`, `on: push`, `jobs:`, `  deploy:`, `    runs-on: ubuntu-latest`, `    env:`,
			`      AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}`, `      AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}`).
		p("github-pat", boot, `      GH_TOKEN: %s`, g.ghp()).
		p("slack-bot-token", run, `      SLACK_BOT_TOKEN: %s`, g.slackBot()).
		l(`    steps:`, `      - uses: actions/checkout@v4`, `      - run: terraform apply -auto-approve`,
			`        env:`, `          TF_TOKEN_app_terraform_io: ${{ secrets.TFC_TOKEN }}`).done()

	c.file("scripts/release.sh").
		l(`#!/bin/sh`).
		p("github-fine-grained-pat", boot, `export GH_TOKEN=%s`, g.ghFine()).
		l(`gh release create "$1"`).done()

	c.file("tools/gh-app/cache.json").
		l(`{`).
		p("github-app-token", boot, `  "installation_token": "%s",`, g.ghs()).
		p("github-app-token", boot, `  "user_token": "%s",`, g.ghu()).
		p("github-oauth-token", boot, `  "oauth": "%s",`, g.gho()).
		p("github-refresh-token", boot, `  "refresh": "%s"`, g.ghr()).
		l(`}`).done()
}

func (g *Rand) code(c *Corpus) {
	c.file("services/api/config.go").
		l(`package config`, ``, `import (`, `	"net/http"`, `	"os"`, `)`, ``, `type DB struct {`, `	Secret string`, `}`, ``,
			`func Load(req *http.Request) DB {`, `	token := req.Header.Get("Authorization")`,
			`	password := os.Getenv("DB_PASSWORD")`, `	_ = token`, `	_ = password`).
		p("generic-api-secret", run, `	apiSecret := "%s"`, g.String(Alnum, 32)).
		p("stripe-secret-key", run, `	stripeKey := "%s"`, g.stripeRK()).
		l(`	_, _ = apiSecret, stripeKey`, `	secretName := "api"`, `	return DB{Secret: secretName}`, `}`, ``,
			`func getPassword() string { return os.Getenv("PASSWORD") }`).done()

	c.file("services/worker/settings.py").
		l(`import os`, ``, `DEBUG = False`).
		p("django-secret-key", run, `SECRET_KEY = "%s"`, g.String(Alnum, 50)). // Django's name in a settings.py
		l(`DATABASES = {`, `    "default": {`, `        "ENGINE": "django.db.backends.postgresql",`).
		p("generic-password", run, `        "PASSWORD": "%s",`, g.password()).
		l(`    },`, `    "replica": {"PASSWORD": os.environ["REPLICA_PASSWORD"]},`, `}`).
		p("slack-webhook", run, `SLACK_WEBHOOK = "%s"`, g.slackWebhook()).
		p("database-url-password", run, `BROKER_URL = "amqp://worker:%s@rabbitmq:5672/"`, g.String(Alnum, 20)).
		l(`token = None`, `api_key = os.environ.get("API_KEY")`).done()

	c.file("web/src/config.js").
		l(`export const config = {`, `  apiUrl: "https://api.acme.dev",`, `  token: process.env.API_TOKEN,`,
			`  apiKey: "<your-api-key>",`).
		p("jwt", run, `  serviceJwt: "%s",`, g.jwt()).
		p("database-url-password", run, `  mongo: "mongodb+srv://svc:%s@cluster0.mongodb.net/app",`, g.String(Alnum, 16)).
		p("twilio-api-key", run, `  twilioApiKey: "%s",`, g.twilioSK()).
		l(`};`).done()

	c.file("config/app.yaml").
		l(`server:`, `  port: 8080`, `smtp:`, `  host: smtp.acme.dev`, `  user: mailer`).
		p("generic-password", run, `  password: "%s"`, g.password()).
		l(`webhooks:`).
		p("generic-api-secret", run, `  signing_secret: %s`, g.String(Alnum, 40)).
		l(`  secret_name: webhook-signing`, `  token_header: X-Hub-Signature-256`).done()

	c.file("ci/registry.yaml").
		l(`registry:`, `  url: ghcr.io`).
		p("generic-api-secret", boot, `  registry_token: %s`, g.String(Alnum, 40)).done()

	c.file("config/notify.yaml").
		l(`notify:`, `  channel: "#deploys"`).
		p("service-named-key", run, `  slackKey: %s`, g.String(Alnum, 32)).
		l(`  sort_key: created_at`).done()
}

func (g *Rand) packaging(c *Corpus) {
	c.file(".npmrc").
		p("npm-token", boot, `//registry.npmjs.org/:_authToken=%s`, g.npmToken()).
		p("npmrc-auth", boot, `//npm.pkg.github.com/:_authToken=%s`, g.String(Alnum, 40)).
		l(`@acme:registry=https://npm.pkg.github.com`).done()

	c.file("web/.npmrc").
		l(`//registry.npmjs.org/:_authToken=${NPM_TOKEN}`, `always-auth=true`).done()

	c.file(".pypirc").
		l(`[pypi]`, `username = __token__`).
		p("pypi-token", boot, `password = %s`, g.pypiToken()).done()

	c.file("deploy/docker/config.json").
		l(`{`, `  "auths": {`, `    "ghcr.io": {`).
		p("docker-registry-auth", boot, `      "auth": "%s"`, g.String(B64, 40)+"=").
		l(`    }`, `  },`, `  "credsStore": "desktop"`, `}`).done()
}

func (g *Rand) keys(c *Corpus) {
	c.file("keys/deploy_key").block("private-key", boot, g.pem("OPENSSH "+"PRIVATE KEY", "", 6)).done()
	c.file("keys/deploy_key.pub").l("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA" + g.String(B64, 43) + " deploy@acme").done()

	c.file("ssh/id_ed25519").label("ssh-private-key-file", boot, 0).
		block("private-key", boot, g.pem("OPENSSH "+"PRIVATE KEY", "", 5)).done()

	c.file("secrets/signing.pem").label("private-key-file", boot, 1).
		block("private-key", boot, g.pem("EC "+"PRIVATE KEY", "", 3)).done()

	c.file("certs/tls.key").label("private-key-file", boot, 1).
		block("tls-private-key", run, g.pem("PRIVATE "+"KEY", "", 16)).done()

	c.file("gpg/release-signing.asc").
		block("private-key", boot, append([]string{"-----BEGIN PGP " + "PRIVATE KEY BLOCK-----", "Version: GnuPG v2", ""},
			g.pem("X", "", 10)[1:11]...)).
		l("="+g.String(B64, 4), "-----END PGP "+"PRIVATE KEY BLOCK-----").done()

	b := c.file("apps/github-app/values.yaml").
		l(`githubApp:`, `  appId: 123456`, `  installationId: 7890123`, `  privateKey: |`)
	b.block("github-app-private-key", boot, g.pem("RSA "+"PRIVATE KEY", "    ", 20)).done()

	c.file("k8s/ingress/tls-secret.yaml").
		l(`apiVersion: v1`, `kind: Secret`, `metadata:`, `  name: web-tls`, `type: kubernetes.io/tls`, `stringData:`,
			`  tls.crt: |`, `    -----BEGIN CERTIFICATE-----`, `    `+g.String(B64, 64), `    -----END CERTIFICATE-----`, `  tls.key: |`).
		label("k8s-secret-literal", run, 7).
		block("tls-private-key", run, g.pem("RSA "+"PRIVATE KEY", "    ", 12)).done()

	c.file("certs/client.p12").label("pkcs12-file", boot, 0).
		raw(append([]byte{0x30, 0x82, 0x0a, 0x00, 0x02, 0x01, 0x03}, []byte(g.String(B64, 200)+"\x00\x00")...))

	c.file("certs/ca.crt").
		l(`-----BEGIN CERTIFICATE-----`, g.String(B64, 64), g.String(B64, 64), `-----END CERTIFICATE-----`).done()
	c.file("certs/public.pem").
		l(`-----BEGIN PUBLIC KEY-----`, g.String(B64, 64), g.String(B64, 20), `-----END PUBLIC KEY-----`).done()
}

func (g *Rand) clouds(c *Corpus) {
	c.file("gcp/terraform-sa.json").
		l(`{`, `  "type": "service_account",`, `  "project_id": "acme-prod",`, `  "private_key_id": "`+g.String(Hex, 40)+`",`).
		p("gcp-service-account-key", boot, `  "private_key": "%s",`, g.pemJSON("PRIVATE "+"KEY")).
		l(`  "client_email": "terraform@acme-prod.iam.gserviceaccount.com",`, `  "client_id": "`+g.String(Digits, 21)+`"`, `}`).done()

	c.file("services/billing/azure.yaml").
		l(`storage:`).
		p("azure-storage-key", boot, `  connection: "DefaultEndpointsProtocol=https;AccountName=billing;AccountKey=%s"`, g.azureAccountKey()).done()
}

// lookalikes are files that must produce no finding.
func (g *Rand) lookalikes(c *Corpus) {
	c.file("docs/credentials.md").
		l(`# Credentials`, ``, "Never commit keys like `AKIAIOSFODNN7EXAMPLE` or", "`wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`.",
			"A classic token looks like `ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`.", ``, "```yaml", `password: changeme`,
			`api_key: <your-api-key>`, `token: ${GITHUB_TOKEN}`, `database_url: postgres://user:password@localhost/db`, "```",
			``, "Stripe test keys (`sk_test_...`) are reported too.", ``, "```", "-----BEGIN RSA "+"PRIVATE KEY-----", "...", "-----END RSA "+"PRIVATE KEY-----", "```").done()

	c.file("go.sum").
		l(`github.com/acme/lib v1.2.3 h1:`+g.String(B64, 43)+`=`, `github.com/acme/lib v1.2.3/go.mod h1:`+g.String(B64, 43)+`=`).done()

	c.file("web/package-lock.json").
		l(`{`, `  "packages": {`, `    "node_modules/left-pad": {`, `      "version": "1.3.0",`,
			`      "integrity": "sha512-`+g.String(B64, 86)+`=="`, `    }`, `  }`, `}`).done()

	c.file("web/dist/app.min.js").
		p("generic-api-secret", run, `var a={token:"%s",secret:"%s"};%s`, g.String(Alnum, 40), g.String(Alnum, 40), strings.Repeat("function f(){return 1};", 300)).
		label("generic-api-secret", run, 1).done() // a bundle ships what it was built with: two secrets

	c.file("infra/modules/db/main.tf").
		l(`variable "password" {`, `  type      = string`, `  sensitive = true`, `}`, ``, `resource "aws_db_instance" "this" {`,
			`  password            = var.password`, `  master_password     = local.generated_password`, `  secret_access_key   = data.vault_generic_secret.aws.data["secret_key"]`,
			`  token               = module.auth.token`, `  api_key             = lookup(var.keys, "api")`, `}`).done()

	c.file("helm/api/values.yaml").
		l(`image:`, `  repository: ghcr.io/acme/api`, `  tag: 1.4.2`, `env:`,
			`  DB_PASSWORD: "{{ .Values.global.dbPassword }}"`, `  API_TOKEN: '{{ requiredEnv "API_TOKEN" }}'`,
			`existingSecret: api-credentials`, `secretKeyRef:`, `  name: api`, `  key: token`,
			`externalSecret:`, `  password: vault:secret/data/api#password`, `  token: ref+vault://secret/api#token`,
			`  apiKey: infisical://prod/api/API_KEY`).done()

	c.file("services/api/auth.go").
		l(`package api`, ``, `import "net/http"`, ``,
			`// tokenFromRequest reads the bearer token.`,
			`func tokenFromRequest(r *http.Request) string {`,
			`	token := r.Header.Get("Authorization")`, `	secret := lookupSecret(token)`, `	password := hashPassword(secret)`,
			`	if password == "" {`, `		return token`, `	}`, `	return secret`, `}`, ``,
			`func lookupSecret(s string) string { return s }`, `func hashPassword(s string) string { return s }`).done()

	c.file("scripts/fetch-token.py").
		l(`import os`, `token = os.environ["GITHUB_TOKEN"]`, `password = getpass.getpass()`, `api_key = settings.API_KEY`,
			`secret = None`, `client_secret = "REPLACE_ME"`, `aws_secret_access_key = "YOUR_SECRET_ACCESS_KEY_HERE_0000000000000"`).done()

	c.file("web/src/api.ts").
		l(`const token = process.env.API_TOKEN ?? "";`, `const headers = { Authorization: "Bearer " + token };`,
			`export const secretName = "api-secret";`, `export const passwordMinLength = 12;`).done()

	c.file("k8s/base/kustomization.yaml").
		l(`apiVersion: kustomize.config.k8s.io/v1beta1`, `kind: Kustomization`, `secretGenerator:`, `  - name: api`, `    envs:`, `      - secrets.env.example`).done()

	c.file(".sops.yaml").
		l(`creation_rules:`, `  - path_regex: .*\.enc\.yaml$`, `    age: age1`+g.String(Lower, 58)).done()

	c.file("SHA256SUMS").
		l(g.String(Hex, 64)+`  housekeeper_linux_amd64.tar.gz`, g.String(Hex, 64)+`  housekeeper_darwin_arm64.tar.gz`).done()

	c.file("config/uuids.yaml").
		l(`tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47`, `client_id: 04b07795-8ddb-461a-bbee-02f9e1bf7b46`,
			`subscription_id: 0b1f6471-1bf0-4dda-aec3-111122223333`).done()

	c.file("ssh/known_hosts").
		l(`github.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ` + g.String(B64, 300)).done()
}
