package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets/blind"
)

// -out writes every corpus file; -findings scores a `housekeeper check
// --format json` document: here one finding on the first positive.
func TestRunOutAndFindings(t *testing.T) {
	c, err := blind.Build()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := run(context.Background(), []string{"-out", dir}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Paths() {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil || !bytes.Equal(got, c.Files[p]) {
			t.Errorf("%s not written as built (err %v)", p, err)
		}
	}
	var first blind.Label
	for _, l := range c.Labels {
		if l.Positive {
			first = l
			break
		}
	}
	doc := `{"checks":[{"name":"housekeeper/dirs","findings":[{"path":"x","line":1}]},
	 {"name":"housekeeper/secrets","findings":[
	  {"rule":"r","kind":"secret","tier":"` + first.Tier + `","path":"` + first.File + `","line":` + strconv.Itoa(first.Line) + `},
	  {"rule":"r","kind":"secret","tier":"runtime","path":"` + first.File + `","line":` + strconv.Itoa(first.Line) + `,"suppressed":true}]}]}`
	fj := filepath.Join(t.TempDir(), "f.json")
	if err := os.WriteFile(fj, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-findings", fj, "-v=false"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "precision 100.0% (1 of 1 findings on a positive") ||
		!strings.Contains(out.String(), "tier accuracy 100.0% (1/1") {
		t.Errorf("output:\n%s", out.String())
	}
	if err := run(context.Background(), []string{"-findings", filepath.Join(t.TempDir(), "missing.json")}, &out); err == nil {
		t.Error("a missing findings file is not an error")
	}
}
