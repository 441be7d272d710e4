package server

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxFileSize bounds the settings file; anything larger is refused unread.
const maxFileSize = 1 << 20

// ConfigEnv names the optional settings file.
const ConfigEnv = "HOUSEKEEPER_CONFIG"

// origin is where a setting's value came from, as problems name it.
type origin struct {
	env  string // the environment variable, or
	file string // the settings file,
	line int    // line,
	key  string // and key
}

func (o origin) String() string {
	if o.env != "" {
		return o.env
	}
	return fmt.Sprintf("%s:%d: %s", o.file, o.line, o.key)
}

// short is the origin without the key, for Describe's "from" column.
func (o origin) short() string {
	if o.env != "" {
		return o.env
	}
	return fmt.Sprintf("%s:%d", o.file, o.line)
}

type rawValue struct {
	val string
	at  origin
}

type problem struct {
	rank int // index in settings; -1 for the file as a whole
	text string
}

// ConfigError lists every problem found in the settings.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid settings: " + e.Problems[0]
	}
	return fmt.Sprintf("invalid settings (%d problems):\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// Load reads the settings: defaults, then the YAML file named by
// HOUSEKEEPER_CONFIG, then the environment, and validates them. lookup is
// os.LookupEnv (tests pass their own); an empty variable counts as unset.
// On error the *ConfigError lists every problem, and the Config is still
// returned so --check-config can show what was understood.
func Load(lookup func(string) (string, bool)) (*Config, error) {
	c := Default()
	c.origin = map[string]origin{}
	c.bad = map[string]bool{}
	var probs []problem

	vals := map[string]rawValue{}
	if path, ok := lookupSet(lookup, ConfigEnv); ok {
		c.File = path
		fileVals, fileProbs := readFile(path)
		probs = fileProbs
		for k, v := range fileVals {
			vals[k] = v
		}
	}
	fromEnv := map[string]rawValue{}
	for _, s := range settings {
		if v, ok := lookupSet(lookup, s.env); ok {
			fromEnv[s.key] = rawValue{val: v, at: origin{env: s.env}}
		}
	}
	for _, pair := range secretPairs {
		_, a := fromEnv[pair[0]]
		_, b := fromEnv[pair[1]]
		if a || b {
			delete(vals, pair[0])
			delete(vals, pair[1])
		}
	}
	for k, v := range fromEnv {
		vals[k] = v
	}

	for i, s := range settings {
		v, ok := vals[s.key]
		if !ok {
			continue
		}
		c.origin[s.key] = v.at
		if err := s.parse(c, v.val); err != nil {
			probs = append(probs, problem{i, v.at.String() + ": " + err.Error()})
			c.bad[s.key] = true
		}
	}
	probs = append(probs, c.readSecretFiles(vals)...)
	c.problems = probs
	return c, c.Validate()
}

func lookupSet(lookup func(string) (string, bool), name string) (string, bool) {
	v, ok := lookup(name)
	return v, ok && v != ""
}

// emptyFileHint says what an empty secret file should hold.
func emptyFileHint(key string) string {
	if key == "redis_password" {
		return "it must hold the Redis password (or leave the setting unset when Redis needs none)"
	}
	if key == "private_key" {
		return "it must hold the App's private key: the .pem file GitHub downloads from the App's settings (Private keys → Generate a private key), an RSA key in PKCS#1 PEM"
	}
	return "it must hold the webhook secret, the same value as in the App's settings (Webhook secret); any random string works for a local try, e.g. openssl rand -hex 32"
}

// readSecretFiles resolves each secret given as a path, refusing a value and
// a path together since which one wins would be a guess.
func (c *Config) readSecretFiles(vals map[string]rawValue) []problem {
	var probs []problem
	for _, pair := range secretPairs {
		valKey, pathKey := pair[0], pair[1]
		v, hasVal := vals[valKey]
		p, hasPath := vals[pathKey]
		rank := settingIndex(valKey)
		switch {
		case hasVal && hasPath:
			probs = append(probs, problem{rank, fmt.Sprintf("%s: cannot be combined with %s; give the value or a file, not both", v.at, p.at)})
			c.bad[valKey] = true
		case hasPath:
			path := p.val
			if p.at.file != "" && !filepath.IsAbs(path) {
				path = filepath.Join(filepath.Dir(p.at.file), path)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				probs = append(probs, problem{rank, fmt.Sprintf("%s: cannot read the file: %v", p.at, err)})
				c.bad[valKey] = true
				continue
			}
			switch valKey {
			case "webhook_secret", "redis_password":
				// Files written with echo or an editor end in a newline that
				// is not part of the secret.
				data = []byte(strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r"))
			}
			if len(strings.TrimSpace(string(data))) == 0 {
				probs = append(probs, problem{rank, fmt.Sprintf("%s: the file %s is empty; %s", p.at, path, emptyFileHint(valKey))})
				c.bad[valKey] = true
				continue
			}
			switch valKey {
			case "webhook_secret":
				c.WebhookSecret = NewSecret(data)
			case "redis_password":
				c.RedisPassword = NewSecret(data)
			default:
				c.PrivateKey = NewSecret(data)
			}
			c.origin[valKey] = p.at
		}
	}
	return probs
}

func readFile(path string) (map[string]rawValue, []problem) {
	info, err := os.Stat(path)
	if err == nil && info.Size() > maxFileSize {
		return nil, []problem{{-1, fmt.Sprintf("%s: %s: file is %d bytes; the limit is %d", ConfigEnv, path, info.Size(), maxFileSize)}}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, []problem{{-1, fmt.Sprintf("%s: cannot read the settings file: %v", ConfigEnv, err)}}
	}
	return decodeFile(path, data)
}

// decodeFile reads a flat YAML mapping of setting keys to scalar values.
// Unknown and duplicate keys and non-scalar values are errors naming the
// file, line and key; values are parsed later with the same code as the
// environment's, so both sources accept exactly the same spellings.
func decodeFile(name string, data []byte) (map[string]rawValue, []problem) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []problem{{-1, yamlError(name, err)}}
	}
	if len(doc.Content) == 0 {
		return nil, nil // an empty file
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, []problem{{-1, fmt.Sprintf("%s:%d: expected a mapping of settings (key: value)", name, root.Line)}}
	}
	vals := map[string]rawValue{}
	var probs []problem
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		at := origin{file: name, line: k.Line, key: k.Value}
		rank := settingIndex(k.Value)
		switch {
		case rank < 0:
			probs = append(probs, problem{-1, fmt.Sprintf("%s: unknown key (valid keys: %s)", at, strings.Join(settingKeys(), ", "))})
		case vals[k.Value].at.line != 0:
			probs = append(probs, problem{rank, fmt.Sprintf("%s: set twice (first on line %d)", at, vals[k.Value].at.line)})
		case v.Kind != yaml.ScalarNode:
			probs = append(probs, problem{rank, fmt.Sprintf("%s: expected a single value, got a %s", at, nodeKind(v))})
		case v.Tag == "!!null":
			probs = append(probs, problem{rank, fmt.Sprintf("%s: has no value (remove the key to use the default)", at)})
		default:
			vals[k.Value] = rawValue{val: v.Value, at: at}
		}
	}
	return vals, probs
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	}
	return "value"
}

// yamlError turns yaml.v3's "yaml: line 3: …" into "file:3: invalid YAML: …".
func yamlError(name string, err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, convErr := strconv.Atoi(rest[:i]); convErr == nil {
				return fmt.Sprintf("%s:%d: invalid YAML: %s", name, n, strings.TrimSpace(rest[i+1:]))
			}
		}
	}
	return fmt.Sprintf("%s: invalid YAML: %s", name, msg)
}

func settingIndex(key string) int {
	for i, s := range settings {
		if s.key == key {
			return i
		}
	}
	return -1
}

func settingKeys() []string {
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.key
	}
	return keys
}

func sortProblems(probs []problem) []string {
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].rank < probs[j].rank })
	out := make([]string, len(probs))
	for i, p := range probs {
		out[i] = p.text
	}
	return out
}
