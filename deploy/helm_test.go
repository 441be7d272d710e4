package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const (
	chartDir     = "helm/housekeeper"
	ciValuesDir  = "helm/ci"
	releaseName  = "hk"
	releaseNS    = "housekeeper"
	nonRootUID   = int64(65532)
	credsMount   = "/var/run/secrets/housekeeper"
	hookPath     = "/api/github/hook"
	metricsPath  = "/metrics"
	appIDEnv     = "GITHUB_APP_INTEGRATION_ID"
	keyPathEnv   = "GITHUB_APP_PRIVATE_KEY_PATH"
	hookPathEnv  = "GITHUB_APP_WEBHOOK_SECRET_PATH"
	configEnv    = "HOUSEKEEPER_CONFIG"
	requireHelm  = "HOUSEKEEPER_REQUIRE_HELM"
	infisicalAPI = "secrets.infisical.com/v1alpha1"
)

// helmBin finds helm on PATH. Without it the chart tests skip, unless
// HOUSEKEEPER_REQUIRE_HELM is set (CI sets it), where they fail.
func helmBin(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("helm")
	if err != nil {
		if os.Getenv(requireHelm) != "" {
			t.Fatalf("helm is not on PATH and %s is set: install it with .ci/deploy-check (go install helm.sh/helm/v3/cmd/helm@v3.22.0)", requireHelm)
		}
		t.Skipf("helm is not on PATH: chart not rendered (set %s=1 to make this a failure; .ci/deploy-check installs helm)", requireHelm)
	}
	return p
}

// helmTemplate renders the chart with the given extra arguments.
func helmTemplate(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := helmBin(t)
	full := append([]string{"template", releaseName, chartDir, "--namespace", releaseNS}, args...)
	cmd := exec.Command(bin, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(full, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// rendered holds every document of one render, decoded strictly.
type rendered struct {
	raw             string
	kinds           []string // "apiVersion/kind" in render order
	deployment      *appsv1.Deployment
	service         *corev1.Service
	serviceAccount  *corev1.ServiceAccount
	configMap       *corev1.ConfigMap
	ingress         *networkingv1.Ingress
	pdb             *policyv1.PodDisruptionBudget
	serviceMonitor  *serviceMonitor
	infisicalSecret *infisicalSecret
	networkPolicy   *networkingv1.NetworkPolicy

	prometheusRule *prometheusRule   // monitoring_test.go
	dashboard      *corev1.ConfigMap // the Grafana dashboard's ConfigMap
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// splitDocuments splits a multi-document YAML stream, dropping documents
// that hold only comments or whitespace.
func splitDocuments(s string) []string {
	var docs []string
	for _, d := range docSeparator.Split(s, -1) {
		empty := true
		for _, line := range strings.Split(d, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
				empty = false
				break
			}
		}
		if !empty {
			docs = append(docs, d)
		}
	}
	return docs
}

// decode decodes every document of a render strictly (unknown or duplicate
// fields are errors) into its Kubernetes API type, or the local type of a
// custom resource. A kind the chart is not expected to render fails.
func decode(t *testing.T, out string) *rendered {
	t.Helper()
	r := &rendered{raw: out}
	for i, doc := range splitDocuments(out) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("document %d is not YAML: %v\n%s", i, err, doc)
		}
		gvk := tm.APIVersion + "/" + tm.Kind
		r.kinds = append(r.kinds, gvk)
		var target any
		switch gvk {
		case "apps/v1/Deployment":
			if r.deployment != nil {
				t.Fatal("more than one Deployment")
			}
			r.deployment = &appsv1.Deployment{}
			target = r.deployment
		case "v1/Service":
			r.service = &corev1.Service{}
			target = r.service
		case "v1/ServiceAccount":
			r.serviceAccount = &corev1.ServiceAccount{}
			target = r.serviceAccount
		case "v1/ConfigMap":
			var meta metav1.PartialObjectMetadata
			_ = yaml.Unmarshal([]byte(doc), &meta)
			if strings.HasSuffix(meta.Name, "-dashboard") {
				r.dashboard = &corev1.ConfigMap{}
				target = r.dashboard
				break
			}
			r.configMap = &corev1.ConfigMap{}
			target = r.configMap
		case "monitoring.coreos.com/v1/PrometheusRule":
			r.prometheusRule = &prometheusRule{}
			target = r.prometheusRule
		case "networking.k8s.io/v1/Ingress":
			r.ingress = &networkingv1.Ingress{}
			target = r.ingress
		case "networking.k8s.io/v1/NetworkPolicy":
			r.networkPolicy = &networkingv1.NetworkPolicy{}
			target = r.networkPolicy
		case "policy/v1/PodDisruptionBudget":
			r.pdb = &policyv1.PodDisruptionBudget{}
			target = r.pdb
		case "monitoring.coreos.com/v1/ServiceMonitor":
			r.serviceMonitor = &serviceMonitor{}
			target = r.serviceMonitor
		case infisicalAPI + "/InfisicalSecret":
			r.infisicalSecret = &infisicalSecret{}
			target = r.infisicalSecret
		case "v1/Secret":
			t.Fatalf("the chart rendered a Secret: credentials must come from an existing Secret or Infisical\n%s", doc)
		default:
			t.Fatalf("unexpected kind %q in the render\n%s", gvk, doc)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), target); err != nil {
			t.Fatalf("%s does not decode strictly into its API type: %v\n%s", gvk, err, doc)
		}
	}
	return r
}

// serviceMonitor is the part of monitoring.coreos.com/v1 ServiceMonitor the
// chart renders; any other field fails the strict decode.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Scheme        string `json:"scheme"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// infisicalSecret mirrors the fields of the Infisical operator's
// secrets.infisical.com/v1alpha1 InfisicalSecret that the chart renders.
type infisicalSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		HostAPI        string `json:"hostAPI"`
		ResyncInterval int    `json:"resyncInterval"`
		Authentication struct {
			UniversalAuth struct {
				CredentialsRef struct {
					SecretName      string `json:"secretName"`
					SecretNamespace string `json:"secretNamespace"`
				} `json:"credentialsRef"`
				SecretsScope struct {
					ProjectSlug string `json:"projectSlug"`
					ProjectID   string `json:"projectId"`
					EnvSlug     string `json:"envSlug"`
					SecretsPath string `json:"secretsPath"`
					Recursive   bool   `json:"recursive"`
				} `json:"secretsScope"`
			} `json:"universalAuth"`
		} `json:"authentication"`
		ManagedSecretReference struct {
			SecretName      string `json:"secretName"`
			SecretNamespace string `json:"secretNamespace"`
			SecretType      string `json:"secretType"`
			CreationPolicy  string `json:"creationPolicy"`
		} `json:"managedSecretReference"`
	} `json:"spec"`
}

// chartAppVersion reads appVersion from Chart.yaml.
func chartAppVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		APIVersion string `json:"apiVersion"`
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if c.APIVersion != "v2" || c.AppVersion == "" {
		t.Fatalf("Chart.yaml: want apiVersion v2 and an appVersion, got %+v", c)
	}
	return c.AppVersion
}

func TestChartRendersCIValues(t *testing.T) {
	helmBin(t)
	appVersion := chartAppVersion(t)
	tests := map[string]struct {
		secretName string    // the credentials Secret the pod mounts
		appIDFrom  string    // "value" or "secret"
		keys       [2]string // private key, webhook secret keys in the Secret
		enterprise bool
		wantKinds  []string
	}{
		"default-values.yaml": {
			secretName: "housekeeper-github-app",
			appIDFrom:  "value",
			keys:       [2]string{"GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_WEBHOOK_SECRET"},
			wantKinds:  []string{"v1/ServiceAccount", "v1/ConfigMap", "v1/Service", "apps/v1/Deployment"},
		},
		"ingress-servicemonitor-values.yaml": {
			secretName: "housekeeper-github-app",
			appIDFrom:  "secret",
			keys:       [2]string{"private-key.pem", "webhook-secret"},
			enterprise: true,
			wantKinds: []string{"policy/v1/PodDisruptionBudget", "v1/ServiceAccount", "v1/ConfigMap", "v1/Service",
				"apps/v1/Deployment", "networking.k8s.io/v1/Ingress", "monitoring.coreos.com/v1/ServiceMonitor",
				"networking.k8s.io/v1/NetworkPolicy"},
		},
		"infisical-values.yaml": {
			secretName: releaseName + "-housekeeper-github-app",
			appIDFrom:  "value",
			keys:       [2]string{"GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_WEBHOOK_SECRET"},
			wantKinds: []string{"v1/ServiceAccount", "v1/ConfigMap", "v1/Service", "apps/v1/Deployment",
				infisicalAPI + "/InfisicalSecret"},
		},
	}
	files, _ := filepath.Glob(filepath.Join(ciValuesDir, "*.yaml"))
	for _, f := range files {
		if _, ok := tests[filepath.Base(f)]; !ok {
			t.Errorf("%s has no expectations in TestChartRendersCIValues", f)
		}
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, err := helmTemplate(t, "-f", filepath.Join(ciValuesDir, name))
			if err != nil {
				t.Fatal(err)
			}
			r := decode(t, out)
			if !sameSet(r.kinds, tc.wantKinds) {
				t.Errorf("rendered kinds %v, want %v", r.kinds, tc.wantKinds)
			}
			checkNoCredentialMaterial(t, r)
			checkDeployment(t, r, appVersion, tc.secretName, tc.keys)
			checkEnv(t, r, tc.appIDFrom, tc.enterprise)
			checkService(t, r)
			if r.ingress != nil {
				checkIngress(t, r)
			}
			if r.serviceMonitor != nil {
				checkServiceMonitor(t, r)
			}
			if r.networkPolicy != nil {
				checkNetworkPolicy(t, r)
			}
			if r.infisicalSecret != nil {
				checkInfisicalSecret(t, r, tc.secretName)
			}
			if r.pdb != nil && (r.pdb.Spec.MaxUnavailable == nil || r.pdb.Spec.MaxUnavailable.IntValue() != 1) {
				t.Errorf("a PodDisruptionBudget for one replica must allow maxUnavailable 1 (node drains), got %v", r.pdb.Spec.MaxUnavailable)
			}
		})
	}
}

var (
	pemBlock     = regexp.MustCompile(`-----BEGIN[A-Z ]*PRIVATE KEY-----|PRIVATE KEY-----`)
	secretishEnv = regexp.MustCompile(`TOKEN|SECRET|PASSWORD|PRIVATE|API_?KEY`)
)

// checkNoCredentialMaterial: no PEM block anywhere in the render, no
// variable that carries the key or the webhook secret by value.
func checkNoCredentialMaterial(t *testing.T, r *rendered) {
	t.Helper()
	if pemBlock.MatchString(r.raw) {
		t.Error("the render contains a private key block")
	}
	if strings.Contains(r.raw, "BEGIN") && strings.Contains(r.raw, "PRIVATE KEY") {
		t.Error("the render contains BEGIN … PRIVATE KEY")
	}
	for k, v := range r.configMap.Data {
		if pemBlock.MatchString(v) || regexp.MustCompile(`(?i)(private_?key|webhook_?secret|token|password)\s*:`).MatchString(v) {
			t.Errorf("ConfigMap key %s holds something credential-like:\n%s", k, v)
		}
	}
}

func checkDeployment(t *testing.T, r *rendered, appVersion, secretName string, keys [2]string) {
	t.Helper()
	d := r.deployment
	if d == nil {
		t.Fatal("no Deployment rendered")
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas = %v, want 1 (single replica by design)", d.Spec.Replicas)
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("strategy %q, want Recreate (never two pods at once)", d.Spec.Strategy.Type)
	}
	if d.Namespace != releaseNS {
		t.Errorf("namespace %q, want %q", d.Namespace, releaseNS)
	}
	pod := d.Spec.Template.Spec
	if !labelsMatch(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("selector %v does not match pod labels %v", d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
	}
	if sum := d.Spec.Template.Annotations["checksum/config"]; !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(sum) {
		t.Errorf("pod annotation checksum/config = %q, want the ConfigMap's sha256 so config changes roll the pod", sum)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("pod must set automountServiceAccountToken: false")
	}
	if sa := r.serviceAccount; sa == nil || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Error("ServiceAccount must set automountServiceAccountToken: false")
	} else if pod.ServiceAccountName != sa.Name {
		t.Errorf("pod uses ServiceAccount %q, chart renders %q", pod.ServiceAccountName, sa.Name)
	}
	if g := pod.TerminationGracePeriodSeconds; g == nil || *g < 30 {
		t.Errorf("terminationGracePeriodSeconds = %v, want at least 30 so the queue drains", g)
	}
	psc := pod.SecurityContext
	if psc == nil {
		t.Fatal("no pod securityContext")
	}
	if !isTrue(psc.RunAsNonRoot) || !is(psc.RunAsUser, nonRootUID) {
		t.Errorf("pod securityContext: runAsNonRoot %v runAsUser %v, want true and %d", psc.RunAsNonRoot, psc.RunAsUser, nonRootUID)
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("pod seccompProfile must be RuntimeDefault")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("want 1 container, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	if want := "ghcr.io/housekeeper-app/housekeeper:" + appVersion; c.Image != want {
		t.Errorf("image %q, want %q", c.Image, want)
	}
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("no container securityContext")
	}
	if !isTrue(sc.RunAsNonRoot) || !is(sc.RunAsUser, nonRootUID) {
		t.Errorf("container runAsNonRoot %v runAsUser %v, want true and %d", sc.RunAsNonRoot, sc.RunAsUser, nonRootUID)
	}
	if !isTrue(sc.ReadOnlyRootFilesystem) {
		t.Error("container readOnlyRootFilesystem must be true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("container allowPrivilegeEscalation must be false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Error("container must not be privileged")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("capabilities %+v, want drop [ALL] and no add", sc.Capabilities)
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("container seccompProfile must be RuntimeDefault")
	}
	if len(c.Ports) == 0 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("ports %+v, want http on 8080 first", c.Ports)
	}
	if mp := metricsPort(r); (mp == 0 && len(c.Ports) != 1) || (mp != 0 && (len(c.Ports) != 2 || c.Ports[1].Name != "metrics")) {
		t.Errorf("ports %+v: want a metrics port exactly when HOUSEKEEPER_METRICS_ADDR is set", c.Ports)
	}
	checkProbe(t, "liveness", c.LivenessProbe, "/healthz")
	checkProbe(t, "readiness", c.ReadinessProbe, "/readyz")
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[res]; !ok {
			t.Errorf("no %s request", res)
		}
	}
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		t.Error("no memory limit")
	}

	// Credentials: the Secret's two keys mounted as files, read-only.
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m
	}
	cv, ok := vols["credentials"]
	if !ok || cv.Secret == nil {
		t.Fatalf("no Secret volume named credentials: %+v", pod.Volumes)
	}
	if cv.Secret.SecretName != secretName {
		t.Errorf("credentials volume mounts Secret %q, want %q", cv.Secret.SecretName, secretName)
	}
	if cv.Secret.Optional != nil && *cv.Secret.Optional {
		t.Error("the credentials Secret must not be optional")
	}
	if m := cv.Secret.DefaultMode; m == nil || *m&0o007 != 0 {
		t.Errorf("credentials defaultMode %v: the files must not be world-readable", m)
	}
	wantItems := []corev1.KeyToPath{{Key: keys[0], Path: "private-key.pem"}, {Key: keys[1], Path: "webhook-secret"}}
	if !slices.Equal(cv.Secret.Items, wantItems) {
		t.Errorf("credentials items %+v, want %+v", cv.Secret.Items, wantItems)
	}
	if m, ok := mounts["credentials"]; !ok || m.MountPath != credsMount || !m.ReadOnly || m.SubPath != "" {
		t.Errorf("credentials mount %+v, want read-only at %s (no subPath, so rotations reach the pod)", m, credsMount)
	}
	cfg, ok := vols["config"]
	if !ok || cfg.ConfigMap == nil || cfg.ConfigMap.Name != r.configMap.Name {
		t.Errorf("config volume %+v must mount the rendered ConfigMap %q", cfg, r.configMap.Name)
	}
	if m, ok := mounts["config"]; !ok || !m.ReadOnly {
		t.Errorf("config mount %+v must be read-only", m)
	}
	if m, ok := mounts["tmp"]; !ok || m.MountPath != "/tmp" || vols["tmp"].EmptyDir == nil {
		t.Error("a read-only root filesystem needs an emptyDir at /tmp")
	}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			t.Errorf("volume %s uses hostPath", v.Name)
		}
	}
}

func checkProbe(t *testing.T, name string, p *corev1.Probe, wantPath string) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s probe: want an httpGet probe on %s", name, wantPath)
		return
	}
	if p.HTTPGet.Path != wantPath || p.HTTPGet.Port.String() != "http" {
		t.Errorf("%s probe: GET %s on port %s, want %s on http", name, p.HTTPGet.Path, p.HTTPGet.Port.String(), wantPath)
	}
}

// checkEnv: the server's variables, credentials by file path only.
func checkEnv(t *testing.T, r *rendered, appIDFrom string, enterprise bool) {
	t.Helper()
	c := r.deployment.Spec.Template.Spec.Containers[0]
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			t.Errorf("env %s set twice", e.Name)
		}
		env[e.Name] = e
		if secretishEnv.MatchString(e.Name) && !strings.HasSuffix(e.Name, "_PATH") && e.Value != "" {
			t.Errorf("env %s carries a literal value; secrets come from files or secretKeyRef", e.Name)
		}
	}
	for _, forbidden := range []string{"GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_WEBHOOK_SECRET"} {
		if _, ok := env[forbidden]; ok {
			t.Errorf("env %s is set: the key and the webhook secret are passed as mounted files (%s_PATH)", forbidden, forbidden)
		}
	}
	if got := env[keyPathEnv].Value; got != credsMount+"/private-key.pem" {
		t.Errorf("%s = %q, want %s/private-key.pem", keyPathEnv, got, credsMount)
	}
	if got := env[hookPathEnv].Value; got != credsMount+"/webhook-secret" {
		t.Errorf("%s = %q, want %s/webhook-secret", hookPathEnv, got, credsMount)
	}
	if got := env["HOUSEKEEPER_ADDR"].Value; got != ":8080" {
		t.Errorf("HOUSEKEEPER_ADDR = %q, want :8080", got)
	}
	// HOUSEKEEPER_CONFIG names a file of the mounted ConfigMap.
	cfgPath := env[configEnv].Value
	var cfgMount string
	for _, m := range c.VolumeMounts {
		if m.Name == "config" {
			cfgMount = m.MountPath
		}
	}
	if dir, file := path.Split(cfgPath); cfgMount == "" || path.Clean(dir) != cfgMount || r.configMap.Data[file] == "" {
		t.Errorf("%s = %q must name a key of ConfigMap %s mounted at %q (keys %v)", configEnv, cfgPath, r.configMap.Name, cfgMount, mapKeys(r.configMap.Data))
	} else {
		var cfg map[string]any
		if err := yaml.Unmarshal([]byte(r.configMap.Data[file]), &cfg); err != nil {
			t.Errorf("the server config in the ConfigMap is not YAML: %v", err)
		}
	}
	id, ok := env[appIDEnv]
	switch {
	case !ok:
		t.Errorf("%s is not set", appIDEnv)
	case appIDFrom == "value" && !regexp.MustCompile(`^[1-9][0-9]*$`).MatchString(id.Value):
		t.Errorf("%s = %q, want the App id from values", appIDEnv, id.Value)
	case appIDFrom == "secret" && (id.ValueFrom == nil || id.ValueFrom.SecretKeyRef == nil ||
		id.ValueFrom.SecretKeyRef.Name != r.deployment.Spec.Template.Spec.Volumes[0].Secret.SecretName):
		t.Errorf("%s must come from the credentials Secret, got %+v", appIDEnv, id)
	}
	for _, name := range []string{"GITHUB_V3_API_URL", "GITHUB_WEB_URL"} {
		v, ok := env[name]
		if ok != enterprise {
			t.Errorf("%s set = %v, want %v", name, ok, enterprise)
		}
		if ok && !strings.HasPrefix(v.Value, "https://") {
			t.Errorf("%s = %q, want an https URL", name, v.Value)
		}
	}
}

func checkService(t *testing.T, r *rendered) {
	t.Helper()
	s := r.service
	if s == nil {
		t.Fatal("no Service rendered")
	}
	if !labelsMatch(s.Spec.Selector, r.deployment.Spec.Template.Labels) {
		t.Errorf("Service selector %v does not select the pod (%v)", s.Spec.Selector, r.deployment.Spec.Template.Labels)
	}
	if len(s.Spec.Ports) == 0 || s.Spec.Ports[0].Name != "http" || s.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service ports %+v, want http targeting the http port first", s.Spec.Ports)
	}
	want := 1
	if metricsPort(r) != 0 {
		want = 2
		if len(s.Spec.Ports) != 2 || s.Spec.Ports[1].Name != "metrics" || s.Spec.Ports[1].TargetPort.String() != "metrics" {
			t.Errorf("Service ports %+v, want a metrics port targeting the container's", s.Spec.Ports)
		}
	}
	if len(s.Spec.Ports) != want {
		t.Errorf("Service ports %+v, want %d", s.Spec.Ports, want)
	}
}

// metricsPort is the separate metrics listener's port the Deployment sets,
// or 0 when /metrics stays on the http port.
func metricsPort(r *rendered) int {
	for _, e := range r.deployment.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "HOUSEKEEPER_METRICS_ADDR" {
			_, port, _ := strings.Cut(e.Value, ":")
			n, _ := strconv.Atoi(port)
			return n
		}
	}
	return 0
}

// checkNetworkPolicy: the pod is isolated for ingress; the ingress
// controller reaches the http port, the monitoring namespace the metrics
// port, the probe CIDRs the http port, and nobody anything else.
func checkNetworkPolicy(t *testing.T, r *rendered) {
	t.Helper()
	np := r.networkPolicy
	if !labelsMatch(np.Spec.PodSelector.MatchLabels, r.deployment.Spec.Template.Labels) {
		t.Errorf("NetworkPolicy selects %v, not the pod (%v)", np.Spec.PodSelector.MatchLabels, r.deployment.Spec.Template.Labels)
	}
	if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
		t.Errorf("policyTypes %v, want [Ingress]", np.Spec.PolicyTypes)
	}
	metricsName := "http"
	if metricsPort(r) != 0 {
		metricsName = "metrics"
	}
	got := map[string]string{} // peer → port
	for _, rule := range np.Spec.Ingress {
		if len(rule.Ports) != 1 || rule.Ports[0].Port == nil {
			t.Errorf("rule %+v: want exactly one port", rule)
			continue
		}
		port := rule.Ports[0].Port.String()
		for _, peer := range rule.From {
			switch {
			case peer.IPBlock != nil:
				got["cidr "+peer.IPBlock.CIDR] = port
			case peer.NamespaceSelector != nil && peer.PodSelector != nil:
				got["namespace "+peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]] = port
			default:
				t.Errorf("peer %+v: want a namespace and pod selector together, or an ipBlock", peer)
			}
		}
	}
	want := map[string]string{"namespace ingress-nginx": "http", "namespace monitoring": metricsName, "cidr 10.0.0.0/16": "http"}
	if len(got) != len(want) {
		t.Errorf("NetworkPolicy admits %v, want %v", got, want)
	}
	for peer, port := range want {
		if got[peer] != port {
			t.Errorf("NetworkPolicy: %s reaches %q, want %q (all: %v)", peer, got[peer], port, got)
		}
	}
}

func checkIngress(t *testing.T, r *rendered) {
	t.Helper()
	in := r.ingress
	if in.Spec.IngressClassName == nil || *in.Spec.IngressClassName == "" {
		t.Error("Ingress has no ingressClassName")
	}
	if len(in.Spec.TLS) == 0 {
		t.Error("Ingress in the CI values has TLS configured but renders none")
	}
	for _, rule := range in.Spec.Rules {
		if rule.HTTP == nil {
			t.Fatalf("Ingress rule for %s has no paths", rule.Host)
		}
		for _, p := range rule.HTTP.Paths {
			if p.Path != hookPath {
				t.Errorf("Ingress exposes %s; only %s should be public by default", p.Path, hookPath)
			}
			b := p.Backend.Service
			if b == nil || b.Name != r.service.Name || b.Port.Number != r.service.Spec.Ports[0].Port {
				t.Errorf("Ingress backend %+v, want Service %s port %d", b, r.service.Name, r.service.Spec.Ports[0].Port)
			}
		}
	}
}

func checkServiceMonitor(t *testing.T, r *rendered) {
	t.Helper()
	sm := r.serviceMonitor
	if !labelsMatch(sm.Spec.Selector.MatchLabels, r.service.Labels) {
		t.Errorf("ServiceMonitor selector %v does not select the Service (%v)", sm.Spec.Selector.MatchLabels, r.service.Labels)
	}
	port := "http"
	if metricsPort(r) != 0 {
		port = "metrics"
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Path != metricsPath || sm.Spec.Endpoints[0].Port != port {
		t.Errorf("ServiceMonitor endpoints %+v, want %s on port %s", sm.Spec.Endpoints, metricsPath, port)
	}
	if !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{releaseNS}) {
		t.Errorf("ServiceMonitor namespaceSelector %v", sm.Spec.NamespaceSelector.MatchNames)
	}
}

func checkInfisicalSecret(t *testing.T, r *rendered, secretName string) {
	t.Helper()
	is := r.infisicalSecret
	ua := is.Spec.Authentication.UniversalAuth
	if ua.CredentialsRef.SecretName == "" || ua.CredentialsRef.SecretNamespace == "" {
		t.Errorf("InfisicalSecret universalAuth.credentialsRef incomplete: %+v", ua.CredentialsRef)
	}
	sc := ua.SecretsScope
	if (sc.ProjectSlug == "") == (sc.ProjectID == "") || sc.EnvSlug == "" || !strings.HasPrefix(sc.SecretsPath, "/") {
		t.Errorf("InfisicalSecret secretsScope incomplete: %+v", sc)
	}
	m := is.Spec.ManagedSecretReference
	if m.SecretName != secretName || m.SecretNamespace != releaseNS {
		t.Errorf("InfisicalSecret manages Secret %s/%s, the pod mounts %s/%s", m.SecretNamespace, m.SecretName, releaseNS, secretName)
	}
	if !slices.Contains([]string{"Owner", "Orphan"}, m.CreationPolicy) {
		t.Errorf("creationPolicy %q", m.CreationPolicy)
	}
	if is.Spec.ResyncInterval <= 0 {
		t.Errorf("resyncInterval %d", is.Spec.ResyncInterval)
	}
	if r.deployment.Annotations["secrets.infisical.com/auto-reload"] != "true" {
		t.Error("with Infisical, the Deployment should carry secrets.infisical.com/auto-reload so rotations roll the pod")
	}
}

// TestChartRefuses: what the chart must refuse to render.
func TestChartRefuses(t *testing.T) {
	helmBin(t)
	base := filepath.Join(ciValuesDir, "default-values.yaml")
	infisical := filepath.Join(ciValuesDir, "infisical-values.yaml")
	tests := map[string]struct {
		args []string
		want string // in helm's error output
	}{
		"no credentials source":   {[]string{"--set", "github.appId=1"}, "no GitHub App credentials configured"},
		"both credential sources": {[]string{"-f", infisical, "--set", "credentials.existingSecret.name=x"}, "not both"},
		"no app id":               {[]string{"--set", "credentials.existingSecret.name=x"}, "App id is missing"},
		"private key value":       {[]string{"-f", base, "--set", "credentials.privateKey=abc"}, "privateKey"},
		"private key top level":   {[]string{"-f", base, "--set", "privateKey=abc"}, "privateKey"},
		"webhook secret value":    {[]string{"-f", base, "--set", "github.webhookSecret=abc"}, "webhookSecret"},
		"key in existingSecret":   {[]string{"-f", base, "--set", "credentials.existingSecret.privateKey=abc"}, "privateKey"},
		"two replicas":            {[]string{"-f", base, "--set", "replicaCount=2"}, "replicaCount"},
		"literal secret env": {[]string{"-f", base, "--set", "extraEnv[0].name=HOUSEKEEPER_API_TOKEN,extraEnv[0].value=abc"},
			"extraEnv"},
		"key through extraEnv": {[]string{"-f", base, "--set", "extraEnv[0].name=GITHUB_APP_PRIVATE_KEY,extraEnv[0].valueFrom.secretKeyRef.name=x"},
			"extraEnv"},
		"credential in config":        {[]string{"-f", base, "--set", "config.webhook_secret=abc"}, "config"},
		"bad pull policy":             {[]string{"-f", base, "--set", "image.pullPolicy=Sometimes"}, "pullPolicy"},
		"unknown top-level key":       {[]string{"-f", base, "--set", "replicas=1"}, "replicas"},
		"privileged metrics port":     {[]string{"-f", base, "--set", "metricsPort=80"}, "metricsPort"},
		"metrics on the webhook port": {[]string{"-f", base, "--set", "metricsPort=8080"}, "metricsPort must differ"},
		"network policy bad CIDR": {[]string{"-f", base, "--set", "networkPolicy.enabled=true,networkPolicy.probeCIDRs[0]=nodes"},
			"probeCIDRs"},
		"network policy unknown key": {[]string{"-f", base, "--set", "networkPolicy.ingressNamespace=x"}, "ingressNamespace"},
		"infisical without auth": {[]string{"-f", infisical, "--set", "credentials.infisical.universalAuth.credentialsSecretName="},
			"credentialsSecretName"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, err := helmTemplate(t, tc.args...)
			if err == nil {
				t.Fatalf("helm template %v rendered; want a refusal mentioning %q\n%s", tc.args, tc.want, out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not mention %q:\n%v", tc.want, err)
			}
		})
	}
}

// TestChartAllowsSecretEnvFromSecret: a secret-looking extra variable is
// fine when it comes from a Secret.
func TestChartAllowsSecretEnvFromSecret(t *testing.T) {
	helmBin(t)
	out, err := helmTemplate(t, "-f", filepath.Join(ciValuesDir, "default-values.yaml"),
		"--set", "extraEnv[0].name=HOUSEKEEPER_API_TOKEN",
		"--set", "extraEnv[0].valueFrom.secretKeyRef.name=other",
		"--set", "extraEnv[0].valueFrom.secretKeyRef.key=token")
	if err != nil {
		t.Fatal(err)
	}
	decode(t, out)
}

func labelsMatch(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func mapKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func isTrue(b *bool) bool          { return b != nil && *b }
func is(p *int64, want int64) bool { return p != nil && *p == want }
