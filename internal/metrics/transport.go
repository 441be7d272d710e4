package metrics

import (
	"net/http"
	"strconv"
	"strings"
)

// APIMiddleware returns an http.RoundTripper wrapper (go-githubapp's
// ClientMiddleware shape) that counts each request by endpoint template and
// status class and records X-RateLimit-Remaining. basePath is the API root's
// path ("/" on github.com, "/api/v3/" on GitHub Enterprise Server), trimmed
// from request paths before templating.
func (m *Metrics) APIMiddleware(basePath string) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			res, err := next.RoundTrip(r)
			status := 0
			if res != nil {
				status = res.StatusCode
				if v := res.Header.Get("X-RateLimit-Remaining"); v != "" {
					if n, convErr := strconv.Atoi(v); convErr == nil {
						m.RateLimitRemaining(res.Header.Get("X-RateLimit-Resource"), n)
					}
				}
			}
			m.APICall(EndpointTemplate(r.Method, apiPath(r.URL.Path, basePath)), status)
			return res, err
		})
	}
}

// apiPath makes path relative to the API root. GitHub Enterprise Server
// serves GraphQL at /api/graphql, beside (not under) /api/v3.
func apiPath(path, basePath string) string {
	base := "/" + strings.Trim(basePath, "/")
	if base != "/" {
		if rest, ok := strings.CutPrefix(path, base+"/"); ok {
			return "/" + rest
		}
		if strings.HasSuffix(path, "/graphql") {
			return "/graphql"
		}
	}
	return path
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
