package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// setup refuses an address other machines reach unless told, and then
// says why it is risky and gives GitHub the --local-url.
func TestSetupListenPublic(t *testing.T) {
	_, stderr, code := runCLI(t, "setup", "--manifest", "../../app.yml", "--url", "https://hk", "--out", t.TempDir(), "--listen", "0.0.0.0:0")
	if code != exitUsage || !strings.Contains(stderr, "reachable from other machines") {
		t.Errorf("0.0.0.0 without --listen-public: exit %d, %q", code, stderr)
	}

	r, _, _ := startSetup(t, "--url", "https://hk.acme.dev", "--out", t.TempDir(),
		"--listen", "0.0.0.0:0", "--listen-public", "--local-url", "http://setup.lan:3000")
	if r.base != "http://setup.lan:3000" {
		t.Errorf("page announced at %s, want --local-url", r.base)
	}
	port := regexp.MustCompile(`on 0\.0\.0\.0:(\d+) `).FindStringSubmatch(r.stderr.String())
	if port == nil {
		t.Fatalf("no warning naming the bound address:\n%s", r.stderr.String())
	}
	warning, _, _ := strings.Cut(r.stderr.String(), "Open ")
	golden(t, "setup-listen-public.stderr", strings.ReplaceAll(warning, port[1], "PORT"))

	// The bound port answers under --local-url's Host only.
	for host, want := range map[string]int{"setup.lan:3000": http.StatusOK, "127.0.0.1:" + port[1]: http.StatusOK, "other.lan:3000": http.StatusMisdirectedRequest} {
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+port[1]+"/", nil)
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, res.StatusCode, want)
		}
	}
}
