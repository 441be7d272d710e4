package secrets

import (
	"encoding/base64"
	"math"
	"regexp"
	"strings"
)

// placeholderWords, when contained in a value (case-insensitively), mark it
// as documentation or a stand-in rather than a credential.
var placeholderWords = []string{
	"changeme", "change_me", "change-me", "example",
	"placeholder", "replace_me", "replaceme", "replace-me", "replace_with",
	"replace-with", "your_", "your-", "yourkey", "yourtoken", "yourpassword",
	"xxxx", "****", "todo", "redacted",
	"notasecret", "not_a_secret", "not-a-secret", "insert_", "mypassword",
	"...", "…", "${", "{{", "}}", "$(", "%s", "%v", "%d", "%(",
	"enc[", "vault:", "ref+", "infisical://", "secretkeyref", "valuefrom",
	"secretref", "os.getenv", "getenv(", "process.env", "os.environ", "env(",
	"sops:", "awssecretsmanager", "arn:aws:secretsmanager", "akv://", "op://",
	"${{", "secrets.", "lookup(", "file(",
}

// testWords name a test or made-up credential. They mark a stand-in under
// a generic name; where the position says credential (RuleSpec.
// CredentialPosition) they do not: a test registry's token is a token.
var testWords = []string{"test", "fake", "dummy", "sample"}

// longPlaceholders mark long values as stand-ins.
var longPlaceholders = []string{"...", "…", "${", "{{", "xxxxxxxx", "enc[", "example"}

// placeholderExact are whole values that are keywords, not credentials.
var placeholderExact = map[string]bool{
	"null": true, "none": true, "nil": true, "true": true, "false": true,
	"undefined": true, "empty": true, "password": true, "passwd": true,
	"secret": true, "token": true, "string": true, "required": true,
	"optional": true, "n/a": true, "tbd": true, "default": true, "unset": true,
	"secrets": true, "pass": true, "apikey": true, "api_key": true,
}

// referencePrefixes start values that refer to a variable or a secret
// store instead of holding the secret. A leading $ is judged apart
// (dollarReference): it starts a reference only before a name.
var referencePrefixes = []string{
	"var.", "local.", "data.", "module.", "each.", "self.", "env.",
	"secret/", "kv/", "!ref", "@",
	"enc(", // Jasypt's encrypted property, ENC(ciphertext) (jasypt-spring-boot)
}

// tokenFormatSpecificity: rules at or above it match a vendor's token
// format (a prefix, a length, an alphabet), so a value they match is a
// credential of that vendor whatever words it happens to contain.
const tokenFormatSpecificity = 300

// tokenPlaceholders are what still marks a well-formed token as a stand-in:
// the vendor's documented example values and obvious masking. Words such as
// "test" are left out on purpose: test-mode tokens (sk_test_, duffel_test_,
// FLWSECK_TEST-) leak too, and their format says what they are.
var tokenPlaceholders = []string{
	"example", "xxxxx", "*****", "${", "{{", "}}", "...", "…",
	"your_", "your-", "redacted", "placeholder", "0000000000", "1234567890abcdef",
}

// placeholderFor applies the false-positive filters that fit the rule:
// a vendor's published example value for every rule (examples.go), then
// all of them for assignments and context rules, only the unmistakable
// stand-ins for token formats, only the value's shape for generated
// formats (RuleSpec.Generated).
func placeholderFor(r *Rule, v string) bool {
	if vendorExample(v) {
		return true
	}
	if r.Generated {
		return len(v) == 0 || repeated(v) || repeatedTail(v) || sequential(v)
	}
	if r.Specificity < tokenFormatSpecificity {
		if r.BracedReferences && strings.HasPrefix(v, "$") && !strings.HasPrefix(v, "${") {
			// $NPM_TOKEN is not expanded there, but it is a variable's
			// name written by mistake, not a credential; $ecret-token-0004
			// is a literal.
			return variableName(v[1:]) || placeholderValue(v[1:], !r.CredentialPosition)
		}
		return placeholderValue(v, !r.CredentialPosition)
	}
	if checksumValid(v) {
		return false // a valid checksum says it is a real token
	}
	if len(v) == 0 {
		return true
	}
	if markedStandIn(v) || hexKeyBody(v) {
		return true
	}
	return repeated(v) || repeatedTail(v) || sequential(v)
}

// markedStandIn: the marks that make even a well-formed value a stand-in,
// a vendor's published example, documentation's masking or an
// angle-bracketed name.
func markedStandIn(v string) bool {
	if vendorExample(v) || angleStandIn(v) || urlStandIn(v) {
		return true
	}
	l := strings.ToLower(v)
	for _, w := range tokenPlaceholders {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// hexKeyBody: a key block (-----BEGIN … PRIVATE KEY-----) whose body is
// nothing but hex digits. A PEM body (RFC 7468) and a PGP armour (RFC 4880)
// are base64 of binary key material, which uses all 64 characters: 64
// characters or more drawn only from the 22 hex ones do not happen by
// chance (odds below 1e-29). Such a body is typed-in text, not a key.
func hexKeyBody(v string) bool {
	if !strings.HasPrefix(v, "-----BEGIN") {
		return false
	}
	i := strings.Index(v[len("-----BEGIN"):], "-----")
	if i < 0 {
		return false
	}
	body := v[len("-----BEGIN")+i+len("-----"):]
	if j := strings.LastIndex(body, "-----END"); j >= 0 {
		body = body[:j]
	}
	body = strings.ReplaceAll(body, `\n`, "")
	n := 0
	for k := 0; k < len(body); k++ {
		c := body[k]
		switch {
		case isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F':
			n++
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == ',' || c == '=':
		default:
			return false // a header line (Proc-Type: …) or a base64 character
		}
	}
	return n >= 64
}

// repeatedTail: a token whose end repeats one short unit (ghp_aaaaaaaa…,
// GR1348941123123123…), as documentation writes a stand-in token. Real
// tokens are random: eight equal characters in a row, or a unit of two or
// three repeated over the last 12, do not happen by chance.
func repeatedTail(v string) bool {
	v = strings.TrimRight(v, "=")
	n := len(v)
	if n < 16 {
		return false
	}
	for unit := 1; unit <= 3; unit++ {
		span := 8
		if unit > 1 {
			span = 12
		}
		tail := v[n-span:]
		ok := true
		for i := unit; i < len(tail); i++ {
			if tail[i] != tail[i%unit] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// sequential: six or more consecutive letters or digits in order
// (abcdef, 123456, TUVWXYZ), also letters and digits taking turns
// (a1b2c3d4e5f6), or ten letters walking the alphabet (letterWalk), the
// mark of a typed-in stand-in. A random token of 40 characters holds such
// a run with odds below one in a million.
func sequential(v string) bool {
	for stride := 1; stride <= 2; stride++ {
		for start := 0; start < stride; start++ {
			run := 1
			for i := start + stride; i < len(v); i += stride {
				a, b := v[i-stride], v[i]
				if stride == 2 && isDigit(v[i-1]) == isDigit(b) {
					run = 1 // every other character: only a run of letters between digits, or of digits between letters
					continue
				}
				if b == a+1 && (isDigit(a) && isDigit(b) || isLower(a) && isLower(b) || isUpper(a) && isUpper(b)) {
					run++
					if run >= 6 {
						return true
					}
					continue
				}
				run = 1
			}
		}
	}
	return letterWalk(v)
}

// letterWalk: ten or more letters walking the alphabet in order, whatever
// their case and with up to two other characters between them
// (gI8jK9lM0nO1pQ…, aBcDeFgHiJ), a hand-typed signature or key. Random
// text does not walk ten letters (odds near 26^-9 at each start).
func letterWalk(v string) bool {
	run, gap := 0, 0
	var prev byte
	for i := 0; i < len(v); i++ {
		c := v[i] | 0x20
		if c < 'a' || c > 'z' {
			if gap++; gap > 2 {
				run = 0
			}
			continue
		}
		if run > 0 && (c == prev+1 || prev == 'z' && c == 'a') {
			run++
		} else {
			run = 1
		}
		if run >= 10 {
			return true
		}
		prev, gap = c, 0
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// isPlaceholder applies the global false-positive filters to a value.
func isPlaceholder(v string) bool { return placeholderValue(v, true) }

// placeholderValue is isPlaceholder, testWords counting as stand-in marks
// only when withTestWords.
func placeholderValue(v string, withTestWords bool) bool {
	if len(v) == 0 || vendorExample(v) {
		return true
	}
	l := strings.ToLower(v)
	if placeholderExact[l] {
		return true
	}
	if angleStandIn(v) {
		return true
	}
	if len(v) > 100 {
		// Long values (key blocks, JWTs) contain short words by chance;
		// only unmistakable stand-ins count.
		for _, w := range longPlaceholders {
			if strings.Contains(l, w) {
				return true
			}
		}
		return letterWalk(v) // a typed-in signature: no chance run
	}
	for _, p := range referencePrefixes {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	if dollarReference(v) || templateReference(v) || jwtHeaderOnly(v) || urlStandIn(v) || encodedStandIn(v) {
		return true
	}
	if i := strings.Index(v, "${"); i >= 0 && randomToken(v[:i]) {
		// A long random literal joined to a ${…} (aOOb…=${suffix}): the
		// literal part alone is a secret; the reference does not make
		// the value a stand-in. Other marks still count.
		l = l[:i]
	}
	for _, w := range placeholderWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	if withTestWords {
		for _, w := range testWords {
			if strings.Contains(l, w) {
				return true
			}
		}
	}
	return repeated(v) || repeatedTail(v) || sequential(v)
}

// angleStand matches a name in angle brackets (<your-api-key>, <TOKEN>,
// <% ERB %>, <paste the key here>), documentation's and templates' way of
// saying "put the value here", or a value that starts as markup does
// (<xsd:element name=, </a>, <!--): a tag, not a secret.
var angleStand = regexp.MustCompile(`<[A-Za-z_%][^<>\r\n]{0,80}>|^<[A-Za-z_%!?/]`)

// angleStandIn reports a value holding an angle-bracketed stand-in. A lone
// < or > is not one: random secrets with punctuation hold either by chance
// (k>qX??]G…), and dropping them on that alone missed real values.
func angleStandIn(v string) bool {
	return strings.IndexByte(v, '<') >= 0 && angleStand.MatchString(v)
}

// templateReference: a whole value that names a variable for a template or
// the shell to fill in rather than holding one: {NAME} (Python format,
// .npmrc and CI templates), %NAME% (Windows cmd), %env(NAME)% (Symfony),
// and an empty {}.
func templateReference(v string) bool {
	n := len(v)
	if n < 2 {
		return false
	}
	var inner string
	switch {
	case v[0] == '{' && v[n-1] == '}':
		inner = v[1 : n-1]
	case n > 2 && v[0] == '%' && v[n-1] == '%':
		inner = v[1 : n-1]
		if strings.HasPrefix(inner, "env(") && strings.HasSuffix(inner, ")") {
			inner = inner[4 : len(inner)-1]
		}
	default:
		return false
	}
	return inner == "" || variableName(inner)
}

// variableName: text that reads as a variable's name rather than a value.
func variableName(inner string) bool {
	if inner == "" || isDigit(inner[0]) {
		return false
	}
	// A name is one case (NPM_TOKEN, api_token) or has no digits (apiKey);
	// mixed case with digits ({Xk9mQ2vL}) reads as a value in braces.
	upper, lower, digit := true, true, false
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		switch {
		case isUpper(c):
			lower = false
		case isLower(c):
			upper = false
		case isDigit(c):
			digit = true
		case c != '_':
			return false
		}
	}
	return upper || lower || !digit
}

// dollarReference: a value starting with a shell, PHP or Perl variable:
// ${…}, $(…), or $NAME where NAME reads as a name (variableName) and what
// follows it, if anything, goes on an interpolated string ($HOME/.ssh,
// $USER:$PASS, $this->pw, $_ENV['X'], Perl's $ENV{X}) or is another
// reference. A $ before
// a random-looking string ($A3ae68d9…, $c8e$743d…) is a character of the
// value: generated passwords and salts hold $ anywhere, first included.
func dollarReference(v string) bool {
	if len(v) < 2 || v[0] != '$' {
		return false
	}
	switch v[1] {
	case '{', '(':
		return true
	case '$':
		// $$ writes a literal $ in Makefiles and Compose files: $$NAME
		// is the reference handed on to the shell.
		return dollarReference(v[1:])
	}
	i := 1
	for i < len(v) && (isDigit(v[i]) || isLower(v[i]) || isUpper(v[i]) || v[i] == '_') {
		i++
	}
	if i == 1 || !variableName(v[1:i]) {
		return false
	}
	if i == len(v) {
		return true
	}
	switch v[i] {
	case '$':
		return dollarReference(v[i:])
	case '/', '.', ':', '@', '[', '{', ' ', ',', ';', '\\':
		return true
	case '-':
		return strings.HasPrefix(v[i:], "->") // PHP's $object->property
	}
	return false
}

// randomToken: at least 16 characters of base64's alphabet (padding and
// separators at the end aside) with capitals, small letters and digits:
// the shape of a generated secret, not of a name or a path.
func randomToken(v string) bool {
	v = strings.TrimRight(v, "=:-_.")
	if len(v) < 16 {
		return false
	}
	var up, lo, dg bool
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isUpper(c):
			up = true
		case isLower(c):
			lo = true
		case isDigit(c):
			dg = true
		case c != '+' && c != '/' && c != '-' && c != '_':
			return false
		}
	}
	return up && lo && dg && v[0] != '/'
}

// jwtHeaderOnly: the first part of a JSON Web Token alone (eyJ…, a
// trailing dot allowed, no payload or signature after it), whole or cut
// short, decoding to a JOSE header ({"alg":…}, RFC 7515 section 4). The
// header is public metadata; without the signed parts there is no token.
func jwtHeaderOnly(v string) bool {
	s := strings.TrimSuffix(v, ".")
	if !strings.HasPrefix(s, "eyJ") || strings.ContainsAny(s, ".") {
		return false
	}
	s = strings.TrimRight(s, "=")
	dec, err := base64.RawURLEncoding.DecodeString(s[:len(s)-len(s)%4])
	if err != nil {
		return false
	}
	return strings.HasPrefix(string(dec), `{"`) && strings.Contains(string(dec), `"alg"`)
}

// urlStandIn: a URL whose user-info holds a stand-in for the password
// (postgresql://user:password@host, redis://:your-password-here@host) or
// none: the URL shows the shape of a connection string, not a credential.
func urlStandIn(v string) bool {
	i := strings.Index(v, "://")
	if i <= 0 {
		return false
	}
	rest := v[i+3:]
	at := strings.IndexByte(rest, '@')
	if at < 0 || strings.ContainsAny(rest[:at], "/?#") {
		return false
	}
	pw := rest[:at]
	c := strings.IndexByte(pw, ':')
	if c < 0 {
		return false
	}
	pw = pw[c+1:]
	return pw == "" || selfNamed.MatchString(pw) || placeholderValue(pw, false)
}

// selfNamed: a lower-case word that names the field it fills (proxypass,
// dbpassword, userpass), documentation's way of writing user:password.
var selfNamed = regexp.MustCompile(`^[a-z]{1,16}(?:pass|passwd|password)$`)

// decodedStandIns are the marks that make base64 text a stand-in once
// decoded: the words documentation writes, an encrypted wrapper.
var decodedStandIns = []string{
	"changeme", "change_me", "change-me", "example", "placeholder",
	"replace_me", "replaceme", "your_", "your-", "xxxx", "redacted",
	"notasecret", "enc[", "enc(",
}

// encodedStandIn: base64 whose decoded text is a stand-in or an encrypted
// value (RU5DW… is "ENC[…"): encoding a placeholder does not make it a
// credential.
func encodedStandIn(v string) bool {
	if len(v) < 16 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isB64(v[i]) && v[i] != '=' {
			return false
		}
	}
	dec, ok := decodeText([]byte(v))
	if !ok {
		return false
	}
	l := strings.ToLower(string(dec))
	for _, w := range decodedStandIns {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// repeated reports a value made of one character, or of a short unit
// repeated ("abcabcabc", "121212").
func repeated(v string) bool {
	n := len(v)
	for unit := 1; unit <= 3 && unit*3 <= n; unit++ {
		ok := true
		for i := unit; i < n; i++ {
			if v[i] != v[i%unit] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// entropy is the Shannon entropy of v in bits per byte.
func entropy(v string) float64 {
	if len(v) == 0 {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(v); i++ {
		counts[v[i]]++
	}
	n := float64(len(v))
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// codeExts are source-code file extensions where an unquoted right-hand
// side is an expression, not a literal.
var codeExts = map[string]bool{
	".go": true, ".py": true, ".js": true, ".mjs": true, ".cjs": true, ".ts": true,
	".tsx": true, ".jsx": true, ".java": true, ".kt": true, ".scala": true,
	".rb": true, ".php": true, ".cs": true, ".rs": true, ".c": true, ".h": true,
	".cc": true, ".cpp": true, ".hpp": true, ".swift": true, ".m": true,
	".dart": true, ".lua": true, ".pl": true, ".ex": true, ".exs": true,
	".groovy": true, ".vue": true, ".svelte": true,
}
