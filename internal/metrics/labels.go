package metrics

// maxWord bounds a free-form label value; GitHub's longest event name
// (repository_vulnerability_alert) is 30 characters.
const maxWord = 40

// Word returns s when it looks like a GitHub event, action or resource name
// (lower-case letters, digits and underscores, at most 40 characters), else
// "other". "" becomes "none". Those names come from headers and payloads, so
// this keeps a hostile sender from minting arbitrary label values; GitHub's
// own vocabulary is a few hundred words.
func Word(s string) string {
	if s == "" {
		return "none"
	}
	if len(s) > maxWord {
		return "other"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return "other"
		}
	}
	return s
}

func boundedVersion(v string) string {
	if v == "" || len(v) > 64 {
		return "unknown"
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x21 || c > 0x7e {
			return "unknown"
		}
	}
	return v
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

func oneOf(s string, allowed map[string]bool) string {
	if allowed[s] {
		return s
	}
	return "other"
}
