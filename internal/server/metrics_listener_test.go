package server

import (
	"net/http"
	"strings"
	"testing"
)

// With metrics_addr, /metrics moves to its own listener: the webhook port
// no longer serves it, and the metrics port serves nothing else.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	h := &stubHandler{events: []string{"pull_request"}, started: make(chan string, 10)}
	hr := newHarness(t, func(c *Config) { c.MetricsAddr = "127.0.0.1:0" }, h)
	base, stop := hr.running(t)
	metricsBase := "http://" + hr.s.MetricsAddr().String()
	if hr.s.MetricsAddr().String() == hr.s.Addr().String() {
		t.Fatal("one listener for both")
	}
	if code := post(t, base, delivery{event: "pull_request", id: "guid-1", body: `{"action":"opened"}`}); code != http.StatusAccepted {
		t.Fatalf("delivery on the webhook port: %d", code)
	}
	if code, _ := get(t, base+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the webhook port: %d, want 404", code)
	}
	code, text := get(t, metricsBase+"/metrics")
	if code != http.StatusOK || !strings.Contains(text, `housekeeper_webhook_events_total{action="opened",event="pull_request"} 1`) {
		t.Errorf("/metrics on the metrics port: %d\n%s", code, text)
	}
	for _, p := range []string{"/healthz", "/readyz", HookPath} {
		if code, _ := get(t, metricsBase+p); code != http.StatusNotFound {
			t.Errorf("%s on the metrics port: %d, want 404", p, code)
		}
	}
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz on the webhook port: %d", code)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if logs := hr.logs.String(); !strings.Contains(logs, `"metrics_addr":"`+hr.s.MetricsAddr().String()+`"`) {
		t.Errorf("the listening line lacks metrics_addr:\n%s", logs)
	}
}

func TestMetricsAddrValidation(t *testing.T) {
	for v, want := range map[string]string{
		"":               "",
		"127.0.0.1:9090": "",
		":9090":          "",
		"nope":           "is not host:port",
		":8080":          "must differ from addr",
	} {
		c := testConfig(t, func(c *Config) { c.Addr = ":8080"; c.MetricsAddr = v })
		err := c.Validate()
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", v, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), "HOUSEKEEPER_METRICS_ADDR") || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: err %v, want %q", v, err, want)
		}
	}
}
