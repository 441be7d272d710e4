// Package marker signs and reads the hidden markers the App puts in its
// replies to /housekeeper ignore and unignore. They are the only record of
// an accepted finding: the App keeps no state of its own, so each run reads
// the pull request's comments and honours a marker only in a comment the
// App itself authored and only when its HMAC verifies.
//
// Format (docs/commands.md): an HTML comment, invisible in the rendered
// comment,
//
//	<!-- housekeeper:v1 BASE64URL(JSON) -->
//
// where the JSON holds repo, pr, fingerprint, actor, action, reason and mac;
// mac is hex HMAC-SHA256 over the other fields joined by NUL, keyed by
// HMAC-SHA256(webhook secret, "housekeeper marker v1").
package marker

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// Actions a marker records.
const (
	ActionIgnore   = "ignore"
	ActionUnignore = "unignore"
)

// Marker is one recorded decision.
type Marker struct {
	Repo        string `json:"repo"` // owner/name, lower case
	PR          int    `json:"pr"`
	Fingerprint string `json:"fingerprint"`
	Actor       string `json:"actor"`
	Action      string `json:"action"`
	Reason      string `json:"reason,omitempty"`
	MAC         string `json:"mac"`
}

// Key derives the marker key from the webhook secret, so that a leaked
// marker key never reveals the secret GitHub signs deliveries with.
func Key(webhookSecret []byte) []byte {
	m := hmac.New(sha256.New, webhookSecret)
	m.Write([]byte("housekeeper marker v1"))
	return m.Sum(nil)
}

func (m Marker) mac(key []byte) []byte {
	h := hmac.New(sha256.New, key)
	for i, f := range []string{"v1", strings.ToLower(m.Repo), strconv.Itoa(m.PR), m.Fingerprint, m.Actor, m.Action, m.Reason} {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(f))
	}
	return h.Sum(nil)
}

// Sign returns the marker text to embed in a comment.
func Sign(key []byte, m Marker) string {
	m.Repo = strings.ToLower(m.Repo)
	m.MAC = hex.EncodeToString(m.mac(key))
	data, _ := json.Marshal(m)
	return "<!-- housekeeper:v1 " + base64.RawURLEncoding.EncodeToString(data) + " -->"
}

// Verify reports whether the marker's HMAC is right.
func Verify(key []byte, m Marker) bool {
	got, err := hex.DecodeString(m.MAC)
	return err == nil && hmac.Equal(got, m.mac(key))
}

var markerRE = regexp.MustCompile(`<!-- housekeeper:v1 ([A-Za-z0-9_-]+) -->`)

// Find returns the markers in a comment body, verified or not.
func Find(body string) []Marker {
	var out []Marker
	for _, m := range markerRE.FindAllStringSubmatch(body, 20) {
		if len(m[1]) > 4000 {
			continue
		}
		data, err := base64.RawURLEncoding.DecodeString(m[1])
		if err != nil {
			continue
		}
		var mk Marker
		if json.Unmarshal(data, &mk) == nil {
			out = append(out, mk)
		}
	}
	return out
}

// Escape makes user text safe to repeat in a comment: it cannot open an
// HTML comment (so it cannot carry a marker), a code fence or a mention.
func Escape(s string) string {
	r := strings.NewReplacer(
		"<", "&lt;", ">", "&gt;", "`", "'", "@", "@\u200b", "\r", " ", "\n", " ",
	)
	return r.Replace(s)
}

// Decision is an accepted finding, as the latest marker left it.
type Decision struct {
	Actor, Reason string
}

// Comment is what Ignores needs of a pull-request comment.
type Comment struct {
	Body string
	// ByApp is set when GitHub says this App authored the comment
	// (performed_via_github_app is this App).
	ByApp bool
}

// Ignores replays the markers of a pull request's comments, oldest first,
// and returns the fingerprints ignored at the end, honouring only verified
// markers for this repository and pull request in comments the App wrote.
func Ignores(key []byte, repo string, pr int, comments []Comment) map[string]Decision {
	out := map[string]Decision{}
	for _, c := range comments {
		if !c.ByApp {
			continue
		}
		for _, m := range Find(c.Body) {
			if m.PR != pr || !strings.EqualFold(m.Repo, repo) || !Verify(key, m) {
				continue
			}
			switch m.Action {
			case ActionIgnore:
				out[m.Fingerprint] = Decision{Actor: m.Actor, Reason: m.Reason}
			case ActionUnignore:
				delete(out, m.Fingerprint)
			}
		}
	}
	return out
}
