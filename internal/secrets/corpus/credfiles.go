package corpus

import "strings"

// credentialFiles plants the typical leaked credential files, each in the
// shape its tool writes it.
func (g *Rand) credentialFiles(c *Corpus) {
	ts := "2025-03-04T05:06:07Z web-7f9c app[42]: "
	c.file("logs/web.log").
		l(ts+"starting", ts+"loaded signing key:").
		p("private-key-log-prefixed", boot, "%s-----BEGIN RSA PRIVATE KEY-----", ts).
		l(ts+g.String(B64, 64), ts+g.String(B64, 64), ts+g.String(B64, 64), ts+g.String(B64, 24)+"==", ts+"-----END RSA PRIVATE KEY-----", ts+"ready").done()
	c.file("home/ci/.netrc").
		l("machine api.heroku.com", "  login ci@acme.io").
		p("netrc-password", boot, "  password %s", g.String(Alnum, 24)).done()
	c.file("home/ci/.pgpass").
		l("# hostname:port:database:username:password").
		p("pgpass-password", run, "db.internal:5432:shop:shop:%s", g.String(Alnum, 18)).done()
	c.file("deploy/nginx/.htpasswd").
		p("htpasswd-file", run, "admin:$apr1$%s$%s", g.String(Alnum, 8), g.String(Alnum, 22)).
		label("password-hash", run, 1).
		p("htpasswd-plain-password", run, "metrics:%s", g.String(Alnum, 18)).done()
	c.file("services/mailer/mailer.ini").
		l("[smtp]", "host = smtp.acme.dev", "user = mailer").
		p("config-password-word", run, "password = %s", g.String(Lower, 11)).
		l("password_mode = required").done()
	c.file("firmware/gateway/README.md").
		l("# Gateway firmware", "", "Flash the image, then open http://192.168.1.1 and log in.").
		p("prose-password", run, "The default password for the user \"admin\" is \"%s\".", g.String(Lower, 9)).
		l("The password is required on first login.").done()
	c.file("docs/integrations/maps.md").
		l("Embed the map widget:", "", "```html").
		p("generic-key-value", run, `<map-widget key="%s7Qx"></map-widget>`, g.String(Alnum, 29)).
		l("```", `Use key="maps.widget.title" for the caption.`).done()
	c.file("ops/ftp/accounts.yml").
		l("ftp:", "  host: ftp.acme.dev", "  upload_passwords:").
		p("yaml-password-list", run, "    - %s", g.String(Alnum, 16)).
		l("  common_passwords:", "    - letmein2024").done()
	c.file("images/base/rootfs/etc/shadow").
		p("shadow-file", boot, "root:$6$%s$%s:19000:0:99999:7:::", g.String(Alnum, 8), g.String(Alnum, 86)).
		label("password-hash", boot, 1).
		l("daemon:*:19000:0:99999:7:::", "nobody:!:19000::::::").done()
	c.file("db/dumps/users.sql").
		l("-- MySQL dump", "LOCK TABLES `users` WRITE;").
		p("password-hash", run, "INSERT INTO `users` VALUES (1,'admin@acme.io','$2y$10$%s');", g.String(Alnum, 53)).
		l("UNLOCK TABLES;").done()
	c.file("apps/store/config/master.key").
		p("rails-master-key", run, "%s", g.String(Hex, 32)).done()
	c.file("apps/store/config/secrets.yml").
		l("production:").
		p("rails-secret-key-base", run, "  secret_key_base: %s", g.String(Hex, 128)).done()
	c.file("sites/blog/wp-config.php").
		l("<?php", "define( 'DB_NAME', 'blog' );", "define( 'DB_USER', 'blog' );").
		p("wordpress-config-secret", run, "define( 'DB_PASSWORD', '%s' );", g.String(Alnum, 16)).
		p("wordpress-config-secret", run, "define( 'NONCE_SALT', '%s' );", g.String(B64, 48)).done()
	c.file("build/NuGet.Config").
		l(`<configuration>`, `  <packageSourceCredentials>`, `    <acme>`, `      <add key="Username" value="ci" />`).
		p("nuget-config-password", boot, `      <add key="ClearTextPassword" value="%s" />`, g.String(Alnum, 20)).
		l(`    </acme>`, `  </packageSourceCredentials>`, `</configuration>`).done()
	c.file("build/.m2/settings.xml").
		l("<settings>", "  <servers>", "    <server>", "      <id>releases</id>", "      <username>deploy</username>").
		p("xml-credential-element", boot, "      <password>%s</password>", g.String(Alnum, 18)).
		l("    </server>", "  </servers>", "</settings>").done()
	c.file("keys/deploy.ppk").
		l("PuTTY-User-Key-File-3: ssh-ed25519", "Encryption: none", "Comment: deploy", "Public-Lines: 2", g.String(B64, 64), g.String(B64, 20), "Private-Lines: 1", g.String(B64, 44)).
		p("putty-private-key", boot, "Private-MAC: %s", g.String(Hex, 64)).done()
	c.file("tools/WinSCP.ini").
		l(`[Sessions\deploy@ftp.acme.io]`, "HostName=ftp.acme.io", "UserName=deploy").
		p("winscp-password", boot, "Password=%s", g.String(Hex, 48)).done()
	c.file(".pypirc").
		l("[pypi]", "username = __token__").
		p("registry-credentials-file", boot, "password = %s", g.String(Alnum, 40)).
		label("generic-password", boot, 3).done()
	c.file("legacy/.dockercfg").
		p("docker-config-file", boot, `{"https://index.docker.io/v1/": {"auth": "%s", "email": "ci@acme.io"}}`, g.String(B64, 40)).
		label("docker-registry-auth", boot, 1).done() // the file, and the auth value in it
	uuid := func() string {
		return g.String(Hex, 8) + "-" + g.String(Hex, 4) + "-" + g.String(Hex, 4) + "-" + g.String(Hex, 4) + "-" + g.String(Hex, 12)
	}
	c.file("deploy/vault/approle-login.sh").
		l("#!/bin/sh", "vault write auth/approle/login \\", "    role_id="+uuid()+" \\").
		p("vault-approle-secret-id", boot, "    secret_id=%s", uuid()).done()
	c.file("deploy/k8s/mounted/api.token").
		p("mounted-secret-file", run, "%s", g.String(B64, 44)).done() // a Secret's key as the Pod sees it: the bare value
	c.file("android/app/release.keystore").label("keystore-file", boot, 0).raw([]byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2})
	c.file("ops/passwords.kdbx").label("keepass-file", boot, 0).raw([]byte{0x03, 0xd9, 0xa2, 0x9a, 0x67, 0xfb, 0x4b, 0xb5, 0})
	c.file("home/dev/.dbeaver/credentials-config.json").label("dbeaver-credentials-file", run, 0).raw([]byte{0x9a, 0x12, 0, 0x44})
	c.file("home/dev/.config/gcloud/application_default_credentials.json").
		l(`{`, `  "client_id": "`+g.String(Digits, 12)+`-`+g.String(Lower, 32)+`.apps.googleusercontent.com",`).
		p("gcp-oauth-refresh-token", boot, `  "refresh_token": "1//0%s",`, g.String(B64URL, 100)).
		l(`  "type": "authorized_user"`, `}`).label("gcloud-credentials-file", boot, 0).done()

	g.appAndToolCredentials(c)
}

// appAndToolCredentials plants the application secrets of web frameworks
// and the saved passwords of deployment and database tools, each where
// and how the framework or tool writes it.
func (g *Rand) appAndToolCredentials(c *Corpus) {
	c.file("sites/shop/wp-config.php").
		l("<?php", "define( 'DB_NAME', 'shop' );").
		p("wordpress-salt", run, "define( 'AUTH_KEY',         '%s<}%s%%(#%s' );", g.String(Alnum, 20), g.String(B64, 20), g.String(Alnum, 19)).
		p("wordpress-salt", run, "define( 'LOGGED_IN_SALT',   '%s{{%s ${%s' );", g.String(Alnum, 20), g.String(B64, 20), g.String(Alnum, 19)).done() // 64 characters, as WordPress's generator writes
	c.file("apps/portal/portal/settings.py").
		l("from pathlib import Path", "", "BASE_DIR = Path(__file__).resolve().parent.parent").
		p("django-secret-key", run, "SECRET_KEY = 'django-insecure-%s$(%s*(-_=+)%s'", g.String(Lower, 20), g.String(Lower, 20), g.String(Digits, 4)).
		l("DEBUG = False").done()
	c.file("apps/billing/.env.production").
		l("APP_NAME=Billing", "APP_ENV=production").
		p("laravel-app-key", run, "APP_KEY=base64:%s=", g.String(B64, 43)).
		label("dotenv-file", run, 1).done() // the file finding points at its first value
	c.file("sites/blog/sftp-config.json").
		l(`{`, `    "type": "sftp",`, `    "host": "www.acme.io",`, `    "user": "deploy",`).
		p("editor-deployment-password", boot, `    "password": "%s",`, g.password()).
		l(`    "remote_path": "/var/www/blog/"`, `}`).done()
	c.file("sites/blog/.idea/webServers.xml").
		l(`<project version="4">`, `  <component name="WebServers">`, `    <webServer id="1" name="prod" url="https://www.acme.io">`).
		p("jetbrains-deployment-password", boot, `      <fileTransfer host="www.acme.io" port="21" password="%s" username="deploy" />`, g.String(Hex, 48)).
		l(`    </webServer>`, `  </component>`, `</project>`).done()
	c.file("home/dev/.config/hub").
		l("github.com:", "- user: acme-dev").
		p("hub-config-token", boot, "  oauth_token: %s", g.String(Hex, 40)).
		l("  protocol: https").done()
	c.file("home/dev/.tugboat").
		l("---", "authentication:").
		p("tugboat-config-token", boot, "  access_token: %s", g.String(Hex, 64)).
		l("defaults:", "  region: ams3").done()
	c.file("home/dev/.3T/robo-3t/1.4.4/robo3t.json").
		l(`{`, `  "connections": [{`, `    "credentials": [{`, `      "userName": "shop",`).
		p("robo3t-password", run, `      "userPassword": "%s"`, g.password()).
		l(`    }],`, `    "sshUserName": "ops",`).
		p("robo3t-password", boot, `    "sshUserPassword": "%s"`, g.password()).
		l(`  }]`, `}`).done()
	c.file("db/dumps/mysql-users.sql").
		l("-- MySQL dump").
		p("mysql-native-password-hash", run, "CREATE USER 'shop'@'%%' IDENTIFIED WITH mysql_native_password AS '*%s';", strings.ToUpper(g.String(Hex, 40))).done()
	c.file("ci/.circleci/config.yml").
		l("version: 2.1", "jobs:", "  build:", "    docker:", "      - image: acme/ci:1", "        auth:", "          username: acmebot").
		p("circleci-docker-auth-password", boot, "          password: %s", g.password()).
		l("    steps:", "      - checkout").done()
	c.file("ops/kubeadm/join.sh").
		l("#!/bin/sh").
		p("kubeadm-bootstrap-token", boot, "kubeadm join cp.acme.dev:6443 --token %s.%s \\", strings.ToLower(g.String(Lower, 6)), strings.ToLower(g.String(Lower, 16))).
		l("  --discovery-token-ca-cert-hash sha256:"+g.String(Hex, 64)+" \\").
		p("kubeadm-certificate-key", boot, "  --control-plane --certificate-key %s", g.String(Hex, 64)).done()
	c.file("infra/scaleway/config.yaml").
		l("profiles:", "  prod:").
		p("scaleway-access-key-id", boot, "    access_key: SCW%s", g.String(Upper, 17)).
		p("scaleway-secret-key-config", boot, "    secret_key: %s-%s-%s-%s-%s", g.String(Hex, 8), g.String(Hex, 4), g.String(Hex, 4), g.String(Hex, 4), g.String(Hex, 12)).done()
	c.file("apps/exporter/rclone-b2.toml").
		l("[storage]", `endpoint = "https://s3.us-west-004.backblazeb2.com"`).
		p("backblaze-b2-key-id", boot, `key_id = "004%s"`, g.String(Hex, 22)).
		p("backblaze-b2-key-context", boot, `secret = "K004%s"`, g.String(B64, 27)).done()
	c.file("deploy/nginx/metrics.conf").
		l("location /metrics {").
		p("nginx-credential-header", run, `  proxy_set_header Authorization "Basic %s";`, g.String(B64, 32)).
		l("  proxy_pass http://127.0.0.1:9100;", "}").done()
	c.file("apps/shop/config/prod.exs").
		l("import Config", "config :shop, ShopWeb.Endpoint,", `  url: [host: "shop.acme.io", port: 443],`).
		p("phoenix-secret-key-base", run, `  secret_key_base: "%s"`, g.String(B64, 64)).done()
	c.file("apps/billing/appsettings.json").
		l(`{`, `  "Jwt": {`).
		p("jwt-signing-key-named", run, `    "SigningKey": "%s",`, g.String(B64, 44)).
		l(`    "Issuer": "billing"`, `  }`, `}`).done()
	c.file("apps/portal/appsettings.json").
		l(`{`, `  "AzureAd": {`, `    "Instance": "https://login.microsoftonline.com/",`, `    "ClientId": "portal",`).
		p("azure-ad-app-client-secret", run, `    "ClientSecret": "%s8Q~%s"`, g.String(Alnum, 3), g.String(Alnum, 34)).
		l(`  }`, `}`).done()
	c.file("apps/ios/Secrets.swift").
		l("enum Secrets {").
		p("algolia-admin-key", run, `    static let algoliaAdminKey = "%s"`, g.String(Hex, 32)).
		l("}").done()
	c.file("home/dba/.bash_history").
		l("cd /srv/backups").
		p("mysql-cli-password", run, "mysqldump -h db.internal -u backup -p%s shop > shop.sql", g.String(Alnum, 16)).done()
	c.file("deploy/heroku/app.json").
		l(`{`, `  "name": "shop",`).
		p("heroku-named-api-key", boot, `  "HEROKU_API_KEY": "%s"`, g.String(Hex, 32)).
		l(`}`).done()
	c.file("scripts/fetch-reports.sh").
		l("#!/bin/sh", "curl -sS --fail \\").
		p("curl-tls-password", run, "    --tlsuser reports --tlspassword %s \\", g.String(Alnum, 18)).
		l("    https://reports.internal/daily.csv").done()
	c.file("apps/erp/src/main/resources/datasource.yml").
		l("datasource:").
		p("url-query-password", run, `  url: "jdbc:mysql://db.internal:3306/erp?user=erp&password=%s&useSSL=true"`, g.String(Alnum, 16)).done()
	c.file("deploy/compose/worker.sh").
		l("#!/bin/sh", "set -eu").
		p("shell-default-secret", run, "export QUEUE_API_TOKEN=${QUEUE_API_TOKEN:-%s}", g.String(Alnum, 28)).
		l("exec worker --queue default").done()
	c.file("services/legacy/Dockerfile").
		l("FROM python:3.12-slim", "ENV PYTHONUNBUFFERED 1").
		p("dockerfile-env-secret", run, "ENV PAYMENTS_API_KEY %s", g.String(Alnum, 32)).
		l(`CMD ["gunicorn", "app:app"]`).done()
	c.file("libs/client/build.gradle").
		l("publishing {", "    repositories {", "        maven {", `            url "https://nexus.acme.io/repository/releases/"`, "            credentials {", `                username "publisher"`).
		p("gradle-repository-password", boot, `                password "%s"`, g.String(Alnum, 20)).
		l("            }", "        }", "    }", "}").done()
	c.file("src/Shop.Web/Web.config").
		l(`<configuration>`, `  <appSettings>`, `    <add key="SmtpHost" value="smtp.acme.io" />`, `    <add key="SmtpUser" value="shop" />`).
		p("dotnet-appsettings-secret", run, `    <add key="SmtpPassword" value="%s" />`, g.String(Alnum, 18)).
		l(`  </appSettings>`, `</configuration>`).done()
	c.file("src/Shop.Jobs/ReportMailer.cs").
		l("using System.Net;", "", "class ReportMailer {", "    SmtpClient Client() {", `        var c = new SmtpClient("smtp.acme.io");`).
		p("dotnet-network-credential", run, `        c.Credentials = new NetworkCredential("reports@acme.io", "%s");`, g.String(Alnum, 16)).
		l("        return c;", "    }", "}").done()
	c.file("src/Shop.Web/appsettings.Production.json").
		l(`{`, `  "ConnectionStrings": {`).
		p("azure-app-configuration-connection-string", run, `    "AppConfig": "Endpoint=https://shop-prod.azconfig.io;Id=%s-l0-s0:%s;Secret=%s="`, g.String(Alnum, 4), g.String(B64, 20), g.String(B64, 43)).
		l(`  }`, `}`).done()
	c.file("ops/vpn/wg0.conf").
		l("[Interface]", "Address = 10.8.0.2/32").
		p("wireguard-private-key", boot, "PrivateKey = %s=", g.String(B64, 43)).
		l("", "[Peer]", "PublicKey = "+g.String(B64, 43)+"=", "Endpoint = vpn.acme.io:51820", "AllowedIPs = 10.8.0.0/24").done()
	c.file("apps/shop/newrelic.yml").
		l("common: &default_settings", "  # Required license key associated with your New Relic account.").
		p("new-relic-license-key-named", run, "  license_key: %s", g.String(Hex, 40)).
		l("  app_name: shop").done()
	c.file("ops/windows/restart-iis.bat").
		l("@echo off", "rem restart IIS on the web farm").
		p("psexec-password", boot, `psexec \\web01 -u ACME\svc-deploy -p %s iisreset /restart`, g.String(Alnum, 14)).done()
	// Newer formats: Cloudflare's scannable tokens, GitHub's stateless
	// installation tokens (ghs_ + app id + a JWT), Vercel app tokens.
	c.file("ops/deploy/edge.yaml").
		l("edge:", "  zone: shop.acme.io").
		p("cloudflare-api-token", boot, "  cloudflare: cf"+"ut_%s%s", g.String(Alnum, 40), g.String(Hex, 8)).
		p("github-app-token", boot, "  installation: gh"+"s_%s_eyJ%s.eyJ%s.%s", g.String(Digits, 7), g.String(B64URL, 33), g.String(B64URL, 300), g.String(B64URL, 342)).
		p("vercel-token", boot, "  vercel: vc"+"a_%s", g.String(Alnum, 56)).done()
	c.file("ops/vpn/tailnet.env").
		l("# joins the CI runners to the tailnet").
		p("tailscale-key", boot, "TS_AUTHKEY=tskey-"+"auth-%sCNTRL-%s", g.String(Alnum, 7), g.String(Alnum, 33)).
		p("tailscale-webhook-secret", run, "TS_WEBHOOK_SECRET=tskey-"+"webhook-%sCNTRL-%s", g.String(Alnum, 8), g.String(Alnum, 33)).
		label("dotenv-file", run, 2).done()
	c.file("ci/provision.sh").
		l("#!/bin/sh", "# the release job fetches tagged builds with curl --netrc", "cat > \"$HOME/.netrc\" <<EOF", "machine artifacts.acme.io", "  login ci").
		p("netrc-entry-password", boot, "  password %s", g.String(Alnum, 28)).
		l("EOF", `chmod 600 "$HOME/.netrc"`).done()
	c.file("docs/handover.md").
		l("# Billing exports", "", "The nightly export writes to the S3 bucket acme-billing-exports.", "").
		p("aws-access-key-id", boot, "AWS access key: "+"AK"+"IA%s", g.String(B32, 16)).
		p("aws-secret-access-key-labelled", boot, "Secret access key: %s", g.String(B64, 40)).done()
	c.file("legacy/Reports/Db.vb").
		l("Imports System.Data.OleDb", "", "Module Db", "    Function Open() As OleDbConnection").
		p("connection-string-password", run, `        Return New OleDbConnection("Provider=SQLOLEDB.1;Data Source=sql01;Initial Catalog=Reports;User ID=reports;Password=%s;")`, g.String(Alnum, 12)).
		l("    End Function", "End Module").done()
}
