// Package webhooks holds a few of GitHub's example webhook deliveries
// (copies of the ones the emulator's tests use, from
// @octokit/webhooks-examples) for `housekeeper hook send`: trying a local
// server without GitHub. The emulator itself stays out of the binary.
package webhooks

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed examples/*.json
var examples embed.FS

// Names lists the examples, e.g. "pull_request.opened.1".
func Names() []string {
	entries, _ := fs.ReadDir(examples, "examples")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(out)
	return out
}

// Example returns an example by name: "EVENT.ACTION.N", or without the
// number (the first of that action), or the event alone when it has no
// action (push, ping). It also returns the X-GitHub-Event header value.
func Example(name string) (event string, body []byte, err error) {
	for _, n := range Names() {
		if n == name || strings.HasPrefix(n, name+".") && isNumber(n[len(name)+1:]) {
			body, err := examples.ReadFile(path.Join("examples", n+".json"))
			if err != nil {
				return "", nil, err
			}
			event, _, _ := strings.Cut(n, ".")
			return event, body, nil
		}
	}
	return "", nil, fmt.Errorf("no example %q (examples: %s)", name, strings.Join(Names(), ", "))
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
