package retry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// answer is one scripted reply of the fake GitHub; hold makes it never
// answer (until the client gives up).
type answer struct {
	status int
	header map[string]string
	body   string
	hold   bool
}

type fake struct {
	mu      sync.Mutex
	script  []answer
	bodies  []string
	srv     *httptest.Server
	release chan struct{}
}

func newFake(t *testing.T, script ...answer) *fake {
	f := &fake{script: script, release: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.bodies = append(f.bodies, string(b))
		a := answer{status: 200, body: "ok"}
		if len(f.script) > 0 {
			a, f.script = f.script[0], f.script[1:]
		}
		f.mu.Unlock()
		if a.hold {
			select {
			case <-r.Context().Done():
			case <-f.release:
			}
			return
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(func() { close(f.release); f.srv.Close() })
	return f
}

func (f *fake) attempts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

func testOptions() Options {
	return Options{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxWait: 3 * time.Second, Timeout: 200 * time.Millisecond, Jitter: func() float64 { return 0 }}
}

func TestRetry(t *testing.T) {
	soon := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
	late := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	tests := map[string]struct {
		method, path string
		body         string
		noGetBody    bool
		script       []answer
		wantStatus   int // 0: an error
		wantAttempts int
	}{
		"GET 502 then ok":                   {method: "GET", path: "/repos/o/r", script: []answer{{status: 502}, {status: 200}}, wantStatus: 200, wantAttempts: 2},
		"GET 503 three times then ok":       {method: "GET", path: "/repos/o/r", script: []answer{{status: 503}, {status: 503}, {status: 500}}, wantStatus: 200, wantAttempts: 4},
		"GET 502 every time gives up":       {method: "GET", path: "/repos/o/r", script: []answer{{status: 502}, {status: 502}, {status: 502}, {status: 502}, {status: 200}}, wantStatus: 502, wantAttempts: 4},
		"POST create 502 is not repeated":   {method: "POST", path: "/repos/o/r/check-runs", body: `{"name":"x"}`, script: []answer{{status: 502}}, wantStatus: 502, wantAttempts: 1},
		"POST create timeout not repeated":  {method: "POST", path: "/repos/o/r/check-runs", body: `{"name":"x"}`, script: []answer{{hold: true}}, wantAttempts: 1},
		"PATCH check run 503 repeated":      {method: "PATCH", path: "/repos/o/r/check-runs/7", body: `{"status":"completed"}`, script: []answer{{status: 503}}, wantStatus: 200, wantAttempts: 2},
		"PATCH ref 503 not repeated":        {method: "PATCH", path: "/repos/o/r/git/refs/heads/x", body: `{"sha":"1"}`, script: []answer{{status: 503}}, wantStatus: 503, wantAttempts: 1},
		"token request 502 repeated":        {method: "POST", path: "/app/installations/3/access_tokens", script: []answer{{status: 502}}, wantStatus: 200, wantAttempts: 2},
		"secondary limit on a POST waits":   {method: "POST", path: "/repos/o/r/check-runs", body: `{"name":"x"}`, script: []answer{{status: 403, header: map[string]string{"Retry-After": "1"}}}, wantStatus: 200, wantAttempts: 2},
		"secondary limit 429 waits":         {method: "GET", path: "/repos/o/r", script: []answer{{status: 429, header: map[string]string{"Retry-After": "0"}}}, wantStatus: 200, wantAttempts: 2},
		"secondary limit too long returned": {method: "GET", path: "/repos/o/r", script: []answer{{status: 403, header: map[string]string{"Retry-After": "600"}}}, wantStatus: 403, wantAttempts: 1},
		"primary limit resetting soon":      {method: "GET", path: "/repos/o/r", script: []answer{{status: 403, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": soon}}}, wantStatus: 200, wantAttempts: 2},
		"primary limit resetting late":      {method: "GET", path: "/repos/o/r", script: []answer{{status: 403, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": late}}}, wantStatus: 403, wantAttempts: 1},
		"forbidden is final":                {method: "GET", path: "/repos/o/r", script: []answer{{status: 403, body: `{"message":"Resource not accessible by integration"}`}}, wantStatus: 403, wantAttempts: 1},
		"not found is final":                {method: "GET", path: "/repos/o/r", script: []answer{{status: 404}}, wantStatus: 404, wantAttempts: 1},
		"GET timeout repeated":              {method: "GET", path: "/repos/o/r", script: []answer{{hold: true}}, wantStatus: 200, wantAttempts: 2},
		"body without GetBody not repeated": {method: "PATCH", path: "/repos/o/r/check-runs/7", body: `{}`, noGetBody: true, script: []answer{{status: 503}}, wantStatus: 503, wantAttempts: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, tc.script...)
			var retries []string
			o := testOptions()
			o.OnRetry = func(_ *http.Request, _ int, reason string, _ time.Duration) { retries = append(retries, reason) }
			client := &http.Client{Transport: New(nil, o)}
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(tc.method, f.srv.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.noGetBody {
				req.GetBody = nil
				req.Body = io.NopCloser(strings.NewReader(tc.body))
			}
			resp, err := client.Do(req)
			switch {
			case tc.wantStatus == 0 && err == nil:
				t.Errorf("status %d, want an error", resp.StatusCode)
			case tc.wantStatus != 0 && err != nil:
				t.Errorf("error %v, want %d", err, tc.wantStatus)
			case err == nil:
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.wantStatus {
					t.Errorf("status %d, want %d (%s)", resp.StatusCode, tc.wantStatus, data)
				}
				if len(tc.script) > 0 && tc.script[0].body != "" && resp.StatusCode == tc.script[0].status && string(data) != tc.script[0].body {
					t.Errorf("body %q, want the answer's %q", data, tc.script[0].body)
				}
			}
			got := f.attempts()
			if len(got) != tc.wantAttempts {
				t.Errorf("%d attempts (retries: %v), want %d", len(got), retries, tc.wantAttempts)
			}
			for i, b := range got {
				if b != tc.body {
					t.Errorf("attempt %d sent body %q, want %q", i+1, b, tc.body)
				}
			}
		})
	}
}

// TestRetryHonoursCancellation: a cancelled request stops waiting at once.
func TestRetryHonoursCancellation(t *testing.T) {
	f := newFake(t, answer{status: 403, header: map[string]string{"Retry-After": "30"}})
	o := testOptions()
	o.MaxWait = time.Minute
	client := &http.Client{Transport: New(nil, o)}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/repos/o/r", nil)
	start := time.Now()
	_, err := client.Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %s after cancellation", time.Since(start))
	}
}

// TestRetryRespectsDeadline: a wait longer than the caller's deadline is
// not started; the answer comes back as is.
func TestRetryRespectsDeadline(t *testing.T) {
	f := newFake(t, answer{status: 403, header: map[string]string{"Retry-After": "2"}})
	client := &http.Client{Transport: New(nil, testOptions())}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/repos/o/r", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || len(f.attempts()) != 1 {
		t.Errorf("status %d after %d attempts, want 403 after 1", resp.StatusCode, len(f.attempts()))
	}
}

// TestAttemptTimeoutCoversBody: the per-attempt timeout stays alive while
// the answer's body is read.
func TestAttemptTimeoutCoversBody(t *testing.T) {
	f := newFake(t, answer{status: 200, body: strings.Repeat("x", 1<<20)})
	client := &http.Client{Transport: New(nil, testOptions())}
	resp, err := client.Get(f.srv.URL + "/repos/o/r/tarball/main")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || len(data) != 1<<20 {
		t.Fatalf("read %d bytes: %v", len(data), err)
	}
}
