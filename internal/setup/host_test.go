package setup_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/setup"
)

// serveAs sends one request to the flow's handler as if from peer.
func serveAs(t *testing.T, f *setup.Flow, peer, host string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = peer
	req.Host = host
	rec := httptest.NewRecorder()
	f.Handler().ServeHTTP(rec, req)
	if rec.Code == http.StatusOK && !strings.Contains(rec.Body.String(), "state=") {
		t.Errorf("the start page lacks its state:\n%s", rec.Body.String())
	}
	return rec.Code
}

// Problem 5: any machine can send "Host: 127.0.0.1:PORT". From a peer that
// is not this machine, the page (and its state) must not be served.
func TestSetupRefusesSpoofedLoopbackHost(t *testing.T) {
	fx := newFixture(t)
	f, err := setup.NewFlow(fx.options(t), "http://127.0.0.1:3000")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		peer, host string
		want       int
	}{
		"spoofed loopback host":      {"192.0.2.7:51000", "127.0.0.1:3000", http.StatusMisdirectedRequest},
		"spoofed localhost":          {"192.0.2.7:51000", "localhost:3000", http.StatusMisdirectedRequest},
		"spoofed from IPv6":          {"[2001:db8::7]:51000", "[::1]:3000", http.StatusMisdirectedRequest},
		"loopback peer":              {"127.0.0.1:51000", "127.0.0.1:3000", http.StatusOK},
		"IPv4-mapped loopback peer":  {"[::ffff:127.0.0.1]:51000", "localhost:3000", http.StatusOK},
		"IPv6 loopback peer":         {"[::1]:51000", "[::1]:3000", http.StatusOK},
		"loopback peer, other host":  {"127.0.0.1:51000", "attacker.example:3000", http.StatusMisdirectedRequest},
		"peer address not parseable": {"pipe", "127.0.0.1:3000", http.StatusMisdirectedRequest},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := serveAs(t, f, tc.peer, tc.host); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSetupListenPublic(t *testing.T) {
	fx := newFixture(t)
	o := fx.options(t)
	o.ListenPublic, o.LocalURL = true, "http://setup.lan:3000"
	f, err := setup.NewFlow(o, o.LocalURL)
	if err != nil {
		t.Fatal(err)
	}
	if got := serveAs(t, f, "192.0.2.7:51000", "setup.lan:3000"); got != http.StatusOK {
		t.Errorf("--local-url's host from the network: %d", got)
	}
	if got := serveAs(t, f, "192.0.2.7:51000", "127.0.0.1:3000"); got != http.StatusMisdirectedRequest {
		t.Errorf("a loopback host from the network, with --listen-public: %d", got)
	}
	if got := f.Manifest().RedirectURL; got != "http://setup.lan:3000/callback" {
		t.Errorf("redirect URL given to GitHub: %q", got)
	}
}

func TestSetupCheckListen(t *testing.T) {
	public := func(u string) setup.Options { return setup.Options{ListenPublic: true, LocalURL: u} }
	tests := map[string]struct {
		addr string
		o    setup.Options
		want string // "" for accepted
	}{
		"loopback":                {"127.0.0.1:3000", setup.Options{}, ""},
		"IPv6 loopback":           {"[::1]:3000", setup.Options{}, ""},
		"localhost":               {"localhost:0", setup.Options{}, ""},
		"all interfaces":          {"0.0.0.0:3000", setup.Options{}, "reachable from other machines"},
		"empty host":              {":3000", setup.Options{}, "reachable from other machines"},
		"public without url":      {"0.0.0.0:3000", setup.Options{ListenPublic: true}, "needs --local-url"},
		"public with url":         {"0.0.0.0:3000", public("http://10.0.0.5:3000"), ""},
		"public with loopback":    {"0.0.0.0:3000", public("http://127.0.0.1:3000"), "a loopback address needs no --listen-public"},
		"public with path":        {"0.0.0.0:3000", public("http://setup.lan:3000/x"), "want http://HOST:PORT"},
		"public with credentials": {"0.0.0.0:3000", public("http://u:p@setup.lan:3000"), "want http://HOST:PORT"},
		"url without public":      {"127.0.0.1:3000", setup.Options{LocalURL: "http://setup.lan:3000"}, "--local-url is for --listen-public only"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := setup.CheckListen(tc.addr, tc.o)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
	// Run itself refuses before binding.
	fx := newFixture(t)
	if _, err := setup.Run(context.Background(), fx.options(t), "0.0.0.0:0", io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "reachable from other machines") {
		t.Errorf("Run on 0.0.0.0 without --listen-public: %v", err)
	}
}
