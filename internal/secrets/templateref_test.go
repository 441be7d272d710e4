package secrets_test

import (
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// Whole values that name a variable for a template or the shell are
// stand-ins; a value that merely sits in braces or percent signs is not.
func TestTemplateReferenceIsPlaceholder(t *testing.T) {
	for v, want := range map[string]bool{
		"{NPM_TOKEN}":        true,
		"{api_token}":        true,
		"{apiKey}":           true,
		"{}":                 true,
		"%NPM_TOKEN%":        true,
		"%env(NPM_TOKEN)%":   true,
		"{Xk9mQ2vLp7wRt4}":   false,
		"%Xk9mQ2vLp7wRt4":    false,
		"{7kq2xm9w}":         false,
		"{NPM TOKEN}":        false,
		"Xk9mQ2vLp7wRt4abc0": false,
	} {
		if got := secrets.IsPlaceholder(v); got != want {
			t.Errorf("IsPlaceholder(%q) = %v, want %v", v, got, want)
		}
	}
}

// A name in angle brackets or a value that starts as markup is a stand-in;
// a lone < or > inside a random value is not (it once hid a 73-character
// JWT secret whose punctuation held a >).
func TestAngleBracketsArePlaceholdersOnlyAsANameOrMarkup(t *testing.T) {
	for v, want := range map[string]bool{
		"<your-api-key>":                        true,
		"<paste the token here>":                true,
		"Bearer <TOKEN>":                        true,
		"<%= ENV['API_TOKEN'] %>":               true,
		"<xsd:element name=":                    true,
		"</a>":                                  true,
		"7D}/vYR)T;W5]EBrf;_&k>qX??]G&3CF=;@vy": false,
		"q9<Lm2vX7pR4tW8z":                      false,
		"a<3>b7Qx9Lm2vX7pR4tW8":                 false,
	} {
		if got := secrets.IsPlaceholder(v); got != want {
			t.Errorf("IsPlaceholder(%q) = %v, want %v", v, got, want)
		}
	}
}
