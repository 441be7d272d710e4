package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestValidFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.yml")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse(f, data); err != nil {
				t.Fatalf("unexpected error:\n%v", err)
			}
		})
	}
}

// Each invalid fixture has a .err file with the exact messages expected.
func TestInvalidFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.yml")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(f, ".yml") + ".err")
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimPrefix(filepath.ToSlash(f), "testdata/")
			cfg, err := Parse(name, data)
			if err == nil {
				t.Fatalf("no error; got %+v", cfg)
			}
			if got := err.Error(); got != strings.TrimSpace(string(want)) {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestValues(t *testing.T) {
	data, _ := os.ReadFile("testdata/valid/report-only.yml")
	cfg, err := Parse("report-only.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Source = "report-only.yml"
	want.Dirs.Map = "ARCHITECTURE.md"
	want.Dirs.Enforce = false
	want.Dirs.Ignore = []string{}
	want.Secrets.Enforce = false
	want.Secrets.FailOn = []string{TierBootstrap}
	want.Secrets.MaxFileSize = 512 << 10
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
	empty, err := Parse("empty.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if empty.Dirs.Ignore != nil || empty.Dirs.RequiredAnnotations != nil {
		t.Errorf("unset lists must stay nil so the defaults apply: %+v", empty.Dirs)
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"10MiB": 10 << 20, "512KiB": 512 << 10, "1GB": 1e9, "2048": 2048, "3kb": 3000, "1 MiB": 1 << 20} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ten", "-1MiB", "1TB", "99999999999999999999GiB"} {
		if _, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q) accepted", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, g := range []string{"testdata/valid/*.yml", "testdata/invalid/*.yml"} {
		files, _ := filepath.Glob(g)
		for _, file := range files {
			data, _ := os.ReadFile(file)
			f.Add(data)
		}
	}
	f.Add([]byte("dirs: &a\n  map: x\nsecrets: *a\n"))
	f.Add([]byte(strings.Repeat("[", 5000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yml", data)
		if err == nil && cfg == nil {
			t.Fatal("nil config without an error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.yml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
