package secrets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Finding is one secret-hygiene finding. It never holds the secret value:
// only a redacted prefix (at most 4 characters and at most a quarter of
// the value) and a fingerprint.
type Finding struct {
	RuleID      string `json:"rule"`
	Kind        Kind   `json:"kind"`
	Tier        Tier   `json:"tier"`
	Description string `json:"description"`
	// Path is repository-relative with forward slashes.
	Path string `json:"path"`
	// Line and Column are 1-based and point at the value's start; Line is
	// 0 for a file rule with no line to point at. For a deleted line, Line
	// is its number in the old file.
	Line   int `json:"line"`
	Column int `json:"column"`
	// Redacted is the value's first characters followed by "…" (empty for
	// file rules).
	Redacted string `json:"redacted"`
	// Fingerprint is RULE:HASH (see Fingerprint); stable across edits
	// around the value.
	Fingerprint string `json:"fingerprint"`
	// Remediation says where a secret of this tier belongs, and to rotate
	// it.
	Remediation string `json:"remediation"`
	// Context says where the value sits when that decides where it
	// belongs, e.g. Atlantis's GitHub token in the chart's values; the
	// rule id stays the token format's, so the fingerprint is stable.
	Context string `json:"context,omitempty"`
	// FormerFingerprints are the value's fingerprints under the rule's
	// former ids (RuleSpec.Aliases): an ignore written before a rule was
	// renamed or split still matches.
	FormerFingerprints []string `json:"former_fingerprints,omitempty"`
	// Deleted marks a secret on a line the change deletes: a notice, since
	// deleting does not remove it from history.
	Deleted bool `json:"deleted"`
	// Allowed: the line carries an inline "housekeeper:allow" comment (or
	// detect-secrets' "pragma: allowlist secret"). The
	// caller decides whether to honour it (only where the line already
	// exists on the base; always in a whole-tree audit).
	Allowed bool `json:"allowed"`
	// AllowedBy is the marker that made it Allowed, as written on the
	// line ("housekeeper:allow", "pragma: allowlist secret", "pragma:
	// whitelist secret", or "gitleaks:allow" with imported gitleaks
	// rules), so the caller names the comment the author actually wrote.
	AllowedBy string `json:"-"`
	// AllowedLine is the line that carries the inline allow: the value's
	// own, or another line of a multi-line value (a private key block).
	AllowedLine int `json:"-"`
	// Omitted, on a KindCapped finding, is how many more matches of the
	// rule the file held past MaxFindingsPerRule.
	Omitted int `json:"omitted,omitempty"`
	// Suppressed is set when Options.Ignore lists the fingerprint, with
	// SuppressedBy saying why. Suppressed findings are kept, not dropped,
	// so they can be listed as such.
	Suppressed   bool   `json:"suppressed"`
	SuppressedBy string `json:"suppressed_by"`
}

// Fingerprints returns the finding's fingerprint followed by its former
// ones; suppression matches any of them.
func (f Finding) Fingerprints() []string {
	return append([]string{f.Fingerprint}, f.FormerFingerprints...)
}

// Remediation texts, per tier (docs/secrets.md).
const (
	RemediationBootstrap = "Tier 1 (bootstrap) secret: keep it in GitHub Secrets, a Terraform variable with `sensitive = true`, or the Atlantis environment — never in the repository — and rotate it."
	RemediationRuntime   = "Tier 2 (runtime) secret: keep it in Infisical, synced to a Kubernetes Secret by the Infisical operator through an `InfisicalSecret` resource — never in a committed manifest or values file — and rotate it."
	deletedNotice        = "Deleting it does not remove it from history — rotate it."
)

// Remediation returns the remediation text for a tier.
func Remediation(t Tier) string {
	if t == Bootstrap {
		return RemediationBootstrap
	}
	return RemediationRuntime
}

// TierLabel is "Tier 1 — bootstrap" or "Tier 2 — runtime".
func TierLabel(t Tier) string {
	if t == Bootstrap {
		return "Tier 1 — bootstrap"
	}
	return "Tier 2 — runtime"
}

// Message is a one-line human message: rule, tier, redacted value, where
// it is and where it belongs.
func (f Finding) Message() string {
	var b strings.Builder
	b.WriteString(f.Description)
	if f.Redacted != "" {
		fmt.Fprintf(&b, " (%s)", f.Redacted)
	}
	fmt.Fprintf(&b, " [%s, %s]", f.RuleID, TierLabel(f.Tier))
	if f.Deleted {
		b.WriteString(" on a deleted line. ")
		b.WriteString(deletedNotice)
		return b.String()
	}
	b.WriteString(". ")
	if f.Context != "" {
		b.WriteString(f.Context)
		b.WriteString(" ")
	}
	b.WriteString(f.Remediation)
	return b.String()
}

// String is Message with the location; it holds no secret value.
func (f Finding) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", f.Path, f.Line, f.Column, f.Message())
}

// Fingerprint computes RULE:HASH where HASH is the first 16 hex digits of
// SHA-256 over the rule id, the path and the normalised value, separated
// by NUL bytes. A file rule's value is empty; a structural rule's is the
// key's literal value.
func Fingerprint(ruleID, path, value string) string {
	h := sha256.New()
	h.Write([]byte(ruleID))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write([]byte(normaliseValue(value)))
	sum := h.Sum(nil)
	return ruleID + ":" + hex.EncodeToString(sum[:8])
}

// normaliseValue makes a value's fingerprint independent of line endings
// and, for PEM blocks, of indentation (a key pasted into YAML at another
// depth is the same key).
func normaliseValue(v string) string {
	if strings.Contains(v, "\r") {
		v = strings.ReplaceAll(v, "\r\n", "\n")
	}
	if !strings.Contains(v, "-----BEGIN") || !strings.Contains(v, "\n") {
		return v
	}
	lines := strings.Split(v, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}

// Redact keeps at most 4 characters of the value and at most a quarter of
// it, followed by "…". For a PEM block it shows the start of the key body,
// since the BEGIN line says nothing.
func Redact(value string) string {
	if value == "" {
		return ""
	}
	v := value
	if strings.HasPrefix(v, "-----BEGIN") {
		if i := strings.Index(v, "-----\n"); i >= 0 {
			v = strings.TrimLeft(v[i+6:], " \t\r\n")
		} else if i := strings.Index(v, `-----\n`); i >= 0 { // JSON-escaped PEM
			v = v[i+7:]
		}
	}
	n := utf8.RuneCountInString(value) / 4
	if n > 4 {
		n = 4
	}
	var b strings.Builder
	for _, r := range v {
		if n == 0 {
			break
		}
		b.WriteRune(r)
		n--
	}
	b.WriteString("…")
	return b.String()
}
