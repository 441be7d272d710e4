package secrets

import (
	"bytes"
	"path"
	"strings"
)

// SkipReason says why a file's content was not scanned.
type SkipReason string

// Reasons a file's content is not scanned. File-name rules still apply.
const (
	SkipTooLarge  SkipReason = "larger than max_file_size"
	SkipBinary    SkipReason = "binary"
	SkipLockFile  SkipReason = "lock or checksum file"
	SkipMinified  SkipReason = "minified or generated asset"
	SkipReadError SkipReason = "could not be read"
)

// lockFiles hold package hashes and registry URLs, never credentials worth
// the noise they would produce.
var lockFiles = map[string]bool{
	"go.sum": true, "go.work.sum": true, "package-lock.json": true,
	"npm-shrinkwrap.json": true, "yarn.lock": true, "pnpm-lock.yaml": true,
	"bun.lockb": true, "cargo.lock": true, "poetry.lock": true,
	"pipfile.lock": true, "gemfile.lock": true, "composer.lock": true,
	"mix.lock": true, "pubspec.lock": true, "packages.lock.json": true,
	"gradle.lockfile": true, "flake.lock": true, ".terraform.lock.hcl": true,
	"uv.lock": true, "pdm.lock": true, "podfile.lock": true,
	"package.resolved": true, "sha256sums": true, "sha512sums": true,
	"md5sums": true, "checksums.txt": true,
}

// binaryExts are never content-scanned, whatever their bytes look like.
var binaryExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".bmp": true,
	".ico": true, ".webp": true, ".tif": true, ".tiff": true, ".pdf": true,
	".zip": true, ".gz": true, ".tgz": true, ".bz2": true, ".xz": true,
	".zst": true, ".7z": true, ".rar": true, ".jar": true, ".war": true,
	".class": true, ".so": true, ".dll": true, ".dylib": true, ".exe": true,
	".a": true, ".o": true, ".wasm": true, ".pyc": true, ".woff": true,
	".woff2": true, ".ttf": true, ".otf": true, ".eot": true, ".mp3": true,
	".mp4": true, ".mov": true, ".avi": true, ".webm": true, ".ogg": true,
	".wav": true, ".flac": true, ".p12": true, ".pfx": true, ".der": true,
	".jks": true, ".keystore": true, ".db": true, ".sqlite": true,
	".bin": true, ".dat": true, ".iso": true, ".img": true, ".syso": true,
}

// minifiedSuffixes are generated assets whose content is not reviewed.
var minifiedSuffixes = []string{".min.js", ".min.css", ".min.mjs", ".js.map", ".css.map", ".min.map"}

// contentScan says why a file's content must not be scanned ("" when it
// may be). size is the file's size; head, when non-nil, its first bytes.
func contentScan(p string, head []byte, size, maxSize int64) SkipReason {
	base := strings.ToLower(path.Base(p))
	switch {
	case size > maxSize:
		return SkipTooLarge
	case binaryExts[path.Ext(base)]:
		return SkipBinary
	case lockFiles[base] || strings.HasSuffix(base, ".sum") || strings.HasSuffix(base, ".sha256") || strings.HasSuffix(base, ".sha512"):
		return SkipLockFile
	}
	for _, s := range minifiedSuffixes {
		if strings.HasSuffix(base, s) {
			return SkipMinified
		}
	}
	if isBinary(head) {
		return SkipBinary
	}
	return ""
}

// isBinary: a NUL byte in the first 8 KiB, as git decides.
func isBinary(data []byte) bool {
	if len(data) > 8<<10 {
		data = data[:8<<10]
	}
	return bytes.IndexByte(data, 0) >= 0
}

// fileRule evaluates a file rule: the name matched (appliesTo); a content
// condition, when the rule has a regex, must match with a value that is
// not a placeholder. The finding points at that match's line, or at no
// line.
func (fs *fileScan) fileRule(r *Rule, scanContent bool) {
	c := candidate{rule: r, tier: r.Tier, start: -1, end: -1}
	if r.re != nil {
		if !scanContent {
			return
		}
		found := false
		for _, m := range r.re.FindAllSubmatchIndex(fs.data, 64) {
			vs, ve := m[0], m[1]
			for _, g := range r.secretIdx {
				if m[2*g] >= 0 {
					vs, ve = m[2*g], m[2*g+1]
					break
				}
			}
			if ve > vs && placeholderFor(r, string(fs.data[vs:ve])) {
				continue
			}
			ls, _ := lineBounds(fs.data, m[0])
			c.line = fs.lineAt(ls)
			c.col = 1
			found = true
			break
		}
		if !found {
			return
		}
	}
	fs.cands = append(fs.cands, c)
}
