package githubtest

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// GitHub's official example payloads (testdata/webhooks, from
// @octokit/webhooks-examples) and our adapted copies for the cases they
// lack (testdata/webhooks/adapted; see testdata/README.md).
//
//go:embed testdata/webhooks
var examplesFS embed.FS

// Example returns an example webhook body by file name without ".json",
// e.g. "pull_request.opened.2" or "adapted/issue_comment.created.pull_request".
// It panics on an unknown name: examples are fixed test data.
func Example(name string) []byte {
	data, err := examplesFS.ReadFile(path.Join("testdata/webhooks", name+".json"))
	if err != nil {
		panic(fmt.Sprintf("githubtest: no example payload %q", name))
	}
	return data
}

// Examples lists the example payload names.
func Examples() []string {
	var names []string
	_ = fs.WalkDir(examplesFS, "testdata/webhooks", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(p, "testdata/webhooks/"), ".json"))
		}
		return nil
	})
	sort.Strings(names)
	return names
}

// ExampleEvent is the X-GitHub-Event of an example: its name up to the
// first dot ("adapted/" dropped).
func ExampleEvent(name string) string {
	event, _, _ := strings.Cut(path.Base(name), ".")
	return event
}
