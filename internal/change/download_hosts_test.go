package change

import (
	"net/url"
	"strings"
	"testing"
)

func TestDownloaderHosts(t *testing.T) {
	d, err := NewDownloader("https://api.github.com/", "https://github.com/", nil)
	if err != nil {
		t.Fatal(err)
	}
	for raw, ok := range map[string]bool{
		"https://codeload.github.com/acme/infra/legacy.tar.gz/main?token=x": true,
		"https://codeload.github.com:443/x":                                 true,
		"https://api.github.com/repos/acme/infra/tarball/main":              true,
		"https://github.com/acme/infra/archive/main.tar.gz":                 true,
		"http://codeload.github.com/x":                                      false,
		"https://codeload.github.com.evil.example/x":                        false,
		"https://evil.example/x?token=x":                                    false,
		"https://user:pass@codeload.github.com/x":                           false,
		"https://codeload.github.com:8443/x":                                false,
	} {
		u, _ := url.Parse(raw)
		if err := d.check(u); (err == nil) != ok {
			t.Errorf("%s: err %v, want allowed %v", raw, err, ok)
		} else if err != nil && strings.Contains(err.Error(), "token=") {
			t.Errorf("%s: error shows the query: %v", raw, err)
		}
	}
	ghes, err := NewDownloader("https://ghe.acme.dev:443/api/v3/", "https://ghe.acme.dev/", nil)
	if err != nil {
		t.Fatal(err)
	}
	for raw, ok := range map[string]bool{
		"https://ghe.acme.dev/_codeload/x":       true,
		"https://codeload.ghe.acme.dev/x":        true,
		"https://codeload.github.com/x":          true,
		"https://api.github.com/x":               false,
		"https://codeload.ghe.acme.dev.evil/x?t": false,
	} {
		u, _ := url.Parse(raw)
		if err := ghes.check(u); (err == nil) != ok {
			t.Errorf("GHES %s: err %v, want allowed %v", raw, err, ok)
		}
	}
	if got := Redact("https://u:p@codeload.github.com/a/b?token=SECRET#frag"); got != "https://codeload.github.com/a/b" {
		t.Errorf("Redact: %q", got)
	}
}
