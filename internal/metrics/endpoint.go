package metrics

import (
	"strings"
)

// maxSegments bounds a template's length; GitHub's deepest REST paths have
// eight segments.
const maxSegments = 10

// paramAfter names the parameter that follows a collection word in GitHub's
// REST paths: /pulls/{pull_number}, /check-runs/{check_run_id}, …
var paramAfter = map[string]string{
	"orgs":          "{org}",
	"users":         "{username}",
	"installations": "{installation_id}",
	"pulls":         "{pull_number}",
	"issues":        "{issue_number}",
	"comments":      "{comment_id}",
	"reviews":       "{review_id}",
	"check-runs":    "{check_run_id}",
	"check-suites":  "{check_suite_id}",
	"deliveries":    "{delivery_id}",
	"hooks":         "{hook_id}",
	"commits":       "{ref}",
	"branches":      "{branch}",
	"collaborators": "{username}",
	"members":       "{username}",
	"memberships":   "{username}",
	"labels":        "{name}",
	"reactions":     "{reaction_id}",
	"teams":         "{team_slug}",
	"statuses":      "{sha}",
	"trees":         "{sha}",
	"blobs":         "{sha}",
	"app-manifests": "{code}",
	"apps":          "{app_slug}",
}

// restAfter names the parameter that takes the rest of the path, because it
// may itself contain slashes (file paths, refs, base...head).
var restAfter = map[string]string{
	"contents":      "{path}",
	"readme":        "{dir}",
	"compare":       "{basehead}",
	"tarball":       "{ref}",
	"zipball":       "{ref}",
	"refs":          "{ref}",
	"ref":           "{ref}",
	"matching-refs": "{ref}",
}

// staticWords are the fixed segments kept verbatim; anything else is a
// parameter. Keeping only known words is what bounds the label's values.
var staticWords = func() map[string]bool {
	s := set("repos", "app", "installation", "user", "access_tokens", "repositories",
		"hook", "config", "attempts", "files", "merge", "merges", "annotations", "rerequest",
		"status", "permission", "requested_reviewers", "git", "tags", "events", "timeline",
		"assignees", "rate_limit", "graphql", "search", "code", "meta", "zen", "dispatches",
		"collaborators", "check-runs", "check-suites", "preferences", "redeliveries", "pulls",
		"installation-requests", "contributors", "languages", "topics", "releases", "latest",
		"protection", "required_status_checks", "update-branch", "dismissals", "replies")
	for w := range paramAfter {
		s[w] = true
	}
	for w := range restAfter {
		s[w] = true
	}
	return s
}()

var methods = set("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

// EndpointTemplate turns a request into a bounded label such as
// "GET /repos/{owner}/{repo}/compare/{basehead}": owner, repository, numbers,
// SHAs, refs and file paths become named placeholders, unknown words become
// {param}. path must be relative to the API root (no /api/v3 prefix) and
// carry no query.
func EndpointTemplate(method, path string) string {
	method = strings.ToUpper(method)
	if !methods[method] {
		method = "OTHER"
	}
	var out []string
	prev := ""
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i := 0; i < len(segs); i++ {
		seg := segs[i]
		if seg == "" {
			continue
		}
		if len(out) >= maxSegments {
			out = append(out, "{…}")
			break
		}
		if prev == "repos" && len(out) == 1 {
			// /repos/{owner}/{repo}: repository names are often words
			// like "issues", so these two are parameters whatever they say.
			out = append(out, "{owner}")
			if i+1 < len(segs) {
				out = append(out, "{repo}")
				i++
			}
			prev = ""
			continue
		}
		if name, ok := restAfter[prev]; ok {
			out = append(out, name)
			break
		}
		if staticWords[seg] && !isNumber(seg) {
			out = append(out, seg)
			prev = seg
			continue
		}
		switch name, ok := paramAfter[prev]; {
		case ok:
			out = append(out, name)
		case isNumber(seg):
			out = append(out, "{id}")
		case isSHA(seg):
			out = append(out, "{sha}")
		default:
			out = append(out, "{param}")
		}
		prev = ""
	}
	return method + " /" + strings.Join(out, "/")
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
