package secrets_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// exampleContexts place a vendor's example where that vendor's value is
// written, so that a rule fires on any other value of the same shape.
var exampleContexts = map[string]struct{ path, format string }{
	"Google (Firebase)": {"app/config.yaml", "firebase:\n  api_key: %s\n"},
	"Microsoft (NuGet)": {"NuGet.Config", "<packageSourceCredentials>\n  <Contoso>\n    <add key=\"ClearTextPassword\" value=\"%s\" />\n  </Contoso>\n</packageSourceCredentials>\n"},
	"Yarn":              {"search/config", ",apiKey:\"%s\",\n"},
	"GitHub":            {"deploy/auth.json", "{\"access_token\": \"%s\", \"token_type\": \"bearer\"}\n"},
	"MongoDB":           {"config/db.env", "MONGO_URL=mongodb+srv://myDatabaseUser:%s@mongodb0.example.com/?authSource=admin&replicaSet=myRepl\n"},
	"HashiCorp (Vault)": {"deploy/vault-login.sh", "vault write auth/approle/login role_id=db02de05-fa39-4855-059b-67221c5c2f63 secret_id=%s\n"},
}

// variant changes one character of v within its own class (digit, lower,
// upper), so that the value keeps the shape its rule looks for.
func variant(v string) string {
	b := []byte(v)
	for i := len(b) / 2; i < len(b); i++ {
		switch c := b[i]; {
		case '0' <= c && c <= '9':
			b[i] = '0' + (c-'0'+3)%10
		case 'a' <= c && c <= 'f':
			b[i] = 'a' + (c-'a'+3)%6 // stays a hex digit
		case 'a' <= c && c <= 'z':
			b[i] = 'a' + (c-'a'+3)%26
		case 'A' <= c && c <= 'Z':
			b[i] = 'A' + (c-'A'+3)%26
		default:
			continue
		}
		return string(b)
	}
	panic("no letter or digit in the second half of " + v[:4])
}

// TestVendorExamples: each listed value is not reported, in the whole-file
// and the diff scan, while a one-character variant of it, in the same
// place, is.
func TestVendorExamples(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	examples := secrets.VendorExamples()
	if len(examples) == 0 {
		t.Fatal("no vendor examples")
	}
	for _, e := range examples {
		ctx, ok := exampleContexts[e.Vendor]
		if !ok {
			t.Fatalf("no test context for vendor %q (%.4s…)", e.Vendor, e.Value)
		}
		if e.Source == "" {
			t.Errorf("%.4s…: no source", e.Value)
		}
		name := e.Vendor + "/" + e.Value[:4]
		t.Run(name, func(t *testing.T) {
			exact := fmt.Sprintf(ctx.format, e.Value)
			if fs := s.ScanContent(ctx.path, []byte(exact)); len(fs) != 0 {
				t.Errorf("example reported: %v", ruleIDs(fs))
			}
			diff := secrets.FileDiff{NewPath: ctx.path}
			for i, l := range strings.Split(strings.TrimSuffix(exact, "\n"), "\n") {
				diff.Added = append(diff.Added, secrets.DiffLine{Line: i + 1, Text: l})
			}
			if fs, _, err := s.ScanChange(context.Background(), diff, nil); err != nil || len(fs) != 0 {
				t.Errorf("example reported in a diff: %v, %v", ruleIDs(fs), err)
			}
			v := variant(e.Value)
			if v == e.Value || len(v) != len(e.Value) {
				t.Fatalf("variant of %.4s… is not one changed character", e.Value)
			}
			if fs := s.ScanContent(ctx.path, []byte(fmt.Sprintf(ctx.format, v))); len(fs) == 0 {
				t.Errorf("one-character variant %.4s… not reported", v)
			}
		})
	}
}

// TestVendorExampleSubstring: a value that merely contains an example is
// a different value and is reported, in token, assignment and structural
// (XML element) rules alike.
func TestVendorExampleSubstring(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	var nuget, yarn string
	for _, e := range secrets.VendorExamples() {
		switch e.Vendor {
		case "Microsoft (NuGet)":
			nuget = e.Value
		case "Yarn":
			yarn = e.Value
		}
	}
	tests := map[string]struct {
		path, content string
		found         bool
	}{
		"nuget exact":       {"NuGet.Config", `<add key="ClearTextPassword" value="` + nuget + `" />`, false},
		"nuget longer":      {"NuGet.Config", `<add key="ClearTextPassword" value="` + nuget + `Q7" />`, true},
		"xml element exact": {".m2/settings.xml", "<server>\n  <password>" + nuget + "</password>\n</server>\n", false},
		"xml element with":  {".m2/settings.xml", "<server>\n  <password>Zr" + nuget + "</password>\n</server>\n", true},
		"hex exact":         {"search/config", `,apiKey:"` + yarn + `",`, false},
		"hex longer":        {"search/config", `,apiKey:"` + yarn + `9c",`, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fs := s.ScanContent(tc.path, []byte(tc.content))
			if got := len(fs) > 0; got != tc.found {
				t.Errorf("reported = %v (%v), want %v", got, ruleIDs(fs), tc.found)
			}
		})
	}
}

// TestDocsListVendorExamples: docs/secrets.md lists each vendor example
// by its first four characters and its vendor, and prints none in full.
func TestDocsListVendorExamples(t *testing.T) {
	data, err := os.ReadFile("../../docs/secrets.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "### Vendors' published example values")
	if !ok {
		t.Fatal("docs/secrets.md has no section on vendors' published example values")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	for _, e := range secrets.VendorExamples() {
		if !strings.Contains(section, "| `"+e.Value[:4]+"…`") || !strings.Contains(section, "| "+e.Vendor+" |") {
			t.Errorf("%.4s… (%s) is not listed", e.Value, e.Vendor)
		}
		if strings.Contains(string(data), e.Value) {
			t.Errorf("%.4s… is printed in full", e.Value)
		}
	}
}
