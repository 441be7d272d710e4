package onboarding

import (
	"fmt"
	"strings"

	"github.com/housekeeper-app/housekeeper/internal/mapgen"
)

// Title is the onboarding pull request's title.
const Title = "Housekeeper: add the directory map"

// ConfigTemplate is the commented config the pull request adds when neither
// the repository nor its organisation has one (config is chosen whole-file:
// a repository file would hide the organisation's).
const ConfigTemplate = `# Housekeeper's config for this repository. Every key is optional; the
# values shown commented out are the defaults. An organisation-wide config
# in the organisation's .github repository applies only while this file
# does not exist.
version: 1
# dirs:
#   map: docs/dir.md          # where the directory map lives
#   enforce: true             # false: report only (neutral), never block
#   ignore: ["**/.*"]         # directories that never need an entry
#   max_depth: 0              # 0: no limit
#   layers:                   # what "housekeeper init" writes as Layer
#     - path: "terraform/**"
#       layer: L1
# secrets:
#   enforce: true             # false: report only
#   exclude_paths: []
# onboarding: true            # false: never open an onboarding pull request
# dashboard: false            # true: keep a "Housekeeping dashboard" issue
`

// BodyInput is what the description says.
type BodyInput struct {
	MapPath    string
	Result     *mapgen.Result
	WithConfig bool   // the PR adds ConfigTemplate
	ConfigFrom string // where the config that applies comes from ("" or "defaults": none)
}

// maxTODOLines bounds the TODO list in the description; the pull request's
// own dirs check lists every one.
const maxTODOLines = 40

// Body renders the pull request's description. Paths are written only
// when mapgen could write them into a map (no backticks, pipes or
// control characters) and always inside code spans; notes are escaped.
func Body(in BodyInput) string {
	var b strings.Builder
	r := in.Result
	fmt.Fprintf(&b, "Housekeeper is installed on this repository. It runs two checks on every pull request, and this one sets them up.\n\n")
	fmt.Fprintf(&b, "- **`housekeeper/dirs`** checks that every new directory is registered in the directory map `%s`, and that the map does not list directories that are gone.\n", in.MapPath)
	b.WriteString("- **`housekeeper/secrets`** checks that no bootstrap (Tier 1: cloud keys, provider tokens, private keys, Terraform state) or runtime (Tier 2: database URLs, API keys) secret is committed, and says where each belongs instead.\n\n")
	b.WriteString("### What this pull request adds\n\n")
	fmt.Fprintf(&b, "- `%s`: the map, generated from the tree. It lists %s, each with its **Function** (what lives there), **Layer** and **Namespace** (the Kubernetes namespace it deploys to; `-` for none). Annotations were inferred from READMEs, Chart.yaml descriptions, Go package comments, manifests and well-known layouts.\n", in.MapPath, count(len(r.Entries), "directory", "directories"))
	if in.WithConfig {
		fmt.Fprintf(&b, "- `.github/housekeeper.yml`: a commented config with every key at its default. Neither this repository nor the organisation has one; delete the file to keep it that way.\n")
	} else if in.ConfigFrom != "" && in.ConfigFrom != "defaults" {
		fmt.Fprintf(&b, "- No config: the one that applies is `%s`.\n", escape(in.ConfigFrom))
	}
	todos := r.TODOs()
	b.WriteString("\n### Still to do\n\n")
	if len(todos) == 0 {
		b.WriteString("Every annotation could be inferred; check that they are right.\n")
	} else {
		fmt.Fprintf(&b, "%s could not be inferred and say `TODO`. Fill them in on this branch before merging (the `housekeeper/dirs` check of this pull request lists every one, and passes once none is left):\n\n", count(len(todos), "annotation", "annotations"))
		for i, t := range todos {
			if i == maxTODOLines {
				fmt.Fprintf(&b, "- … and %d more\n", len(todos)-maxTODOLines)
				break
			}
			path, key, _ := strings.Cut(t, ": ")
			fmt.Fprintf(&b, "- [ ] `%s/`: %s\n", path, key)
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nNot in the map:\n\n")
		for _, n := range r.Notes {
			b.WriteString("- " + escape(n) + "\n")
		}
	}
	b.WriteString("\n### Once merged\n\n")
	b.WriteString("From then on, a pull request that adds a directory registers it in the map in the same pull request, and the map must keep up with the tree. To report without blocking while the team gets used to it, set `enforce: false` under `dirs` and `secrets` (here, or in the organisation's `.github` repository): both checks then conclude neutral.\n\n")
	b.WriteString("### Not now?\n\n")
	b.WriteString("Close this pull request: Housekeeper will not open it again. To stop onboarding pull requests altogether, set `onboarding: false` in this repository's `.github/housekeeper.yml` or in the organisation's `.github` repository. While it is open, Housekeeper keeps it in step with the default branch — until someone else pushes to it; from then on it is yours.\n")
	return b.String()
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// escape makes text safe in Markdown prose: no HTML, no code spans, no
// mentions, one line.
func escape(s string) string {
	return strings.NewReplacer(
		"<", "&lt;", ">", "&gt;", "`", "'", "@", "@\u200b", "\r", " ", "\n", " ",
		"[", "\\[", "]", "\\]", "*", "\\*", "_", "\\_", "|", "\\|", "#", "\\#",
	).Replace(s)
}

// StubsBody describes the stub-entries pull request a dashboard tick opens.
func StubsBody(mapPath string, r *mapgen.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Requested on the Housekeeping dashboard. This registers %s in `%s`, in the map's own format:\n\n", count(len(r.Entries), "directory", "directories"), mapPath)
	for i, e := range r.Entries {
		if i == maxTODOLines {
			fmt.Fprintf(&b, "- … and %d more\n", len(r.Entries)-maxTODOLines)
			break
		}
		fmt.Fprintf(&b, "- `%s/`\n", e.Path)
	}
	if todos := r.TODOs(); len(todos) > 0 {
		fmt.Fprintf(&b, "\n%s could not be inferred and say `TODO`: fill them in before merging (the `housekeeper/dirs` check of this pull request lists them).\n", count(len(todos), "annotation", "annotations"))
	}
	return b.String()
}
