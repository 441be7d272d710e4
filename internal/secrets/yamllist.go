package secrets

import (
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// A YAML sequence of strings under a key naming passwords in the plural
// (passwords:, db_passwords:) holds the passwords themselves, one an item;
// the line rules see "- value" without its key and cannot tell.

var (
	passwordListKey = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)(?:^|[_.-]|[a-z0-9])passw(?:or)?ds$|^passw(?:or)?ds$`)
	})
	// lists of passwords that are not credentials: the ones a password
	// policy rejects or a test suite tries.
	passwordListPolicyKey = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)common|banned|weak|forbid|block|black|deny|disallow|invalid|bad|breach|leak|compromis|known|reject|dictionary|wordlist|guess|brute|blank|empty`)
	})
)

func analyseYAMLPasswordLists(fs *fileScan, r *Rule) {
	if !isYAMLPath(fs.path) {
		return
	}
	for _, doc := range fs.yamlDocs() {
		fs.passwordLists(r, doc, 0)
	}
}

func (fs *fileScan) passwordLists(r *Rule, n *yaml.Node, depth int) {
	if depth > maxYAMLDepth {
		return
	}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, it := range n.Content {
			fs.passwordLists(r, it, depth+1)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.SequenceNode || !passwordListKey().MatchString(k.Value) || passwordListPolicyKey().MatchString(k.Value) {
				if v.Kind != yaml.ScalarNode {
					fs.passwordLists(r, v, depth+1)
				}
				continue
			}
			tier := r.Tier
			if r.escKey != nil && r.escKey.MatchString(k.Value) {
				tier = Bootstrap
			}
			for _, it := range v.Content {
				if it.Kind == yaml.ScalarNode && it.Tag == "!!str" && listedPassword(r, it.Value) {
					fs.emit(r, tier, it.Line, it)
				}
			}
		}
	}
}

// listedPassword: a literal that reads as a password, not a stand-in, a
// template, a reference or a sentence.
func listedPassword(r *Rule, v string) bool {
	if len(v) < 6 || len(v) > 256 || strings.ContainsAny(v, " \t\n") || templated(v) || placeholderFor(r, v) {
		return false
	}
	return r.strongEnough(v)
}
