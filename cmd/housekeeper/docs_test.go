package main

import (
	"bytes"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// trackedFiles lists the repository's files (tracked, and new ones not
// ignored), relative to its top.
func trackedFiles(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", filepath.Join("..", ".."), "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files
}

// The project stands alone: no tracked file (docs, code, comments, tests,
// scripts) points at the team's specification kept outside the repository,
// at a sibling checkout, or at a numbered section of a spec. Docs say in
// their own words what they promise. The patterns are assembled here so
// this file does not match itself.
func TestNothingCitesOutsideTheProject(t *testing.T) {
	forbidden := regexp.MustCompile(regexp.QuoteMeta("PRODUCT"+".md") + "|" + regexp.QuoteMeta(".."+"/shared") + "|" + "\u00a7" + `\s*\d`)
	for _, f := range trackedFiles(t) {
		data, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(f)))
		if err != nil {
			if os.IsNotExist(err) {
				continue // deleted in the working tree, not yet committed
			}
			t.Fatal(err)
		}
		if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
			continue // binary
		}
		for i, line := range strings.Split(string(data), "\n") {
			if m := forbidden.FindString(line); m != "" {
				t.Errorf("%s:%d cites %q, outside the project: say it in the project's own docs instead", f, i+1, m)
			}
		}
	}
}

// Every relative link in the README and docs/ reaches a tracked file.
func TestDocLinksResolve(t *testing.T) {
	files := trackedFiles(t)
	tracked := map[string]bool{}
	for _, f := range files {
		tracked[f] = true
		for d := path.Dir(f); d != "."; d = path.Dir(d) {
			tracked[d] = true
		}
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// Code (fenced blocks, inline spans, which may run over lines) is not
	// prose: a regular expression there may look like a link.
	inline := regexp.MustCompile("`[^`]*`")
	prose := func(doc string) string {
		var out []string
		fenced := false
		for _, line := range strings.Split(doc, "\n") {
			if t := strings.TrimSpace(line); strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
				fenced = !fenced
				continue
			}
			if !fenced {
				out = append(out, line)
			}
		}
		return inline.ReplaceAllString(strings.Join(out, "\n"), "")
	}
	for _, f := range files {
		if !strings.HasSuffix(f, ".md") || !(f == "README.md" || strings.HasPrefix(f, "docs/")) {
			continue
		}
		data, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(prose(string(data)), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			p := path.Clean(path.Join(path.Dir(f), target))
			if !tracked[p] {
				t.Errorf("%s links to %s, which is not in the repository", f, m[1])
			}
		}
	}
}

// Code quoted in the docs is the code: docs/server.md shows appHandlers as
// serve.go defines it.
func TestServerDocQuotesAppHandlers(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "server.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("serve.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?s)var appHandlers = func\(deps AppDeps\) \(\*app\.App, error\) \{\n.*?\n\}\n`)
	d, s := re.Find(doc), re.Find(src)
	if d == nil || s == nil || string(d) != string(s) {
		t.Errorf("docs/server.md quotes\n%s\nserve.go has\n%s", d, s)
	}
}
