package change

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// GitHub answers a tarball (or zipball) request with a redirect to a
// pre-signed URL on codeload, whose short-lived token rides in the query.
// That download needs no credentials, so it must get none: the
// installation client would add "Authorization: token …" to it and to
// every redirect, whatever the host. A Downloader is a plain client that
// carries no credentials, goes only to GitHub's own hosts, checks every
// redirect against them, and never puts a URL's query (the token) in an
// error.
type Downloader struct {
	client *http.Client
	// allowed maps a host (host[:port], lower case) to the schemes it may
	// be reached with.
	allowed map[string]map[string]bool
}

// maxDownloadRedirects bounds the redirects one download follows.
const maxDownloadRedirects = 3

// NewDownloader allows the API host, the web host, codeload.<web host>
// and codeload.github.com. transport nil means http.DefaultTransport.
func NewDownloader(apiURL, webURL string, transport http.RoundTripper) (*Downloader, error) {
	d := &Downloader{allowed: map[string]map[string]bool{}}
	for _, raw := range []string{apiURL, webURL} {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("download hosts: %q is not an http(s) URL", Redact(raw))
		}
		d.allow(hostKey(u), u.Scheme)
		if raw == webURL {
			d.allow("codeload."+u.Hostname(), "https")
		}
	}
	d.allow("codeload.github.com", "https")
	if transport == nil {
		transport = http.DefaultTransport
	}
	d.client = &http.Client{
		Transport: transport,
		Timeout:   10 * time.Minute, // a whole tarball; the caller's context bounds it too
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxDownloadRedirects {
				return fmt.Errorf("more than %d redirects", maxDownloadRedirects)
			}
			return d.check(req.URL)
		},
	}
	return d, nil
}

// hostKey is a URL's host as the allow list keeps it: lower case, without
// the scheme's default port.
func hostKey(u *url.URL) string {
	host := strings.ToLower(u.Host)
	if p := u.Port(); (u.Scheme == "https" && p == "443") || (u.Scheme == "http" && p == "80") {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]" // IPv6
		}
	}
	return host
}

func (d *Downloader) allow(host, scheme string) {
	host = strings.ToLower(host)
	if d.allowed[host] == nil {
		d.allowed[host] = map[string]bool{}
	}
	d.allowed[host][scheme] = true
}

// check refuses a URL outside GitHub's hosts, or over plain http where the
// host is served over https.
func (d *Downloader) check(u *url.URL) error {
	// https://codeload.github.com:443/… is the same host.
	host := hostKey(u)
	if u.User != nil {
		return fmt.Errorf("refusing %s: a download URL carries no user", Redact(u.String()))
	}
	if !d.allowed[host][u.Scheme] {
		return fmt.Errorf("refusing %s: not one of GitHub's download hosts", Redact(u.String()))
	}
	return nil
}

// Get downloads rawURL. The caller closes the body; a status other than
// 200 is an error. Errors name the URL without its query.
func (d *Downloader) Get(ctx context.Context, rawURL string) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("download %s: not a URL", Redact(rawURL))
	}
	if err := d.check(u); err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", Redact(rawURL), err)
	}
	req.Header.Set("User-Agent", "housekeeper")
	resp, err := d.client.Do(req)
	if err != nil {
		at := rawURL
		var ue *url.Error
		if errors.As(err, &ue) {
			// url.Error prints the whole URL, token included: keep the
			// cause only, and name the URL without its query.
			at, err = ue.URL, ue.Err
		}
		return nil, scrub(fmt.Errorf("download %s: %w", Redact(at), err), rawURL, at)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("download %s: %s", Redact(resp.Request.URL.String()), resp.Status)
	}
	return resp, nil
}

// scrubbed is an error whose text never holds a query it was built from,
// whatever a lower layer put in its message.
type scrubbed struct {
	err     error
	secrets []string
}

func (e *scrubbed) Error() string {
	msg := e.err.Error()
	for _, s := range e.secrets {
		msg = strings.ReplaceAll(msg, s, "REDACTED")
	}
	return msg
}

func (e *scrubbed) Unwrap() error { return e.err }

func scrub(err error, urls ...string) error {
	var secrets []string
	for _, raw := range urls {
		if u, perr := url.Parse(raw); perr == nil {
			if u.RawQuery != "" {
				secrets = append(secrets, u.RawQuery)
			}
			if u.User != nil {
				secrets = append(secrets, u.User.String())
			}
		}
	}
	return &scrubbed{err: err, secrets: secrets}
}

// Redact returns a URL without its query, fragment and user information:
// pre-signed URLs carry their token in the query.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// Not a URL: cut at the first '?' or '#' all the same.
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			raw = raw[:i]
		}
		if i := strings.Index(raw, "@"); i >= 0 {
			raw = raw[i+1:]
		}
		return raw
	}
	u.RawQuery, u.Fragment, u.RawFragment, u.User = "", "", "", nil
	u.ForceQuery = false
	return u.String()
}
