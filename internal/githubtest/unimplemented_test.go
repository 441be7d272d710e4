package githubtest

import (
	"net/http"
	"testing"
)

// TestUnimplementedOperationIs501 removes one handler to show a valid
// request to an operation the emulator lacks is answered 501 and recorded.
func TestUnimplementedOperationIs501(t *testing.T) {
	const id = "rate-limit/get"
	h := handlers[id]
	delete(handlers, id)
	t.Cleanup(func() { handlers[id] = h })

	s := New(t, AllowViolations())
	req, _ := http.NewRequest("GET", s.URL+"/rate_limit", nil)
	req.Header.Set("Authorization", "Bearer "+s.AppJWT())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	v := s.Violations()
	if resp.StatusCode != http.StatusNotImplemented || len(v) != 1 || v[0].Kind != "unimplemented" || v[0].Operation != "GET /rate_limit" {
		t.Errorf("status %d, violations %v", resp.StatusCode, v)
	}
}
