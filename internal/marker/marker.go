// Package marker signs and reads the hidden markers the App puts in its
// replies to /housekeeper ignore and unignore. They are the only record of
// an accepted finding: the App keeps no state of its own, so each run reads
// the pull request's comments and honours a marker only in a comment the
// App itself authored, only on that comment's last line, and only when its
// HMAC verifies.
//
// Format (docs/commands.md): HTML comments, invisible in the rendered
// comment, alone on the acknowledgement's last line,
//
//	<!-- housekeeper:v2 BASE64URL(JSON) -->
//
// where the JSON holds repo, pr, cid (the ID of the comment that gave the
// command), fingerprint, actor, action, reason and mac; mac is hex
// HMAC-SHA256 over the other fields joined by NUL, keyed by
// HMAC-SHA256(webhook secret, "housekeeper marker v1"). Version 1 markers
// (no cid) are still read, under the same last-line rule.
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
	// CommentID is the comment that gave the command (v2; 0 for v1).
	CommentID int64  `json:"cid,omitempty"`
	Actor     string `json:"actor"`
	Action    string `json:"action"`
	Reason    string `json:"reason,omitempty"`
	MAC       string `json:"mac"`

	version int // 1 or 2, from the marker's prefix
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
	fields := []string{"v1", strings.ToLower(m.Repo), strconv.Itoa(m.PR), m.Fingerprint, m.Actor, m.Action, m.Reason}
	if m.version != 1 {
		fields = []string{"v2", strings.ToLower(m.Repo), strconv.Itoa(m.PR), strconv.FormatInt(m.CommentID, 10), m.Fingerprint, m.Actor, m.Action, m.Reason}
	}
	for i, f := range fields {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(f))
	}
	return h.Sum(nil)
}

// Sign returns the marker text to embed, alone, on the last line of the
// acknowledgement.
func Sign(key []byte, m Marker) string {
	m.Repo = strings.ToLower(m.Repo)
	m.version = 2
	m.MAC = hex.EncodeToString(m.mac(key))
	data, _ := json.Marshal(m)
	return "<!-- housekeeper:v2 " + base64.RawURLEncoding.EncodeToString(data) + " -->"
}

// signV1 writes a marker as releases before v2 did; tests use it to show
// those markers are still honoured.
func signV1(key []byte, m Marker) string {
	m.Repo = strings.ToLower(m.Repo)
	m.version, m.CommentID = 1, 0
	m.MAC = hex.EncodeToString(m.mac(key))
	data, _ := json.Marshal(m)
	return "<!-- housekeeper:v1 " + base64.RawURLEncoding.EncodeToString(data) + " -->"
}

// Verify reports whether the marker's HMAC is right.
func Verify(key []byte, m Marker) bool {
	got, err := hex.DecodeString(m.MAC)
	return err == nil && hmac.Equal(got, m.mac(key))
}

var (
	markerRE   = regexp.MustCompile(`<!-- housekeeper:v([12]) ([A-Za-z0-9_-]+) -->`)
	markerLine = regexp.MustCompile(`^(?:\s*<!-- housekeeper:v[12] [A-Za-z0-9_-]+ -->)+\s*$`)
)

// maxPerComment bounds the markers read from one comment (one per command,
// and a comment holds at most a few).
const maxPerComment = 20

// Find returns the markers of a comment, verified or not. Only the last
// non-blank line counts, and only when it holds markers and nothing else:
// that is where the App writes them, and nowhere the App repeats other
// people's text (code blocks, quoted paths or map lines) can put one.
func Find(body string) []Marker {
	last := strings.TrimRight(body, " \t\r\n")
	if i := strings.LastIndexAny(last, "\r\n"); i >= 0 {
		last = last[i+1:]
	}
	if !markerLine.MatchString(last) {
		return nil
	}
	var out []Marker
	for _, m := range markerRE.FindAllStringSubmatch(last, maxPerComment) {
		if len(m[2]) > 4000 {
			continue
		}
		data, err := base64.RawURLEncoding.DecodeString(m[2])
		if err != nil {
			continue
		}
		var mk Marker
		if json.Unmarshal(data, &mk) == nil {
			mk.version = int(m[1][0] - '0')
			if mk.version == 1 {
				mk.CommentID = 0
			}
			out = append(out, mk)
		}
	}
	return out
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
// A v2 marker is bound to the command comment that caused it: the same
// command's marker seen again, or one older than the decision already in
// force for that fingerprint, is a replay and is skipped.
func Ignores(key []byte, repo string, pr int, comments []Comment) map[string]Decision {
	out := map[string]Decision{}
	newest := map[string]int64{} // fingerprint → command comment of the decision in force
	for _, c := range comments {
		if !c.ByApp {
			continue
		}
		for _, m := range Find(c.Body) {
			if m.PR != pr || !strings.EqualFold(m.Repo, repo) || !Verify(key, m) {
				continue
			}
			if m.version == 2 && m.CommentID != 0 {
				if m.CommentID <= newest[m.Fingerprint] {
					continue
				}
				newest[m.Fingerprint] = m.CommentID
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
