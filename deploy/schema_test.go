package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestValuesSchema checks the shape of values.schema.json itself (Helm checks
// the values against it on every render): draft-07, and closed objects, so a
// misspelt key or an attempt to pass a credential as a value is an error.
func TestValuesSchema(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	if got := schema["$schema"]; got != "http://json-schema.org/draft-07/schema#" {
		t.Errorf("$schema = %v, want draft-07", got)
	}
	// Objects whose content is the user's own (free-form by design).
	open := []string{"/properties/config", "/properties/affinity", "/properties/global",
		"/definitions/envVar/properties/valueFrom", "/properties/tolerations/items"}
	var walk func(ptr string, node any)
	walk = func(ptr string, node any) {
		m, ok := node.(map[string]any)
		if !ok {
			return
		}
		if m["type"] == "object" && !slices.Contains(open, ptr) {
			_, hasProps := m["properties"]
			ap, hasAP := m["additionalProperties"]
			switch {
			case hasProps && ap != false:
				t.Errorf("%s: an object with properties must set additionalProperties: false", ptr)
			case !hasProps && !hasAP:
				t.Errorf("%s: an object without properties must say what its values are (additionalProperties)", ptr)
			}
		}
		for _, key := range []string{"properties", "definitions"} {
			if sub, ok := m[key].(map[string]any); ok {
				for name, child := range sub {
					walk(ptr+"/"+key+"/"+name, child)
				}
			}
		}
		if items, ok := m["items"]; ok {
			walk(ptr+"/items", items)
		}
	}
	walk("", schema)

	props := schema["properties"].(map[string]any)
	// More than one replica is allowed with Redis only; the template
	// refuses it otherwise, saying why (a schema cannot carry the message):
	// TestChartRefusesReplicasWithoutRedis.
	replicas := props["replicaCount"].(map[string]any)
	if _, capped := replicas["maximum"]; capped || replicas["minimum"] != 0.0 {
		t.Errorf("replicaCount minimum %v, maximum %v: want 0 and none", replicas["minimum"], replicas["maximum"])
	}
}
