package server

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Validate reports every problem with the settings at once, each naming the
// environment variable or file:line: key it concerns, as a *ConfigError. It
// fails closed: no webhook secret or no usable private key is an error.
func (c *Config) Validate() error {
	probs := append([]problem(nil), c.problems...)
	for i, s := range settings {
		if s.check == nil || c.bad[s.key] {
			continue
		}
		if p := s.check(c); p != "" {
			probs = append(probs, problem{i, c.where(s.key) + ": " + p})
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return &ConfigError{Problems: sortProblems(probs)}
}

// where names a setting the way its problems should: where its value came
// from, else its environment variable.
func (c *Config) where(key string) string {
	if o, ok := c.origin[key]; ok {
		return o.String()
	}
	return settings[settingIndex(key)].env
}

// Describe writes the effective settings, one a line, with where each value
// came from; secrets show as REDACTED.
func (c *Config) Describe(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tFROM")
	for _, s := range settings {
		from := "default"
		if o, ok := c.origin[s.key]; ok {
			from = o.short()
		} else if s.key == "graphql_url" {
			from = "api_url"
		} else if s.def == "" {
			from = "-"
		}
		v := s.show(c)
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.key, v, from)
	}
	return tw.Flush()
}

// keyHint says what GitHub issues, for every unusable key.
const keyHint = "GitHub App keys are RSA: use the .pem file GitHub downloads from the App's settings (Private keys → Generate a private key), which is PKCS#1 (-----BEGIN RSA PRIVATE KEY-----)"

// parseRSAKey reads a PEM private key the way ghinstallation will (PKCS#1
// or PKCS#8, RSA only), so a bad key stops the server at start rather than
// on its first API call. Errors never quote the key.
func parseRSAKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found (no -----BEGIN … PRIVATE KEY----- line); " + keyHint)
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("the RSA PRIVATE KEY block does not parse as PKCS#1 (damaged or cut short?)")
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("the PRIVATE KEY block does not parse as PKCS#8 (damaged or cut short?)")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("this is %s, not an RSA key; %s", keyKind(k), keyHint)
		}
		return rk, nil
	case "EC PRIVATE KEY":
		return nil, errors.New("this is an EC (elliptic-curve) key, not an RSA key; " + keyHint)
	case "OPENSSH PRIVATE KEY":
		return nil, errors.New("this is an OpenSSH key, not a PEM RSA key; " + keyHint)
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, fmt.Errorf("the PEM block is a %s, not the private key; %s", strings.ToLower(block.Type), keyHint)
	}
	return nil, fmt.Errorf("the PEM block is %q, not a private key; %s", block.Type, keyHint)
}

func keyKind(k any) string {
	switch k.(type) {
	case *ecdsa.PrivateKey:
		return "an EC (elliptic-curve) key"
	case ed25519.PrivateKey:
		return "an Ed25519 key"
	}
	return fmt.Sprintf("a %T", k)
}

func checkURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%q is not an http(s) URL", v)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Sprintf("%q must not carry a query, fragment or credentials", v)
	}
	return ""
}

func checkAddr(v string) string {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Sprintf("%q is not host:port (e.g. :8080)", v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("%q has no valid port", v)
	}
	return ""
}

func checkOneOf(v string, allowed ...string) string {
	for _, a := range allowed {
		if v == a {
			return ""
		}
	}
	return fmt.Sprintf("must be one of %s; got %q", strings.Join(allowed, ", "), v)
}
