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
