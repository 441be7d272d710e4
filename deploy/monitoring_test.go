package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// prometheusRule is the part of monitoring.coreos.com/v1 PrometheusRule the
// chart renders; any other field fails the strict decode.
type prometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Expr        string            `json:"expr"`
				For         string            `json:"for"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

var monitoringValues = []string{"-f", filepath.Join(ciValuesDir, "default-values.yaml"),
	"--set", "prometheusRule.enabled=true", "--set", "prometheusRule.labels.release=prometheus",
	"--set", "grafanaDashboard.enabled=true", "--set", "grafanaDashboard.folder=Platform"}

// The opt-in alerts and dashboard render, select this release's metrics,
// carry the documented thresholds, and use only metrics the server
// exports (docs/server.md lists every one, checked against the registry by
// internal/metrics' tests).
func TestChartAlertsAndDashboard(t *testing.T) {
	helmBin(t)
	out, err := helmTemplate(t, monitoringValues...)
	if err != nil {
		t.Fatal(err)
	}
	r := decode(t, out)
	if r.prometheusRule == nil || r.dashboard == nil {
		t.Fatalf("rendered %v, want a PrometheusRule and the dashboard ConfigMap", r.kinds)
	}
	pr := r.prometheusRule
	if pr.Namespace != releaseNS || pr.Labels["release"] != "prometheus" {
		t.Errorf("PrometheusRule %s/%s labels %v", pr.Namespace, pr.Name, pr.Labels)
	}
	var exprs []string
	alerts := map[string]string{}
	for _, g := range pr.Spec.Groups {
		for _, rule := range g.Rules {
			alerts[rule.Alert] = rule.Expr
			exprs = append(exprs, rule.Expr)
			if rule.For != "10m" || rule.Labels["severity"] == "" || rule.Annotations["summary"] == "" || rule.Annotations["description"] == "" {
				t.Errorf("%s: for %q, labels %v, annotations %v", rule.Alert, rule.For, rule.Labels, rule.Annotations)
			}
			if !strings.Contains(rule.Expr, `namespace="`+releaseNS+`"`) {
				t.Errorf("%s does not select the release's namespace: %s", rule.Alert, rule.Expr)
			}
		}
	}
	for name, threshold := range map[string]string{
		"HousekeeperWebhookFailures":    "> 0.05",
		"HousekeeperRunsFailingClosed":  "> 0",
		"HousekeeperRateLimitExhausted": "< 100",
		"HousekeeperDeliveriesGivenUp":  `outcome="gave_up"`,
	} {
		if !strings.Contains(alerts[name], threshold) {
			t.Errorf("alert %s missing or without its default threshold %q: %q", name, threshold, alerts[name])
		}
	}
	if !strings.Contains(alerts["HousekeeperRunsFailingClosed"], `reason!="config"`) {
		t.Error("invalid repository configs must not page the operator")
	}

	// The dashboard: labelled for the Grafana sidecar, in its folder, valid
	// JSON whose every panel queries Housekeeper's metrics.
	cm := r.dashboard
	if cm.Labels["grafana_dashboard"] != "1" || cm.Annotations["grafana_folder"] != "Platform" {
		t.Errorf("dashboard ConfigMap labels %v annotations %v", cm.Labels, cm.Annotations)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(cm.Data["housekeeper.json"]), &dash); err != nil || dash.UID != "housekeeper" || len(dash.Panels) < 10 {
		t.Fatalf("dashboard JSON: %v (uid %q, %d panels)", err, dash.UID, len(dash.Panels))
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			exprs = append(exprs, q.Expr)
		}
	}

	doc, err := os.ReadFile(filepath.Join("..", "docs", "server.md"))
	if err != nil {
		t.Fatal(err)
	}
	metric := regexp.MustCompile(`housekeeper_[a-z_]+`)
	used := map[string]bool{}
	for _, e := range exprs {
		if !balanced(e) {
			t.Errorf("unbalanced brackets: %s", e)
		}
		for _, m := range metric.FindAllString(e, -1) {
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				if base, ok := strings.CutSuffix(m, suffix); ok && strings.Contains(string(doc), "`"+base+"`") {
					m = base
				}
			}
			used[m] = true
		}
	}
	var undocumented []string
	for m := range used {
		if !strings.Contains(string(doc), "`"+m+"`") {
			undocumented = append(undocumented, m)
		}
	}
	sort.Strings(undocumented)
	if len(undocumented) > 0 {
		t.Errorf("alerts or dashboard query metrics the server does not export (not in docs/server.md): %v", undocumented)
	}
	for _, want := range []string{"housekeeper_github_retries_total", "housekeeper_queue_wait_seconds", "housekeeper_reconciler_redeliveries_total", "housekeeper_runs_failed_closed_total"} {
		if !used[want] {
			t.Errorf("the dashboard does not show %s", want)
		}
	}

	// Thresholds are values; the schema refuses nonsense.
	out, err = helmTemplate(t, append(slices.Clone(monitoringValues), "--set", "prometheusRule.webhookFailureRatio=0.2", "--set", "prometheusRule.for=30m")...)
	if err != nil || !strings.Contains(out, "> 0.2") || !strings.Contains(out, "for: 30m") {
		t.Errorf("custom thresholds: %v", err)
	}
	if _, err := helmTemplate(t, append(slices.Clone(monitoringValues), "--set", "prometheusRule.webhookFailureRatio=2")...); err == nil {
		t.Error("a failure ratio of 2 rendered; the values schema must refuse it")
	}
}

// balanced reports whether (), {} and [] nest properly outside quotes.
func balanced(s string) bool {
	var stack []rune
	pairs := map[rune]rune{')': '(', '}': '{', ']': '['}
	quoted := false
	for _, c := range s {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(' || c == '{' || c == '[':
			stack = append(stack, c)
		case pairs[c] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != pairs[c] {
				return false
			}
			stack = stack[:len(stack)-1]
		}
	}
	return len(stack) == 0 && !quoted
}
