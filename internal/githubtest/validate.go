package githubtest

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specJSON is GitHub's own OpenAPI description, cut down to the operations
// a checks-posting App uses (see testdata/README.md for its source).
//
//go:embed testdata/api.github.com.subset.json
var specJSON []byte

// Loading and resolving the 1.3 MB description takes over a second, so it is
// done once per process; each Server only builds a router over a shallow
// copy whose Servers point at itself.
var (
	specOnce sync.Once
	specDoc  *openapi3.T
	specErr  error
)

func loadSpec() (*openapi3.T, error) {
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		specDoc, specErr = loader.LoadFromData(specJSON)
		if specErr != nil {
			specErr = fmt.Errorf("load embedded OpenAPI description: %w", specErr)
		}
	})
	return specDoc, specErr
}

// Operations lists every operation of the embedded description as
// "METHOD /path/template", the keys used by Calls.
func Operations() ([]string, error) {
	doc, err := loadSpec()
	if err != nil {
		return nil, err
	}
	var ops []string
	for _, path := range doc.Paths.InMatchingOrder() {
		for method := range doc.Paths.Value(path).Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	return ops, nil
}

// OperationIDs lists the operationIds of the embedded description.
func OperationIDs() ([]string, error) {
	doc, err := loadSpec()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, path := range doc.Paths.InMatchingOrder() {
		for _, op := range doc.Paths.Value(path).Operations() {
			ids = append(ids, op.OperationID)
		}
	}
	return ids, nil
}

// validator matches requests to operations and validates them.
type validator struct {
	router routers.Router
	base   *url.URL
}

func newValidator(baseURL string) (*validator, error) {
	doc, err := loadSpec()
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("parse emulator URL: %w", err)
	}
	// A shallow copy: the loaded paths and schemas are shared read-only,
	// only the servers differ per emulator. Both github.com style and GitHub
	// Enterprise style (/api/v3) prefixes are accepted.
	own := *doc
	own.Servers = openapi3.Servers{
		{URL: baseURL},
		{URL: baseURL + "/api/v3"},
	}
	router, err := gorillamux.NewRouter(&own)
	if err != nil {
		return nil, fmt.Errorf("build OpenAPI router: %w", err)
	}
	return &validator{router: router, base: base}, nil
}

// greedyPrefixes are the operations whose last path parameter may hold
// slashes (a file path, a ref such as heads/feature/x, a branch name, a
// base...head pair). go-github sends them unescaped, and GitHub accepts
// that; the router needs them escaped to see one segment.
var greedyPrefixes = []string{"contents", "git/refs", "git/ref", "git/trees", "compare", "tarball", "branches", "commits"}

// greedySuffixes may follow a ref under commits/.
var greedySuffixes = []string{"/check-runs", "/pulls"}

// routingPath escapes the slashes inside a greedy parameter of an escaped
// API path (without the /api/v3 prefix).
func routingPath(p string) string {
	parts := strings.SplitN(p, "/", 5) // "", "repos", owner, repo, rest
	if len(parts) < 5 || parts[1] != "repos" {
		return p
	}
	rest := parts[4]
	for _, prefix := range greedyPrefixes {
		if !strings.HasPrefix(rest, prefix+"/") {
			continue
		}
		param := rest[len(prefix)+1:]
		suffix := ""
		if prefix == "commits" {
			for _, s := range greedySuffixes {
				if strings.HasSuffix(param, s) && len(param) > len(s) {
					param, suffix = strings.TrimSuffix(param, s), s
					break
				}
			}
		}
		param = strings.ReplaceAll(param, "/", "%2F")
		return strings.Join(parts[:4], "/") + "/" + prefix + "/" + param + suffix
	}
	return p
}

// apiPath strips the GitHub Enterprise /api/v3 prefix.
func apiPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/api/v3"); ok && (rest == "" || rest[0] == '/') {
		if rest == "" {
			return "/"
		}
		return rest
	}
	return p
}

// match finds the operation of a request. The returned params are unescaped.
func (v *validator) match(r *http.Request) (*routers.Route, map[string]string, error) {
	escaped := r.URL.EscapedPath()
	prefix := ""
	if apiPath(escaped) != escaped {
		prefix = "/api/v3"
	}
	routed := prefix + routingPath(apiPath(escaped))
	unescaped, err := url.PathUnescape(routed)
	if err != nil {
		return nil, nil, routers.ErrPathNotFound
	}
	probe := &http.Request{
		Method: r.Method,
		Host:   v.base.Host,
		URL: &url.URL{
			Scheme:   v.base.Scheme,
			Host:     v.base.Host,
			Path:     unescaped,
			RawPath:  routed,
			RawQuery: r.URL.RawQuery,
		},
		Header: r.Header,
	}
	route, params, err := v.router.FindRoute(probe)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]string, len(params))
	for k, val := range params {
		if u, err := url.PathUnescape(val); err == nil {
			val = u
		}
		out[k] = val
	}
	return route, out, nil
}

// validateRequest checks path, query and body against the operation.
// body is the request body already read (the request's own is consumed).
func (v *validator) validateRequest(ctx context.Context, r *http.Request, route *routers.Route, params map[string]string, body []byte) error {
	clone := r.Clone(ctx)
	clone.Body = http.NoBody
	// ghinstallation posts a literal "null" body for a token without
	// options; GitHub takes it as no body, and so does the emulator.
	if string(bytes.TrimSpace(body)) == "null" {
		body = nil
		clone.ContentLength = 0
	}
	if len(body) > 0 {
		clone.Body = readCloser{bytes.NewReader(body)}
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    clone,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			MultiError:         true,
		},
	}
	return openapi3filter.ValidateRequest(ctx, input)
}

// validateResponse checks an answer of the emulator itself; used by the
// emulator's own tests so its JSON keeps GitHub's shape.
func (v *validator) validateResponse(ctx context.Context, r *http.Request, route *routers.Route, params map[string]string, status int, header http.Header, body []byte) error {
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    r,
			PathParams: params,
			Route:      route,
			Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: status,
		Header: header,
		Options: &openapi3filter.Options{
			MultiError:                  true,
			ExcludeWriteOnlyValidations: true,
		},
	}
	input.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(ctx, input)
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// shortError keeps the first lines of kin-openapi's verbose errors (which
// embed the whole schema) so violations stay readable.
func shortError(err error) string {
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		msgs := make([]string, 0, len(multi))
		for _, e := range multi {
			msgs = append(msgs, shortError(e))
		}
		return strings.Join(msgs, "; ")
	}
	msg := err.Error()
	if i := strings.Index(msg, "\nSchema:"); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.TrimSpace(msg)
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return msg
}
