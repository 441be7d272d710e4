package checkrun

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/housekeeper-app/housekeeper/internal/config"
	"github.com/housekeeper-app/housekeeper/internal/dirmap"
	"github.com/housekeeper-app/housekeeper/internal/secrets"
)

// A summary never exceeds GitHub's 65,535 characters, and says what it cut.
func TestDirsSummaryFitsGitHubsLimit(t *testing.T) {
	var files []string
	for i := 0; i < 5000; i++ {
		files = append(files, fmt.Sprintf("dir%04d-with-a-rather-long-name-to-fill-the-summary/file.txt", i))
	}
	cfg := config.Default()
	c, _, err := RunDirs(context.Background(), cfg, dirmap.Input{Head: &dirmap.Side{HasMap: true, Map: []byte("| Path | Function |\n|---|---|\n| `a/` | A |\n"), Files: files}}, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Summary) > MaxText || !utf8.ValidString(c.Summary) {
		t.Fatalf("summary of %d bytes", len(c.Summary))
	}
	if !strings.Contains(c.Summary, "more findings are not shown here") || !strings.Contains(c.Summary, "unregistered") {
		t.Errorf("summary does not say what it cut: …%s", c.Summary[len(c.Summary)-300:])
	}
	if c.Conclusion != Failure || len(c.Findings) != 5001 {
		t.Errorf("conclusion %s with %d findings (the JSON keeps them all)", c.Conclusion, len(c.Findings))
	}
}

func TestSecretsConclusions(t *testing.T) {
	scanner, err := secrets.New(secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := "AK" + "IA" + strings.Repeat("QX7", 5) + "Z"
	content := []byte("access_key = \"" + key + "\"\n")
	tests := map[string]struct {
		yaml string
		want Conclusion
	}{
		"enforced":                     {"", Failure},
		"report only":                  {"secrets:\n  enforce: false\n", Neutral},
		"tier not in fail_on: warning": {"secrets:\n  fail_on: [runtime]\n", Success},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := config.Parse("c.yml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			scan := NewSecretsScan(scanner, true)
			scan.AddTree(secrets.TreeResult{Findings: scanner.ScanContent("infra/main.tf", content)})
			c := Secrets(SecretsInput{Scan: scan, Config: cfg, ConfigSource: cfg.Source})
			if c.Conclusion != tc.want || len(c.Findings) != 1 {
				t.Errorf("conclusion %s, findings %d; want %s", c.Conclusion, len(c.Findings), tc.want)
			}
			if strings.Contains(c.Summary+c.Title, key[4:]) {
				t.Error("the summary shows the key")
			}
		})
	}
}

// Fix lines for a table that ends the map go after its last line, which
// exists: "after line 3" for a 3-line map, never "before line 4".
func TestFixPlacementAtTheEndOfTheMap(t *testing.T) {
	in := dirmap.Input{Head: &dirmap.Side{HasMap: true, Map: []byte("| Path | Function |\n|---|---|\n| `a/` | A |\n"), Files: []string{"a/x", "b/y"}}}
	c, _, err := RunDirs(context.Background(), config.Default(), in, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.FixText, "  after line 3 (table):\n") || !strings.Contains(c.Summary, "\nAfter line 3 (table):\n") || strings.Contains(c.FixText+c.Summary, "line 4") {
		t.Errorf("fix text:\n%s\nsummary:\n%s", c.FixText, c.Summary)
	}
}

// A value on two lines of the head is one secret with two findings, one
// per line to annotate, whether the head's commit added both lines or an
// earlier commit added one (placed by Locate, never twice on one line).
func TestASecretOnTwoLinesIsOneSecretFoundOnEach(t *testing.T) {
	scanner, err := secrets.New(secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := "AK" + "IA" + strings.Repeat("QX7", 5) + "Z"
	line := "access_key = \"" + key + "\""
	head := line + "\nregion = \"eu-west-1\"\n" + line + "\n"
	cfg, err := config.Parse("c.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	added := func(lines ...int) []secrets.FileDiff {
		d := secrets.FileDiff{NewPath: "infra/main.tf"}
		for _, l := range lines {
			d.Added = append(d.Added, secrets.DiffLine{Line: l, Text: line})
		}
		return []secrets.FileDiff{d}
	}
	open := func(string) (io.ReadCloser, bool) { return io.NopCloser(strings.NewReader(head)), true }
	ctx := context.Background()
	tests := map[string]func(s *SecretsScan){
		"tree": func(s *SecretsScan) {
			s.AddTree(secrets.TreeResult{Findings: scanner.ScanContent("infra/main.tf", []byte(head))})
		},
		"head commit adds both": func(s *SecretsScan) {
			_ = s.AddCommit(ctx, "bbb", added(1, 3), nil, true)
		},
		"an earlier commit adds one": func(s *SecretsScan) {
			_ = s.AddCommit(ctx, "aaa", added(1), nil, false)
			_ = s.AddCommit(ctx, "bbb", added(3), nil, true)
			s.Locate(ctx, open)
		},
		"an earlier commit adds both": func(s *SecretsScan) {
			_ = s.AddCommit(ctx, "aaa", added(1, 3), nil, false)
			_ = s.AddCommit(ctx, "bbb", added(1, 3), nil, true)
			s.Locate(ctx, open)
		},
	}
	for name, add := range tests {
		t.Run(name, func(t *testing.T) {
			scan := NewSecretsScan(scanner, name == "tree")
			add(scan)
			c := Secrets(SecretsInput{Scan: scan, Config: cfg, ConfigSource: cfg.Source})
			var lines []int
			for _, f := range c.Findings {
				lines = append(lines, f.Line)
			}
			if !reflect.DeepEqual(lines, []int{1, 3}) {
				t.Errorf("findings on lines %v, want [1 3]", lines)
			}
			if !strings.HasPrefix(c.Title, "1 secret committed") {
				t.Errorf("title %q", c.Title)
			}
		})
	}
}
