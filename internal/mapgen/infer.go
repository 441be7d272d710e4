package mapgen

import (
	"encoding/json"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Bounds on what inference reads: per file, and per tree.
const (
	MaxFileRead  = 64 << 10
	MaxTotalRead = 32 << 20
	MaxFilesRead = 5000
	// MaxValue bounds an inferred annotation, in characters.
	MaxValue = 100
)

// Wanted reports whether inference may read a file (a README, Chart.yaml,
// package.json, Go source or YAML), so a caller streaming a tarball keeps
// only those.
func Wanted(p string) bool {
	base := strings.ToLower(path.Base(p))
	switch {
	case isReadme(base), base == "chart.yaml", base == "package.json":
		return true
	case strings.HasSuffix(base, ".go") && !strings.HasSuffix(base, "_test.go"):
		return true
	case strings.HasSuffix(base, ".yaml"), strings.HasSuffix(base, ".yml"):
		return true
	}
	return false
}

var readmeOrder = []string{"readme.md", "readme.markdown", "readme.rst", "readme.txt", "readme"}

func isReadme(base string) bool {
	for _, r := range readmeOrder {
		if base == r {
			return true
		}
	}
	return false
}

var (
	mdLinkRE   = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	mdRefRE    = regexp.MustCompile(`!?\[([^\]]*)\]\[[^\]]*\]`)
	htmlTagRE  = regexp.MustCompile(`<[^>]*>`)
	sentenceRE = regexp.MustCompile(`[.!?](\s|$)`)
	rstUnderRE = regexp.MustCompile(`^[=\-~^"'*+#:.]{3,}\s*$`)
	goPrefixRE = regexp.MustCompile(`^(?:Package|Command|Program)\s+\S+\s+(?:(?:is|are)\s+)?`)
)

// readmeSentence returns the first sentence of a README's first paragraph
// of prose (headings, badges, HTML, code, tables and front matter skipped).
func readmeSentence(data []byte) string {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var para []string
	fence, front := false, false
	for i, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case i == 0 && t == "---":
			front = true
			continue
		case front:
			if t == "---" {
				front = false
			}
			continue
		case strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~"):
			fence = !fence
			continue
		case fence:
			continue
		}
		skip := t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "<") ||
			strings.HasPrefix(t, "[![") || strings.HasPrefix(t, "![") || strings.HasPrefix(t, "|") ||
			strings.HasPrefix(t, ">") || strings.HasPrefix(t, "..") || rstUnderRE.MatchString(t) ||
			strings.HasPrefix(t, "[") && strings.Contains(t, "]:")
		// An rst title is the line above its underline.
		if !skip && i+1 < len(lines) && rstUnderRE.MatchString(strings.TrimSpace(lines[i+1])) {
			skip = true
		}
		if skip {
			if len(para) > 0 {
				break
			}
			continue
		}
		para = append(para, t)
	}
	text := strings.Join(para, " ")
	text = mdLinkRE.ReplaceAllString(text, "$1")
	text = mdRefRE.ReplaceAllString(text, "$1")
	text = htmlTagRE.ReplaceAllString(text, "")
	text = strings.NewReplacer("**", "", "__", "", "`", "").Replace(text)
	return firstSentence(text)
}

func firstSentence(s string) string {
	if loc := sentenceRE.FindStringIndex(s); loc != nil {
		s = s[:loc[0]]
	}
	return strings.TrimSpace(s)
}

// chartDescription reads a Chart.yaml's description (or names the chart).
func chartDescription(data []byte) string {
	var c struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
	}
	var n yaml.Node
	if yaml.Unmarshal(data, &n) != nil || len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
		return ""
	}
	// Decoding a node never expands aliases into new memory beyond the
	// document itself; a scalar field with an alias is simply refused.
	if n.Content[0].Decode(&c) != nil {
		return ""
	}
	if d := firstSentence(c.Description); d != "" {
		return d
	}
	if c.Name != "" {
		return "Helm chart " + c.Name
	}
	return "Helm chart"
}

// goSynopsis reads a Go file's package comment, first sentence, with the
// "Package x" prefix turned into a description.
func goSynopsis(name string, data []byte) string {
	f, err := parser.ParseFile(token.NewFileSet(), name, data, parser.PackageClauseOnly|parser.ParseComments)
	if err != nil || f.Doc == nil {
		return ""
	}
	var p comment.Parser
	d := p.Parse(f.Doc.Text())
	var pr comment.Printer
	text := string(pr.Text(d))
	text = strings.Join(strings.Fields(text), " ")
	s := firstSentence(text)
	// "Package store keeps …" and "Command orders serves …" describe
	// themselves by name; the map's row already names the directory.
	if m := goPrefixRE.FindStringSubmatch(s); m != nil {
		s = capitalise(s[len(m[0]):])
	}
	return s
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// packageDescription reads package.json's description.
func packageDescription(data []byte) string {
	var p struct {
		Description string `json:"description"`
	}
	if json.Unmarshal(data, &p) != nil {
		return ""
	}
	return firstSentence(p.Description)
}

// wellKnown names common layouts by the directory's own name.
var wellKnown = map[string]string{
	"terraform": "Terraform configuration", "tf": "Terraform configuration",
	"modules": "Modules", "envs": "Environments", "environments": "Environments",
	"helm": "Helm charts", "charts": "Helm charts",
	"argocd": "Argo CD applications", "argo-cd": "Argo CD applications", "argo": "Argo CD applications",
	"k8s": "Kubernetes manifests", "kubernetes": "Kubernetes manifests", "manifests": "Kubernetes manifests",
	"kustomize": "Kustomize bases and overlays", "overlays": "Kustomize overlays", "base": "Kustomize base",
	"ansible": "Ansible playbooks and roles", "roles": "Ansible roles", "playbooks": "Ansible playbooks",
	"cmd": "Command entry points", "internal": "Internal Go packages", "pkg": "Go packages",
	"docs": "Documentation", "doc": "Documentation", "scripts": "Scripts", "hack": "Development scripts",
	"test": "Tests", "tests": "Tests", "testdata": "Test fixtures", "examples": "Examples",
	"deploy": "Deployment", "deployment": "Deployment", "tools": "Tools", "vendor": "Vendored dependencies",
	"third_party": "Third-party code", "src": "Source code", "lib": "Libraries",
	"config": "Configuration", "configs": "Configuration", "migrations": "Database migrations",
	"packages": "Packages", "apps": "Applications", "services": "Services", "clusters": "Cluster configuration",
	"infrastructure": "Infrastructure", "policies": "Policies", "templates": "Templates", "crds": "Custom resource definitions",
}

// layoutFunction infers a Function from the files directly in a directory
// and its name.
func layoutFunction(dir string, names []string) string {
	hasExt := func(ext string) bool {
		for _, n := range names {
			if strings.HasSuffix(strings.ToLower(n), ext) {
				return true
			}
		}
		return false
	}
	has := func(base string) bool {
		for _, n := range names {
			if strings.EqualFold(n, base) {
				return true
			}
		}
		return false
	}
	under := func(c string) bool {
		for _, p := range strings.Split(dir, "/") {
			if p == c {
				return true
			}
		}
		return false
	}
	switch {
	case hasExt(".tf") && under("modules"):
		return "Terraform module"
	case hasExt(".tf"):
		return "Terraform configuration"
	case has("kustomization.yaml") || has("kustomization.yml"):
		if under("overlays") {
			return "Kustomize overlay"
		}
		return "Kustomize base"
	case has("go.mod"):
		return "Go module"
	case has("Dockerfile") && len(names) == 1:
		return "Container image"
	}
	return wellKnown[strings.ToLower(path.Base(dir))]
}

// clean makes inferred text safe to write into any map format: printable
// letters, digits and a few punctuation marks only, one line, bounded, no
// "(planned)" marker; "" when nothing useful is left.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, " ")
	}
	s = htmlTagRE.ReplaceAllString(s, " ")
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case strings.ContainsRune(" .,:'\"()/+-=%?!@…", r):
			b.WriteRune(r)
		case r == '&':
			b.WriteString(" and ")
		default:
			b.WriteRune(' ')
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	out = plannedRE.ReplaceAllString(out, "")
	out = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(out), ":,"))
	if utf8.RuneCountInString(out) > MaxValue {
		rs := []rune(out)[:MaxValue-1]
		cut := string(rs)
		if i := strings.LastIndex(cut, " "); i > MaxValue/2 {
			cut = cut[:i]
		}
		out = strings.TrimRight(cut, " .,:") + "…"
	}
	if out == "" || out == "-" || strings.EqualFold(out, "todo") || strings.EqualFold(out, "none") {
		return ""
	}
	return out
}

var plannedRE = regexp.MustCompile(`(?i)\(\s*planned\s*\)`)

// safeName reports whether a directory name can be written into every map
// format and read back as itself.
func safeName(name string) bool {
	if name == "" || !utf8.ValidString(name) || strings.TrimSpace(name) != name {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || unicode.IsControl(r) || r == '\u00a0' || r == '\u2028' || r == '\u2029' {
			return false
		}
		if strings.ContainsRune("|`#*?[]{}\\;<>&\"", r) {
			return false
		}
	}
	if strings.HasPrefix(name, "-") || strings.HasPrefix(name, "─") || strings.Contains(name, "  ") {
		return false
	}
	return true
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
