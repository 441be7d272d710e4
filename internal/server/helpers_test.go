package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Keys are generated, never committed: a PEM private key in the tree is
// exactly what housekeeper/secrets flags.
var (
	keyOnce  sync.Once
	rsaKey   *rsa.PrivateKey
	pkcs1PEM []byte
	pkcs8PEM []byte
)

func testKeys(t testing.TB) (pkcs1, pkcs8 []byte) {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaKey = k
		pkcs1PEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		pkcs8PEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	})
	return pkcs1PEM, pkcs8PEM
}

// sec1KeyPEM is an EC key as openssl ecparam -genkey writes it.
func sec1KeyPEM(t testing.TB) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

func ecKeyPEM(t testing.TB) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// env is a lookup over a map, so config tests never touch the process env.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const testSecret = "s3cr3t-webhook-value"

// validEnv is a complete, valid environment.
func validEnv(t testing.TB) map[string]string {
	pk, _ := testKeys(t)
	return map[string]string{
		"GITHUB_APP_INTEGRATION_ID": "12345",
		"GITHUB_APP_PRIVATE_KEY":    string(pk),
		"GITHUB_APP_WEBHOOK_SECRET": testSecret,
	}
}
