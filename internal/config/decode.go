package config

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxSize bounds a config file; anything larger is refused unread.
const MaxSize = 1 << 20

// Parse reads a config file's content. name is used in errors and as the
// config's Source. An empty file gives the defaults.
func Parse(name string, data []byte) (*Config, error) {
	cfg := Default()
	cfg.Source = name
	if len(data) > MaxSize {
		return nil, Errors{{File: name, Msg: fmt.Sprintf("file is %d bytes; the limit is %d", len(data), MaxSize)}}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Errors{yamlError(name, err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return cfg, nil // empty file
	}
	d := &decoder{file: name}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return cfg, nil
	}
	d.value(root, reflect.ValueOf(cfg).Elem(), "")
	// Values are validated even when some did not decode, so that one
	// reading reports every problem; a key that failed to decode is not
	// judged again on the default it kept.
	decodeErrs := d.errs
	for _, e := range validate(name, cfg, root) {
		if !failed(decodeErrs, e.Key) {
			d.errs = append(d.errs, e)
		}
	}
	if len(d.errs) > 0 {
		sort.SliceStable(d.errs, func(i, j int) bool { return d.errs[i].Line < d.errs[j].Line })
		return nil, d.errs
	}
	return cfg, nil
}

// yamlError turns a yaml.v3 syntax error ("yaml: line 3: ...") into ours.
func yamlError(name string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, convErr := strconv.Atoi(rest[:i]); convErr == nil {
				line, msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return &Error{File: name, Line: line, Msg: "invalid YAML: " + msg}
}

type decoder struct {
	file string
	errs Errors
}

func (d *decoder) fail(n *yaml.Node, key, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// failed reports whether key, or a key that contains it, did not decode.
func failed(decodeErrs Errors, key string) bool {
	for _, e := range decodeErrs {
		k := e.Key
		if k == "" || key == k || strings.HasPrefix(key, k+".") || strings.HasPrefix(key, k+"[") {
			return true
		}
	}
	return false
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// value decodes n into v strictly: unknown and duplicate keys are errors,
// and so is a value of the wrong kind, each naming its line and key.
func (d *decoder) value(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind == yaml.AliasNode {
		d.fail(n, key, "aliases are not supported")
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.fail(n, key, "%s", cleanDecodeError(err))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.mapping(n, v, key)
	case reflect.Map:
		d.keyed(n, v, key)
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.fail(n, key, "expected a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.value(item, s.Index(i), fmt.Sprintf("%s[%d]", key, i))
		}
		v.Set(s)
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, key, "expected %s, got %s", kindName(v.Kind()), describe(n))
			return
		}
		if v.Kind() == reflect.String && n.Tag != "!!str" && n.Tag != "!!null" {
			// "version: 1" for a string field is a mistake worth naming,
			// except for plain words YAML reads as other types.
			if n.Tag != "!!int" && n.Tag != "!!float" && n.Tag != "!!bool" {
				d.fail(n, key, "expected a string, got %s", describe(n))
				return
			}
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.fail(n, key, "expected %s, got %s", kindName(v.Kind()), describe(n))
		}
	default:
		d.fail(n, key, "unsupported field type %s", v.Type())
	}
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // "dirs:" with nothing under it keeps the defaults
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "expected a mapping, got %s", describe(n))
		return
	}
	fields := map[string]int{}
	var names []string
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name := k.Value
		full := name
		if key != "" {
			full = key + "." + name
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k, key, "keys must be plain words")
			continue
		}
		if line, dup := seen[name]; dup {
			d.fail(k, full, "duplicate key (first set on line %d)", line)
			continue
		}
		seen[name] = k.Line
		fi, ok := fields[name]
		if !ok {
			d.fail(k, full, "unknown key (valid keys: %s)", strings.Join(names, ", "))
			continue
		}
		d.value(val, v.Field(fi), full)
	}
}

// keyed decodes a mapping whose keys the user chooses (e.g. annotation
// names) into a map with string keys, each value decoded strictly.
func (d *decoder) keyed(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "expected a mapping, got %s", describe(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			d.fail(k, key, "keys must be plain words")
			continue
		}
		full := key + "." + k.Value
		if line, dup := seen[k.Value]; dup {
			d.fail(k, full, "duplicate key (first set on line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(val, elem, full)
		m.SetMapIndex(reflect.ValueOf(k.Value), elem)
	}
	v.Set(m)
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	}
	return k.String()
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return strconv.Quote(v)
}

func cleanDecodeError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "line ") {
			msg = msg[i+2:]
		}
		return msg
	}
	return err.Error()
}
