package secrets_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

// benchTree is a generated tree: mostly ordinary source and config (where
// keywords like "token" and "password" occur as identifiers), plus the
// evaluation corpus.
func benchTree(nfiles int) []secrets.File {
	g := corpus.NewRand(42)
	var files []secrets.File
	goSrc := func() string {
		var b strings.Builder
		b.WriteString("package x\n\nimport \"go/token\"\n\n")
		for i := range 200 {
			fmt.Fprintf(&b, "// f%d handles the %s token and returns a key.\nfunc f%d(tok token.Token, password string) (string, error) {\n", i, g.String(corpus.Lower, 8), i)
			fmt.Fprintf(&b, "\tif tok == token.IDENT {\n\t\treturn %q, nil\n\t}\n\tsecret := lookup(password)\n\treturn secret, nil\n}\n\n", g.String(corpus.Alnum, 12))
		}
		return b.String()
	}
	yamlSrc := func() string {
		var b strings.Builder
		for i := range 300 {
			fmt.Fprintf(&b, "item%d:\n  name: %s\n  secretName: app-%d\n  image: ghcr.io/acme/app:%d\n", i, g.String(corpus.Lower, 10), i, i)
		}
		return b.String()
	}
	for i := range nfiles {
		if i%4 == 0 {
			files = append(files, secrets.ContentFile(fmt.Sprintf("k8s/app%d/values.yaml", i), []byte(yamlSrc())))
		} else {
			files = append(files, secrets.ContentFile(fmt.Sprintf("pkg/p%d/x.go", i), []byte(goSrc())))
		}
	}
	for _, f := range corpus.Generate(1).Files {
		files = append(files, secrets.ContentFile(f.Path, f.Content))
	}
	return files
}

func treeBytes(files []secrets.File) int64 {
	var n int64
	for _, f := range files {
		n += f.Size
	}
	return n
}

func BenchmarkScanTree(b *testing.B) {
	files := benchTree(200)
	s := newScanner(b, secrets.Options{})
	b.SetBytes(treeBytes(files))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.ScanTree(context.Background(), seq(files)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanContent(b *testing.B) {
	files := benchTree(8)
	s := newScanner(b, secrets.Options{})
	b.SetBytes(treeBytes(files))
	b.ReportAllocs()
	contents := make([][]byte, len(files))
	for i, f := range files {
		rc, err := f.Open()
		if err != nil {
			b.Fatal(err)
		}
		contents[i], _ = io.ReadAll(rc)
	}
	for b.Loop() {
		for i, f := range files {
			s.ScanContent(f.Path, contents[i])
		}
	}
}

// keywordDense is the keyword-dense input of scripts/bench-secrets.sh:
// every line holds "token" three times and an assignment, none a secret.
func keywordDense(size int) []byte {
	var b bytes.Buffer
	for i := 1; b.Len() < size; i++ {
		fmt.Fprintf(&b, "token_value = os.getenv(\"TOKEN_%d\")  # the token for service %d\n", i, i)
	}
	return b.Bytes()
}

// findingsDense is the script's findings-dense input: generic passwords
// with varied high-entropy values.
func findingsDense(lines int) []byte {
	g := corpus.NewRand(42)
	var b bytes.Buffer
	for range lines {
		fmt.Fprintf(&b, "password: '%s'\n", g.String(corpus.Alnum, 20))
	}
	return b.Bytes()
}

func benchContent(b *testing.B, path string, content []byte) {
	s := newScanner(b, secrets.Options{})
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		s.ScanContent(path, content)
	}
}

func BenchmarkKeywordDense(b *testing.B) {
	benchContent(b, "settings.py", keywordDense(1<<20))
}

func BenchmarkFindingsDense(b *testing.B) {
	benchContent(b, "users.yml", findingsDense(15000))
}

// BenchmarkNew is what every CLI run pays before its first byte: the rule
// file parsed and every regex compiled.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := secrets.New(secrets.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseRuleFile: the rule file's parse, once per process.
func BenchmarkParseRuleFile(b *testing.B) {
	data, err := os.ReadFile("rules.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := secrets.ParseRuleSpecs(data); err != nil {
			b.Fatal(err)
		}
	}
}
