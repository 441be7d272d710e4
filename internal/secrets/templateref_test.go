package secrets_test

import (
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// Whole values that name a variable for a template or the shell are
// stand-ins; a value that merely sits in braces or percent signs is not.
func TestTemplateReferenceIsPlaceholder(t *testing.T) {
	checkPlaceholders(t, map[string]bool{
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
	})
}

// A name in angle brackets or a value that starts as markup is a stand-in;
// a lone < or > inside a random value is not (it once hid a 73-character
// JWT secret whose punctuation held a >).
func TestAngleBracketsArePlaceholdersOnlyAsANameOrMarkup(t *testing.T) {
	checkPlaceholders(t, map[string]bool{
		"<your-api-key>":                        true,
		"<paste the token here>":                true,
		"Bearer <TOKEN>":                        true,
		"<%= ENV['API_TOKEN'] %>":               true,
		"<xsd:element name=":                    true,
		"</a>":                                  true,
		"7D}/vYR)T;W5]EBrf;_&k>qX??]G&3CF=;@vy": false,
		"q9<Lm2vX7pR4tW8z":                      false,
		"a<3>b7Qx9Lm2vX7pR4tW8":                 false,
	})
}

// A leading $ starts a reference only before a variable's name, ${ or $(;
// before a random-looking string it is a character of the value.
func TestDollarIsAReferenceOnlyBeforeAName(t *testing.T) {
	checkPlaceholders(t, map[string]bool{
		"$DB_PASSWORD":             true,
		"$dbPassword":              true,
		"$db_password":             true,
		"$password":                true,
		"$$DB_PASSWORD":            true,
		"${DB_PASSWORD}":           true,
		"$(cat /run/secrets/db)":   true,
		"$HOME/.config/pw":         true,
		"$USER:$PASS":              true,
		"$this->password":          true,
		"$_ENV['DB_PASSWORD']":     true,
		"$A3ae68d9f8ccfc898ee2555": false,
		"$c8e$743df9d386d895}":     false,
		"$%Xk9mQ2vLp7wRt4":         false,
		"$ecret-Xk9mQ2vLp7":        false,
	})
}

// Stand-ins in disguise: an encrypted wrapper, base64 of a stand-in, a JWT
// header alone, a connection URL whose password is a stand-in. Their
// look-alikes holding a credential are not.
func TestDisguisedStandIns(t *testing.T) {
	checkPlaceholders(t, map[string]bool{
		"ENC(2048:Xk9mQ2vLp7wRt4Xk9mQ2vLp7wRt4)":                       true,
		"RU5DW1JTQSx0VWY4M0V4MG9TYkRHYTh2YVUxaEdxZXNPREc5SjRqNDBFZ0xD": true, // ENC[RSA,…
		"WGs5bVEydkxwN3dSdDRjaGFuZ2VtZQ==":                             true, // Xk9mQ2vLp7wRt4changeme
		"WGs5bVEydkxwN3dSdDRYazltUTJ2THA3d1J0NA==":                     false,
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.":                        true,
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXV":                            true,
		"eyJvIjoiNjEwODMxIiwiayI6IlhrOW1RMnZMcDd3UnQ0In0":              false, // {"o":…,"k":…}: not a header
		"postgresql://username:password@localhost:5432/database":       true,
		"redis://:your-password-here@localhost:6379/0":                 true,
		"postgresql://app:Xk9mQ2vLp7wRt4@db.internal:5432/app":         false,
		"Xk9mQ2vLp7wRt4Xk9mQ2vLp7wRt4=${suffix}":                       false,
		"prefix-${SUFFIX}":                                             true,
	})
}

// Letters typed walking the alphabet are a stand-in whatever their case and
// the digits between them; random text and a walk of nine are not.
func TestLetterWalkIsPlaceholder(t *testing.T) {
	checkPlaceholders(t, map[string]bool{
		"gI8jK9lM0nO1pQ2rS3tU4vW5xY6zA7bC8dE9fG0hI1jK": true,
		"XaBcDeFgHiJkQ7":                true,
		"wXyZaBcDeF93kq":                true,
		"q7RmZx2KpLw9VbN4tYc8HsJd3FgA6": false,
		"q7aBcDeFgHiZ2":                 false,
	})
}

// checkPlaceholders checks IsPlaceholder against each value's want.
func checkPlaceholders(t *testing.T, cases map[string]bool) {
	t.Helper()
	for v, want := range cases {
		if got := secrets.IsPlaceholder(v); got != want {
			t.Errorf("IsPlaceholder(%q) = %v, want %v", v, got, want)
		}
	}
}
