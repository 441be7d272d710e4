package secrets

import "hash/crc32"

// Checksummed token formats: GitHub's (ghp_, gho_, ghu_, ghs_, ghr_) and
// npm's (npm_) 40-character tokens end in six base62 characters encoding
// the CRC32 of the 30 characters between the prefix and them. A valid
// checksum raises confidence: such a value is a token even when it
// happens to contain a stand-in word. An invalid one hides nothing: test
// and truncated tokens leak too, and the shape alone is reported.

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// checksumValid reports a 40-character GitHub or npm token whose CRC32
// suffix matches.
func checksumValid(v string) bool {
	if len(v) != 40 {
		return false
	}
	switch v[:4] {
	case "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_":
	default:
		return false
	}
	return base62Checksum(v[4:34]) == v[34:]
}

// base62Checksum is the CRC32 (IEEE) of body in base62, left-padded with
// zeros to six characters.
func base62Checksum(body string) string {
	n := crc32.ChecksumIEEE([]byte(body))
	var b [6]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = base62Digits[n%62]
		n /= 62
	}
	return string(b[:])
}
