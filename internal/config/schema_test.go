package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// schemaPath is the published JSON Schema of the config file.
var schemaPath = filepath.Join("..", "..", "docs", "housekeeper.schema.json")

func loadSchemaDoc(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", schemaPath, err)
	}
	return doc
}

// The schema describes exactly what the strict decoder reads: walking the
// decoder's structs by reflection, every yaml key is a schema property of
// a compatible type and every schema property is a key, with
// additionalProperties false throughout. A key added to the decoder
// without the schema (or the reverse) fails here.
func TestSchemaMatchesTheDecoder(t *testing.T) {
	doc := loadSchemaDoc(t)
	defs, _ := doc["$defs"].(map[string]any)
	var walk func(typ reflect.Type, node map[string]any, key string)
	walk = func(typ reflect.Type, node map[string]any, key string) {
		if ref, ok := node["$ref"].(string); ok {
			node, _ = defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
			if node == nil {
				t.Errorf("%s: unresolved $ref %s", key, ref)
				return
			}
		}
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if reflect.PointerTo(typ).Implements(unmarshalerType) {
			if !schemaType(node, "string") {
				t.Errorf("%s: the decoder reads a string (%s); the schema says %v", key, typ, node["type"])
			}
			return
		}
		switch typ.Kind() {
		case reflect.Struct:
			if !schemaType(node, "object") || node["additionalProperties"] != false {
				t.Errorf("%s: want an object with additionalProperties false", key)
			}
			props, _ := node["properties"].(map[string]any)
			var fields []string
			for i := 0; i < typ.NumField(); i++ {
				tag := strings.Split(typ.Field(i).Tag.Get("yaml"), ",")[0]
				if tag == "" || tag == "-" {
					continue
				}
				fields = append(fields, tag)
				sub, ok := props[tag].(map[string]any)
				if !ok {
					t.Errorf("%s: the decoder reads key %q, which the schema does not describe", key, join(key, tag))
					continue
				}
				walk(typ.Field(i).Type, sub, join(key, tag))
			}
			for p := range props {
				if !contains(fields, p) {
					t.Errorf("%s: the schema describes key %q, which the decoder refuses", key, join(key, p))
				}
			}
		case reflect.Slice:
			items, _ := node["items"].(map[string]any)
			if !schemaType(node, "array") || items == nil {
				t.Errorf("%s: want an array with items", key)
				return
			}
			walk(typ.Elem(), items, key+"[]")
		case reflect.Map:
			values, _ := node["additionalProperties"].(map[string]any)
			if !schemaType(node, "object") || values == nil {
				t.Errorf("%s: want an object whose additionalProperties is the values' schema", key)
				return
			}
			walk(typ.Elem(), values, key+".*")
		case reflect.String:
			if !schemaType(node, "string") && node["enum"] == nil {
				t.Errorf("%s: want a string", key)
			}
		case reflect.Bool:
			if !schemaType(node, "boolean") {
				t.Errorf("%s: want a boolean", key)
			}
		case reflect.Int, reflect.Int64:
			if !schemaType(node, "integer") && node["const"] == nil {
				t.Errorf("%s: want an integer", key)
			}
		case reflect.Float64:
			if !schemaType(node, "number") {
				t.Errorf("%s: want a number", key)
			}
		default:
			t.Errorf("%s: no schema check for %s", key, typ)
		}
	}
	walk(reflect.TypeOf(Config{}), doc, "")
}

func schemaType(node map[string]any, want string) bool {
	switch v := node["type"].(type) {
	case string:
		return v == want
	case []any:
		for _, x := range v {
			if x == want {
				return true
			}
		}
	}
	return false
}

func join(key, name string) string {
	if key == "" {
		return name
	}
	return key + "." + name
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	if err := c.AddResource("housekeeper.schema.json", loadSchemaDoc(t)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("housekeeper.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// yamlInstance reads YAML as the JSON value an editor validates.
func yamlInstance(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// Every valid fixture, the README's full example and the repository's own
// config pass the schema; files the decoder refuses for their shape fail it.
func TestSchemaAgreesWithFixtures(t *testing.T) {
	s := compileSchema(t)
	valid, _ := filepath.Glob("testdata/valid/*.yml")
	valid = append(valid, filepath.Join("..", "..", ".github", "housekeeper.yml"))
	for _, f := range valid {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(yamlInstance(t, data)); err != nil {
			t.Errorf("%s is valid but the schema refuses it: %v", f, err)
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(readme), "## Repository config")
	var m []string
	for _, b := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(rest, -1) {
		if strings.HasPrefix(b[1], "version:") {
			m = b
			break
		}
	}
	if m == nil {
		t.Fatal("README: no config example starting with version:")
	}
	if _, err := Parse("README example", []byte(m[1])); err != nil {
		t.Errorf("the README's example does not decode: %v", err)
	}
	if err := s.Validate(yamlInstance(t, []byte(m[1]))); err != nil {
		t.Errorf("the README's example fails the schema: %v", err)
	}
	var refused []string
	for _, f := range []string{"unknown-key.yml", "types.yml", "all-at-once.yml", "not-a-mapping.yml"} {
		data, err := os.ReadFile(filepath.Join("testdata", "invalid", f))
		if err != nil {
			t.Fatal(err)
		}
		if s.Validate(yamlInstance(t, data)) == nil {
			refused = append(refused, f)
		}
	}
	sort.Strings(refused)
	if len(refused) > 0 {
		t.Errorf("the decoder refuses these but the schema accepts them: %v", refused)
	}
}
