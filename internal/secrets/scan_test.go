package secrets_test

import (
	"context"
	"errors"
	"go/parser"
	"go/token"
	"io"
	iofs "io/fs"
	"iter"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

func TestFileRules(t *testing.T) {
	pem := "-----BEGIN " + "EC PRIVATE KEY-----\n" + corpus.NewRand(5).String(corpus.B64, 64) + "\n-----END " + "EC PRIVATE KEY-----\n"
	tests := map[string]struct {
		path, content string
		want          string // the file rule expected, "" for none
	}{
		"tfstate":                  {"infra/terraform.tfstate", "{}", "terraform-state-file"},
		"tfstate backup":           {"infra/terraform.tfstate.backup", "{}", "terraform-state-file"},
		"env with values":          {"svc/.env", "# comment\nPORT=8080\n", "dotenv-file"},
		"env.production":           {"svc/.env.production", "A=b", "dotenv-file"},
		"env without values":       {"svc/.env", "# only comments\nEMPTY=\nREF=${X}\n", ""},
		"env of stand-ins":         {"svc/db.env", "DATABASE_URL=postgresql://username:password@localhost:5432/database\nREDIS_URL=redis://:your-password-here@localhost:6379/0\nDB_USER=your_username\nSF_PASSWORD=<your_password>\n", ""},
		"env stand-ins, one value": {"svc/db.env", "DB_USER=your_username\nDB_HOST=db.internal\n", "dotenv-file"},
		"env.example":              {"svc/.env.example", "PORT=8080\n", ""},
		"env.sample":               {"svc/.env.sample", "PORT=8080\n", ""},
		"env.template":             {"svc/.env.template", "PORT=8080\n", ""},
		"id_rsa":                   {"home/.ssh/id_rsa", "x", "ssh-private-key-file"},
		"id_ed25519":               {"id_ed25519", "x", "ssh-private-key-file"},
		"id_rsa.pub":               {"home/.ssh/id_rsa.pub", "ssh-rsa AAAAB3Nza x@y", ""},
		"p12":                      {"certs/client.p12", "\x00\x01", "pkcs12-file"},
		"pfx":                      {"certs/client.pfx", "x", "pkcs12-file"},
		"pem with key":             {"certs/key.pem", pem, "private-key-file"},
		"key with key":             {"certs/server.key", pem, "private-key-file"},
		"pem with cert":            {"certs/ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", ""},
		"pem with public key":      {"certs/pub.pem", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n", ""},
	}
	s := newScanner(t, secrets.Options{})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var fileRules []string
			for _, f := range s.ScanContent(tc.path, []byte(tc.content)) {
				if f.Kind == secrets.KindFile {
					fileRules = append(fileRules, f.RuleID)
					if f.Redacted != "" {
						t.Errorf("file finding with Redacted %q", f.Redacted)
					}
					if f.Fingerprint != secrets.Fingerprint(f.RuleID, tc.path, "") {
						t.Errorf("file finding fingerprint is not over the empty value")
					}
				}
			}
			var want []string
			if tc.want != "" {
				want = []string{tc.want}
			}
			if !reflect.DeepEqual(fileRules, want) {
				t.Errorf("file rules %v, want %v", fileRules, want)
			}
		})
	}
}

// TestNoFalsePositives: look-alikes that must not produce any finding.
func TestNoFalsePositives(t *testing.T) {
	g := corpus.NewRand(9)
	tests := map[string]struct{ path, content string }{
		"placeholders": {"config/app.yaml", "password: changeme\napi_key: <your-api-key>\ntoken: ${TOKEN}\nsecret: \"{{ .Values.secret }}\"\n" +
			"client_secret: $(cat /run/secret)\npassword: \"%s\"\ntoken: xxxxxxxxxxxxxxxx\npassword: \"********\"\npassword: aaaaaaaaaaaa\n" +
			"api_key: dummy-api-key-123\napi_token: fake_token_12345\nsecret: sample-secret-99\napi_key: your_api_key_here\n" +
			"token: REPLACE_ME\npassword: TODO\npassword: null\nsecret: none\npassword: true\n" +
			"password: REPLACE_WITH_PASSWORD\nurl: mysql://admin:REPLACE_WITH_PASSWORD@db.internal:3306/app\n"},
		"references": {"infra/main.tf", "password = var.db_password\ntoken = local.token\nsecret = data.vault_generic_secret.x.data[\"k\"]\n" +
			"api_key = env(\"API_KEY\")\n"},
		"code references": {"svc/main.go", "package main\nfunc f() {\n\tpassword := os.Getenv(\"PW\")\n\ttoken := req.Header.Get(\"X-Token\")\n" +
			"\tsecret := secretName\n\tapiKey := cfg.APIKey\n\tpassword = getPassword()\n}\n"},
		"python references": {"svc/settings.py", "password = os.environ['PW']\ntoken = os.getenv('TOKEN')\napi_key = settings.API_KEY\n"},
		"js references":     {"web/cfg.js", "const token = process.env.API_TOKEN;\nconst secret = config.secret;\n"},
		"k8s references": {"k8s/deploy.yaml", "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef: {name: db, key: password}\n" +
			"password: vault:secret/data/db#password\ntoken: ref+vault://secret/app#token\napi_key: infisical://prod/API_KEY\n"},
		"public keys and certs": {"keys/all.txt", "-----BEGIN PUBLIC KEY-----\n" + g.String(corpus.B64, 64) + "\n-----END PUBLIC KEY-----\n" +
			"-----BEGIN CERTIFICATE-----\n" + g.String(corpus.B64, 64) + "\n-----END CERTIFICATE-----\n" +
			"ssh-rsa AAAAB3NzaC1yc2E" + g.String(corpus.B64, 300) + " me@host\n"},
		"hashes": {"ci/build.yaml", "checksum: sha256:" + g.String(corpus.Hex, 64) + "\nintegrity: sha512-" + g.String(corpus.B64, 86) + "==\n" +
			"token_sha256: " + g.String(corpus.Hex, 64) + "\nsecret_hash: " + g.String(corpus.Hex, 40) + "\n"},
		"uuids":                   {"config/ids.yaml", "client_id: 04b07795-8ddb-461a-bbee-02f9e1bf7b46\nsecret_id: 72f988bf-86f1-41af-91ab-2d7cd011db47\n"},
		"identifiers":             {"config/app.yaml", "secret: secretName\nsecret_name: app-credentials\ntoken_header: X-Auth-Token\npassword_file: /run/secrets/db\ntoken_ttl: 3600\n"},
		"aws docs keys":           {"README.md", "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"},
		"kube cert data":          {"kubeconfig", "apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user:\n    client-certificate-data: " + g.String(corpus.B64, 200) + "\n"},
		"lock file integrity":     {"package-lock.json", `{"resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz", "integrity": "sha512-` + g.String(corpus.B64, 86) + `=="}`},
		"binary":                  {"bin/tool", "\x00\x01password = \"" + g.String(corpus.Alnum, 20) + "\""},
		"prose":                   {"docs/x.md", "token: \"bitwise complement\"\nThe password: must be at least 12 characters.\n"},
		"test fixtures":           {"svc/auth_test.go", "package svc\nvar pw = struct{ Password string }{Password: \"" + g.String(corpus.Alnum, 16) + "\"}\n"},
		"sops dotenv":             {"svc/secrets.enc.env", "DB_PASSWORD=ENC[AES256_GCM,data:abc,type:str]\nsops_version=3.8.1\nsops_mac=ENC[AES256_GCM,data:x]\n"},
		"db url without password": {"config/db.yaml", "url: postgres://db.internal:5432/app\nurl2: postgres://user@db/app\nurl3: postgres://postgres:postgres@localhost/dev\n"},
	}
	s := newScanner(t, secrets.Options{})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if fs := s.ScanContent(tc.path, []byte(tc.content)); len(fs) > 0 {
				t.Errorf("want no findings, got %v", got(fs))
			}
		})
	}
}

// TestSpecificity: one value matched by several rules gives one finding,
// from the most specific rule, and repeats of a value give one finding.
func TestSpecificity(t *testing.T) {
	g := corpus.NewRand(13)
	ghp := "gh" + "p_" + g.String(corpus.Alnum, 36)
	slack := "xo" + "xb-" + g.String(corpus.Digits, 12) + "-" + g.String(corpus.Digits, 13) + "-" + g.String(corpus.Alnum, 24)
	tests := map[string]struct {
		path, content string
		want          []string
	}{
		"token format over generic": {"config/app.yaml", "api_token: " + ghp + "\n", []string{"github-pat@1:12"}},
		"token format over structural": {"k8s/s.yaml", "apiVersion: v1\nkind: Secret\nstringData:\n  SLACK: " + slack + "\n  OTHER: x\n",
			[]string{"slack-bot-token@4:10", "k8s-secret-literal@5:10"}},
		"structural over generic": {"k8s/s.yaml", "apiVersion: v1\nkind: Secret\nstringData:\n  password: Zq8vN3pL0sR7tY2wK5mB\n",
			[]string{"k8s-secret-literal@4:13"}},
		"url over generic":           {"config/app.yaml", "db_password: postgres://app:Zq8vN3pL0sR7@db/app\n", []string{"database-url-password@1:29"}},
		"same value twice":           {"ci.yml", "a: " + ghp + "\nb: " + ghp + "\n", []string{"github-pat@1:4", "github-pat@2:4"}},
		"same value twice on a line": {"ci.yml", "a: " + ghp + " " + ghp + "\n", []string{"github-pat@1:4"}},
		"generic bootstrap by file":  {"infra/main.tf", "password = \"Zq8vN3pL0sR7tY2w\"\n", []string{"generic-password@1:13"}},
	}
	s := newScanner(t, secrets.Options{})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fs := s.ScanContent(tc.path, []byte(tc.content))
			if g := got(fs); !reflect.DeepEqual(g, tc.want) {
				t.Errorf("got %v, want %v", g, tc.want)
			}
		})
	}
	fs := s.ScanContent("infra/main.tf", []byte("password = \"Zq8vN3pL0sR7tY2w\"\n"))
	if len(fs) != 1 || fs[0].Tier != secrets.Bootstrap {
		t.Errorf("generic assignment in a .tf file: want bootstrap, got %+v", fs)
	}
}

func TestAllowedAndIgnore(t *testing.T) {
	tok := "gh" + "p_" + corpus.NewRand(17).String(corpus.Alnum, 36)
	fp := secrets.Fingerprint("github-pat", "ci.yml", tok)
	s := newScanner(t, secrets.Options{Ignore: map[string]string{fp: "revoked test token"}})
	fs := s.ScanContent("ci.yml", []byte("a: "+tok+" # housekeeper:allow\n"))
	if len(fs) != 1 {
		t.Fatalf("suppressed findings are kept: got %v", fs)
	}
	if !fs[0].Allowed || !fs[0].Suppressed || fs[0].SuppressedBy != "secrets.ignore: revoked test token" {
		t.Errorf("got %+v", fs[0])
	}
}

// detect-secrets' inline allowlist comments (current and legacy spelling)
// mark a line as housekeeper:allow does, and the finding names the marker
// the line carries (the first, when there are several); the caller
// decides where that counts. A similar comment that is not the pragma
// does not.
func TestDetectSecretsPragmaAllows(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	tok := "gh" + "p_" + corpus.NewRand(18).String(corpus.Alnum, 36)
	for _, tc := range []struct {
		line string
		by   string // "" when not allowed
	}{
		{"token = '" + tok + "'  # pragma: allowlist secret\n", "pragma: allowlist secret"},
		{"token = '" + tok + "'  # pragma: whitelist secret\n", "pragma: whitelist secret"},
		{"token = '" + tok + "'  # housekeeper:allow\n", "housekeeper:allow"},
		{"token = '" + tok + "'  # pragma: allowlist secret housekeeper:allow\n", "pragma: allowlist secret"},
		{"token = '" + tok + "'  # housekeeper:allow pragma: allowlist secret\n", "housekeeper:allow"},
		{"token = '" + tok + "'  # pragma: no cover\n", ""},
		{"token = '" + tok + "'\n# pragma: allowlist secret\n", ""},
	} {
		fs := s.ScanContent("app/settings.py", []byte(tc.line))
		if len(fs) != 1 {
			t.Fatalf("%q: want one finding, got %v", tc.line, fs)
		}
		allowed := tc.by != ""
		if fs[0].Allowed != allowed || fs[0].AllowedBy != tc.by || (allowed && fs[0].AllowedLine != 1) {
			t.Errorf("%q: allowed %v by %q (line %d), want by %q", tc.line, fs[0].Allowed, fs[0].AllowedBy, fs[0].AllowedLine, tc.by)
		}
	}
}

func TestExcludePaths(t *testing.T) {
	s := newScanner(t, secrets.Options{ExcludePaths: []string{"**/testdata/**"}})
	if fs := s.ScanContent("a/testdata/x.env", []byte("A=1")); len(fs) != 0 {
		t.Errorf("excluded path scanned: %v", fs)
	}
	if _, err := secrets.New(secrets.Options{ExcludePaths: []string{"["}}); err == nil {
		t.Error("invalid exclude glob: no error")
	}
}

func TestScanTree(t *testing.T) {
	tok := "gh" + "p_" + corpus.NewRand(19).String(corpus.Alnum, 36)
	big := strings.Repeat("token: "+tok+"\n", 100)
	files := []secrets.File{
		secrets.ContentFile("a/ci.yml", []byte("token: "+tok+"\n")),
		secrets.ContentFile("big.yml", []byte(big)),
		secrets.ContentFile("big.tfstate", []byte(big)),
		secrets.ContentFile("bin/blob", []byte("\x00"+"token: "+tok)),
		secrets.ContentFile("go.sum", []byte("token: "+tok)),
		secrets.ContentFile("vendor/x.yml", []byte("token: "+tok)),
		{Path: "broken.yml", Size: 10, Open: func() (io.ReadCloser, error) { return nil, errors.New("disk on fire") }},
		{Path: "liar.yml", Size: 1, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(big)), nil }},
	}
	s := newScanner(t, secrets.Options{MaxFileSize: 1000, ExcludePaths: []string{"vendor/**"}, Workers: 3})
	res, err := s.ScanTree(context.Background(), seq(files))
	if err != nil {
		t.Fatal(err)
	}
	// A lock file is text, and scanned.
	if g, want := got(res.Findings), []string{"github-pat@1:8", "terraform-state-file@0:0", "github-pat@1:8"}; !reflect.DeepEqual(g, want) {
		t.Errorf("findings %v, want %v", g, want)
	}
	var skipped []string
	for _, sk := range res.Skipped {
		skipped = append(skipped, sk.Path+": "+string(sk.Reason))
	}
	want := []string{"big.tfstate: larger than max_file_size", "big.yml: larger than max_file_size",
		"bin/blob: binary (a NUL byte in its first 8 KiB)", "broken.yml: could not be read", "liar.yml: larger than max_file_size"}
	if !reflect.DeepEqual(skipped, want) {
		t.Errorf("skipped %v, want %v", skipped, want)
	}
	if res.Stats.Files != 8 || res.Stats.Binary != 1 || res.Stats.Excluded != 1 || res.Stats.ScannedFiles != 2 {
		t.Errorf("stats %+v", res.Stats)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.ScanTree(ctx, seq(files)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	failing := func(yield func(secrets.File, error) bool) { yield(secrets.File{}, errors.New("walk failed")) }
	if _, err := s.ScanTree(context.Background(), failing); err == nil || !strings.Contains(err.Error(), "walk failed") {
		t.Errorf("source error: err = %v", err)
	}
}

func seq(files []secrets.File) iter.Seq2[secrets.File, error] {
	return func(yield func(secrets.File, error) bool) {
		for _, f := range files {
			if !yield(f, nil) {
				return
			}
		}
	}
}

// TestPureEngine: the engine imports no GitHub, HTTP or config package.
func TestPureEngine(t *testing.T) {
	paths, _ := filepath.Glob("*.go")
	forbidden := []string{"net/http", "github.com/google/go-github", "github.com/palantir/go-githubapp", "internal/config", "os/exec"}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			for _, bad := range forbidden {
				if strings.Contains(imp.Path.Value, bad) {
					t.Errorf("%s imports %s", p, imp.Path.Value)
				}
			}
		}
	}
}

// sizedReader is an opened file that knows its size (as an *os.File does)
// and counts its reads.
type sizedReader struct {
	io.Reader
	size  int64
	reads *int
}

func (r sizedReader) Read(p []byte) (int, error) { *r.reads++; return r.Reader.Read(p) }
func (r sizedReader) Close() error               { return nil }
func (r sizedReader) Stat() (iofs.FileInfo, error) {
	return sizedInfo(r.size), nil
}

type sizedInfo int64

func (i sizedInfo) Name() string        { return "f" }
func (i sizedInfo) Size() int64         { return int64(i) }
func (i sizedInfo) Mode() iofs.FileMode { return 0 }
func (i sizedInfo) ModTime() time.Time  { return time.Time{} }
func (i sizedInfo) IsDir() bool         { return false }
func (i sizedInfo) Sys() any            { return nil }

// A file listed without its size (-1, a directory walk that reads names
// alone) is judged by the size its opened reader reports: over
// max_file_size it is skipped unread, exactly as a file whose size was
// given; within it, scanned and counted. A reader that cannot tell its
// size is read up to the limit.
func TestScanTreeLearnsSizesOnOpen(t *testing.T) {
	tok := "gh" + "p_" + corpus.NewRand(23).String(corpus.Alnum, 36)
	line := "token: " + tok + "\n"
	big := strings.Repeat(line, 30) // over the 1000-byte limit
	var bigReads, smallReads int
	open := func(content string, reads *int) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) {
			return sizedReader{strings.NewReader(content), int64(len(content)), reads}, nil
		}
	}
	files := []secrets.File{
		{Path: "big.yml", Size: -1, Open: open(big, &bigReads)},
		{Path: "small.yml", Size: -1, Open: open(line, &smallReads)},
		{Path: "plain.yml", Size: -1, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(big)), nil }},
	}
	s := newScanner(t, secrets.Options{MaxFileSize: 1000})
	res, err := s.ScanTree(context.Background(), seq(files))
	if err != nil {
		t.Fatal(err)
	}
	if bigReads != 0 {
		t.Errorf("a file over the limit by its opened size was read %d times", bigReads)
	}
	if smallReads == 0 {
		t.Error("a file within the limit was not read")
	}
	var skipped []string
	for _, sk := range res.Skipped {
		skipped = append(skipped, sk.Path+": "+string(sk.Reason))
	}
	if want := []string{"big.yml: larger than max_file_size", "plain.yml: larger than max_file_size"}; !reflect.DeepEqual(skipped, want) {
		t.Errorf("skipped %v, want %v", skipped, want)
	}
	var paths []string
	for _, f := range res.Findings {
		paths = append(paths, f.Path)
	}
	if !slices.Contains(paths, "small.yml") || slices.Contains(paths, "big.yml") {
		t.Errorf("findings in %v, want small.yml's and none of big.yml", paths)
	}
	if res.Stats.ScannedFiles != 1 || res.Stats.Bytes != int64(len(line)) {
		t.Errorf("stats %+v, want 1 file of %d bytes scanned", res.Stats, len(line))
	}
}

// Values found by the analysers that build their own candidates (a
// Terraform variable's default, an XML element, a base64-decoded value)
// say which marker their line carries and that line, as the others do: a
// pull request honours an inline allow only by finding that line on the
// base, so without it the allow was never honoured there.
func TestAllowMarkerOnAnalysedValues(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	g := corpus.NewRand(23)
	v := g.String(corpus.Alnum, 20)
	ghp := "gh" + "p_" + g.String(corpus.Alnum, 36)
	for _, tc := range []struct {
		path, content, rule, by string
		line                    int
	}{
		{"infra/vars.tf", "variable \"db_password\" {\n  sensitive = true\n  default = \"" + v + "\" # housekeeper:allow\n}\n",
			"terraform-variable-default", "housekeeper:allow", 3},
		{"conf/settings.xml", "<settings>\n  <password>" + v + "</password> <!-- pragma: allowlist secret -->\n</settings>\n",
			"xml-credential-element", "pragma: allowlist secret", 2},
		{"k8s/ci.yaml", "apiVersion: v1\nkind: Secret\ndata:\n  GITHUB_TOKEN: " + b64(ghp) + " # pragma: whitelist secret\n",
			"github-pat", "pragma: whitelist secret", 4},
	} {
		fs := s.ScanContent(tc.path, []byte(tc.content))
		if len(fs) != 1 || fs[0].RuleID != tc.rule {
			t.Fatalf("%s: want one %s finding, got %v", tc.path, tc.rule, got(fs))
		}
		if f := fs[0]; !f.Allowed || f.AllowedBy != tc.by || f.Line != tc.line || f.AllowedLine != tc.line {
			t.Errorf("%s: allowed %v by %q on line %d (value on line %d), want by %q on line %d", tc.path, f.Allowed, f.AllowedBy, f.AllowedLine, f.Line, tc.by, tc.line)
		}
	}
}
