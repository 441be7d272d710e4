package deploy

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestImageBinary builds the binary exactly as the Dockerfile does, from the
// .dockerignore-filtered context, and runs it the way the chart does: the
// environment, files and probe paths of each rendered Deployment, with a
// throwaway key. It ties the chart to the real server: a renamed variable,
// a moved probe or a config key the server rejects fails here.
func TestImageBinary(t *testing.T) {
	const version = "v0.0.0-context-test"
	bin := buildFromContext(t, version)

	t.Run("version stamped", func(t *testing.T) {
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if err != nil || !strings.Contains(string(out), version) {
			t.Errorf("housekeeper --version = %q (%v); -X main.version did not stamp %s", out, err, version)
		}
	})

	t.Run("serve", func(t *testing.T) {
		helmBin(t)
		files, _ := filepath.Glob(filepath.Join(ciValuesDir, "*.yaml"))
		for _, f := range files {
			t.Run(filepath.Base(f), func(t *testing.T) {
				out, err := helmTemplate(t, "-f", f)
				if err != nil {
					t.Fatal(err)
				}
				serveLikeTheChart(t, bin, decode(t, out))
			})
		}
	})
}

// serveLikeTheChart starts `housekeeper serve` with the rendered container's
// arguments and environment, the Secret and ConfigMap mounts replaced by
// temporary directories, and checks the probes, the metrics, the webhook
// signature check and a clean shutdown.
func serveLikeTheChart(t *testing.T, bin string, r *rendered) {
	pod := r.deployment.Spec.Template.Spec
	c := pod.Containers[0]
	dir := t.TempDir()

	// The mounts, as files in dir.
	mounts := map[string]string{} // container path → local path
	for _, m := range c.VolumeMounts {
		local := filepath.Join(dir, m.Name)
		if err := os.MkdirAll(local, 0o700); err != nil {
			t.Fatal(err)
		}
		mounts[m.Name] = local
		var vol corev1.Volume
		for _, v := range pod.Volumes {
			if v.Name == m.Name {
				vol = v
			}
		}
		switch {
		case vol.Secret != nil:
			for _, item := range vol.Secret.Items {
				var content []byte
				switch item.Path {
				case "private-key.pem":
					content = throwawayKey(t)
				case "webhook-secret":
					content = []byte(webhookSecret + "\n") // as `openssl rand -hex 32 > file` writes it
				}
				writeFile(t, filepath.Join(local, item.Path), content)
			}
		case vol.ConfigMap != nil:
			for k, v := range r.configMap.Data {
				writeFile(t, filepath.Join(local, k), []byte(v))
			}
		}
	}
	local := func(p string) string {
		for _, m := range c.VolumeMounts {
			if p == m.MountPath || strings.HasPrefix(p, m.MountPath+"/") {
				return mounts[m.Name] + strings.TrimPrefix(p, m.MountPath)
			}
		}
		return p
	}

	port, metricsPort := freePort(t), 0
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		// Keep every GitHub call on the loopback (nothing listens there).
		"GITHUB_V3_API_URL=http://127.0.0.1:9/api/v3/", "GITHUB_WEB_URL=http://127.0.0.1:9/"}
	for _, e := range c.Env {
		switch {
		case e.Name == "HOUSEKEEPER_ADDR":
			env = append(env, e.Name+"=127.0.0.1:"+strconv.Itoa(port))
		case e.Name == "HOUSEKEEPER_METRICS_ADDR":
			metricsPort = freePort(t)
			env = append(env, e.Name+"=127.0.0.1:"+strconv.Itoa(metricsPort))
		case e.Name == "GITHUB_V3_API_URL" || e.Name == "GITHUB_WEB_URL":
			// set above
		case e.ValueFrom != nil && e.Name == appIDEnv:
			env = append(env, e.Name+"=123456")
		case e.ValueFrom != nil:
			t.Fatalf("env %s comes from %+v, which this test cannot provide", e.Name, e.ValueFrom)
		default:
			env = append(env, e.Name+"="+local(e.Value))
		}
	}

	check := exec.Command(bin, append(c.Args, "--check-config")...)
	check.Env = env
	out, err := check.CombinedOutput()
	if err != nil {
		t.Fatalf("housekeeper %s --check-config with the chart's settings: %v\n%s", strings.Join(c.Args, " "), err, out)
	}
	if bytes.Contains(out, []byte(webhookSecret)) || bytes.Contains(out, []byte("PRIVATE KEY")) {
		t.Errorf("--check-config printed a secret:\n%s", out)
	}

	var logs syncBuffer
	srv := exec.Command(bin, c.Args...)
	srv.Env = env
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			srv.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server output:\n%s", logs.String())
		}
	}()

	base := "http://127.0.0.1:" + strconv.Itoa(port)
	client := &http.Client{Timeout: 2 * time.Second}
	ready := c.ReadinessProbe.HTTPGet.Path
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for {
		resp, err := client.Get(base + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("the server exited before %s answered 200: %v", ready, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("readiness probe %s never answered 200 (last: %s)", ready, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := get(t, client, base+c.LivenessProbe.HTTPGet.Path); code != http.StatusOK {
		t.Errorf("liveness probe %s answered %d", c.LivenessProbe.HTTPGet.Path, code)
	}
	metricsBase := base
	if metricsPort != 0 {
		metricsBase = "http://127.0.0.1:" + strconv.Itoa(metricsPort)
		if code, _ := get(t, client, base+metricsPath); code != http.StatusNotFound {
			t.Errorf("%s on the webhook port answered %d, want 404 with a metrics port", metricsPath, code)
		}
	}
	if code, body := get(t, client, metricsBase+metricsPath); code != http.StatusOK || !strings.Contains(body, "# TYPE") {
		t.Errorf("%s answered %d without Prometheus text", metricsPath, code)
	}

	// The webhook secret file was read (one trailing newline dropped): a
	// signed ping passes, an unsigned one does not.
	body := []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`)
	if code := postHook(t, client, base, body, ""); code != http.StatusBadRequest {
		t.Errorf("unsigned delivery answered %d, want 400", code)
	}
	mac := hmac.New(sha256.New, []byte(webhookSecret))
	mac.Write(body)
	if code := postHook(t, client, base, body, "sha256="+hex.EncodeToString(mac.Sum(nil))); code/100 != 2 {
		t.Errorf("signed ping answered %d, want 2xx: the server did not read the webhook secret from %s", code, hookPathEnv)
	}

	// SIGTERM, as the kubelet sends it: a clean drain, well within the grace period.
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("after SIGTERM the server exited with %v, want 0 (clean drain)", err)
		}
	case <-time.After(grace):
		t.Errorf("the server did not exit within terminationGracePeriodSeconds (%s) of SIGTERM", grace)
	}
	if strings.Contains(logs.String(), webhookSecret) {
		t.Error("the server logged the webhook secret")
	}
}

// webhookSecret is a test value, generated per run.
var webhookSecret = func() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}()

var (
	keyOnce sync.Once
	keyPEM  []byte
)

// throwawayKey is an RSA key made for this run only, in the PKCS#1 PEM form
// GitHub hands out.
func throwawayKey(t *testing.T) []byte {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA " + "PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	})
	return keyPEM
}

func writeFile(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postHook(t *testing.T, c *http.Client, base string, body []byte, signature string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+hookPath, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "ping")
	req.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Errorf("POST %s: %v", hookPath, err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// syncBuffer collects a child process's output from two pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
