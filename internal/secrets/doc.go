// Package secrets is Housekeeper's secret-hygiene engine (docs/secrets.md):
// a pure engine that takes paths, bytes and diffs and returns findings. It
// knows nothing of GitHub, HTTP or the config file format.
//
// # Rules
//
// Rules are data: rules.yaml, documented in docs/secrets.md, is built in
// as rules_gen.go (go generate; a test fails while it is stale).
// Each RuleSpec has an id, a tier (bootstrap or runtime), a kind (secret,
// file or structural), lower-case keywords, a regex with a secret group, an
// optional entropy floor, allow patterns, path globs and a specificity. The
// repository config's secrets.rules.add uses the same format: decode it into
// []RuleSpec (strictly, by the yaml tags) and pass it as Options.Add;
// CompileRules reports every invalid field with the rule's index and id.
//
// # Scanning
//
// Compile once with New, then:
//
//   - ScanContent(path, content) scans a whole file;
//   - ScanChange(FileDiff, content) scans a change: findings on added
//     lines, and notices (Deleted) for secrets on deleted lines. ParseDiff
//     reads `git diff` / `git show -p` output and ParsePatch GitHub's
//     per-file patch field;
//   - ScanTree(ctx, files) scans a tree in parallel from any file source
//     (a directory walk, a streamed tarball), skipping and reporting files
//     over MaxFileSize.
//
// One pass of a case-folding Aho–Corasick automaton over each file finds
// every rule keyword; regular expressions only run on the lines around a hit
// (a private-key block from its BEGIN line to its END line). Structural rules
// parse YAML (bounded in size and depth) only when their keywords occur.
// Binary files, lock and checksum files and minified assets are never
// content-scanned; file-name rules still apply to them.
//
// # Findings
//
// A Finding never holds the secret: only Redacted (at most 4 characters and
// at most a quarter of the value) and a Fingerprint, RULE:HASH over the rule
// id, the path and the normalised value. Where several rules match one
// value, the most specific rule wins (token formats > structural rules >
// generic assignments) and gives the tier; findings are unique by
// fingerprint within a scan (Dedupe does the same across scans, e.g. the
// commits of a pull request).
//
// Suppression is the caller's policy, with two helpers: Options.Ignore marks
// findings whose fingerprint it lists as Suppressed (with SuppressedBy), and
// Allowed says the line carries an inline "housekeeper:allow" comment (or
// detect-secrets' "pragma: allowlist secret"), which
// the caller honours only where that line already exists on the base (always
// in a whole-tree audit); AllowedBy names the marker, so the caller can say
// which comment it honoured.
package secrets
