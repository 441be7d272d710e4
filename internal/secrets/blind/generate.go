package blind

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Alphabets of the pattern classes, written from the vendors' documented
// token alphabets.
var classes = map[string]string{
	"hex":    "0123456789abcdef",
	"HEX":    "0123456789ABCDEF",
	"digits": "0123456789",
	"alnum":  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	"lower":  "abcdefghijklmnopqrstuvwxyz0123456789",
	"upper":  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
	"alpha":  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	"b64":    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
	"b64url": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
	"b32":    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
	"bech32": "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
	// pw: a human-chosen or generated password, safe unquoted in YAML,
	// shells, URLs' userinfo and colon-separated files.
	"pw": "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.!*~",
	// wp: WordPress's salt generator alphabet (printable ASCII minus
	// quotes and backslash).
	"wp": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()-_[]{}<>~`+=,.;:/?|",
	// django: get_random_secret_key's alphabet.
	"django": "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)",
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func pick(rng *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// generate returns the value of a generator spec: a pattern (literal text
// with [class:N] segments) or a named generator with ':'-separated
// arguments.
func generate(spec string, rng *rand.Rand) (string, error) {
	name, arg, _ := strings.Cut(spec, ":")
	if g, ok := named[name]; ok && !strings.Contains(name, "[") {
		return g(arg, rng)
	}
	if strings.Contains(spec, "[") {
		return pattern(spec, rng)
	}
	return "", fmt.Errorf("unknown generator %q", spec)
}

// pattern expands literal text with [class:N] segments and [=name:arg]
// nested named generators.
func pattern(spec string, rng *rand.Rand) (string, error) {
	var b strings.Builder
	for spec != "" {
		i := strings.IndexByte(spec, '[')
		if i < 0 {
			b.WriteString(spec)
			break
		}
		b.WriteString(spec[:i])
		j := strings.IndexByte(spec[i:], ']')
		if j < 0 {
			return "", fmt.Errorf("pattern %q: unclosed [", spec)
		}
		if seg := spec[i+1 : i+j]; strings.HasPrefix(seg, "=") {
			// [=generator:arg] nests a named generator.
			v, err := generate(seg[1:], rng)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			spec = spec[i+j+1:]
			continue
		}
		cls, ns, ok := strings.Cut(spec[i+1:i+j], ":")
		alphabet, known := classes[cls]
		n, err := strconv.Atoi(ns)
		if !ok || !known || err != nil || n <= 0 {
			return "", fmt.Errorf("pattern %q: bad segment %q", spec, spec[i:i+j+1])
		}
		b.WriteString(pick(rng, alphabet, n))
		spec = spec[i+j+1:]
	}
	return b.String(), nil
}

var named map[string]func(arg string, rng *rand.Rand) (string, error)

func init() {
	named = map[string]func(string, *rand.Rand) (string, error){
		// GitHub's and npm's format: prefix, 30 base62 characters, and the
		// CRC32 of those 30 in 6 base62 digits.
		"crc62": func(prefix string, rng *rand.Rand) (string, error) {
			body := pick(rng, base62, 30)
			return prefix + "_" + body + base62Pad(crc32.ChecksumIEEE([]byte(body)), 6), nil
		},
		// GitHub fine-grained PAT: github_pat_ 22 + _ + 59.
		"ghfine": func(_ string, rng *rand.Rand) (string, error) {
			return "github_pat_" + pick(rng, base62, 22) + "_" + pick(rng, base62, 59), nil
		},
		"uuid": func(_ string, rng *rand.Rand) (string, error) { return uuid(rng), nil },
		"pem": func(kind string, rng *rand.Rand) (string, error) {
			return privateKey(kind, rng)
		},
		// Base64 of a PEM block, as in a Kubernetes Secret's data or a
		// kubeconfig's client-key-data.
		"pem64": func(kind string, rng *rand.Rand) (string, error) {
			k, err := privateKey(kind, rng)
			return base64.StdEncoding.EncodeToString([]byte(k + "\n")), err
		},
		// PEM with JSON "\n" escapes, as in service-account JSON and logs.
		"pemjson": func(kind string, rng *rand.Rand) (string, error) {
			k, err := privateKey(kind, rng)
			return strings.ReplaceAll(k, "\n", `\n`) + `\n`, err
		},
		// PEM behind a log prefix on every line.
		"pemlog": func(kind string, rng *rand.Rand) (string, error) {
			k, err := privateKey(kind, rng)
			lines := strings.Split(k, "\n")
			for i := range lines {
				if i > 0 {
					lines[i] = fmt.Sprintf("2024-03-14T09:26:%02d.%03dZ deploy-7f9c worker[412]: %s", 53+i/40, (i*37)%1000, lines[i])
				}
			}
			return strings.Join(lines, "\n"), err
		},
		"ppk":   func(_ string, rng *rand.Rand) (string, error) { return ppk(rng), nil },
		"jwt":   func(_ string, rng *rand.Rand) (string, error) { return jwt(rng), nil },
		"jwt64": func(_ string, rng *rand.Rand) (string, error) { return b64(jwt(rng)), nil },
		"basic": func(user string, rng *rand.Rand) (string, error) {
			return b64(user + ":" + pick(rng, classes["pw"], 18)), nil
		},
		"b64wrap": func(inner string, rng *rand.Rand) (string, error) {
			v, err := generate(inner, rng)
			return b64(v), err
		},
		"htpasswd": func(kind string, rng *rand.Rand) (string, error) { return pwHash(kind, rng) },
		// AWS STS session token: base64 of a protobuf-like blob.
		"awssession": func(_ string, rng *rand.Rand) (string, error) {
			return "IQoJb3JpZ2luX2VjE" + pick(rng, classes["b64"], 340) + "==", nil
		},
		"azsas": func(_ string, rng *rand.Rand) (string, error) {
			sig := strings.NewReplacer("+", "%2B", "/", "%2F").Replace(pick(rng, classes["b64"], 43))
			return "sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2026-12-31T23:59:59Z&st=2024-01-01T00:00:00Z&spr=https&sig=" + sig + "%3D", nil
		},
		"atlasv1": func(_ string, rng *rand.Rand) (string, error) {
			return pick(rng, classes["alnum"], 14) + ".atlasv1." + pick(rng, classes["alnum"], 67), nil
		},
		"pypi": func(_ string, rng *rand.Rand) (string, error) {
			return "pypi-AgEIcHlwaS5vcmc" + pick(rng, classes["b64url"], 150), nil
		},
		"ops": func(_ string, rng *rand.Rand) (string, error) {
			j := fmt.Sprintf(`{"signInAddress":"my.1password.com","userAuth":{"method":"SRPg-4096","alg":"PBES2g-HS256","iterations":650000,"salt":"%s"},"email":"%s@1passwordserviceaccounts.com","srpX":"%s","muk":{"alg":"A256GCM","ext":true,"k":"%s","key_ops":["encrypt","decrypt"],"kty":"oct","kid":"mp"},"secretKey":"A3-%s","throttleSecret":{"seed":"%s","deviceUuid":"%s"},"deviceUuid":"%s"}`,
				pick(rng, classes["b64url"], 22), pick(rng, classes["lower"], 13), pick(rng, classes["hex"], 64), pick(rng, classes["b64url"], 43),
				pick(rng, classes["upper"], 33), pick(rng, classes["hex"], 64), pick(rng, classes["lower"], 26), pick(rng, classes["lower"], 26))
			return "ops_" + base64.RawURLEncoding.EncodeToString([]byte(j)), nil
		},
		"sntrys": func(_ string, rng *rand.Rand) (string, error) {
			j := fmt.Sprintf(`{"iat":%d.%06d,"url":"https://sentry.io","region_url":"https://us.sentry.io","org":"acme-%s"}`,
				1700000000+rng.IntN(40000000), rng.IntN(1000000), pick(rng, classes["lower"], 6))
			return "sntrys_" + base64.RawStdEncoding.EncodeToString([]byte(j)) + "_" + pick(rng, classes["b64"], 43), nil
		},
		"glc": func(_ string, rng *rand.Rand) (string, error) {
			j := fmt.Sprintf(`{"o":"%d","n":"stack-%d-hm-read-deploy","k":"%s","m":{"r":"prod-eu-west-2"}}`,
				100000+rng.IntN(900000), 100000+rng.IntN(900000), pick(rng, classes["alnum"], 24))
			return "glc_" + base64.StdEncoding.EncodeToString([]byte(j)), nil
		},
		"jfrogref": func(_ string, rng *rand.Rand) (string, error) {
			return b64("reftkn:01:" + strconv.Itoa(1700000000+rng.IntN(90000000)) + ":" + pick(rng, classes["alnum"], 31)), nil
		},
		"discordbot": func(_ string, rng *rand.Rand) (string, error) {
			id := "1" + pick(rng, classes["digits"], 18)
			return base64.RawStdEncoding.EncodeToString([]byte(id)) + "." + pick(rng, classes["b64url"], 6) + "." + pick(rng, classes["b64url"], 38), nil
		},
		"telegram": func(_ string, rng *rand.Rand) (string, error) {
			return strconv.Itoa(1000000000+rng.IntN(999999999)) + ":AA" + pick(rng, classes["b64url"], 33), nil
		},
		"vault": func(_ string, rng *rand.Rand) (string, error) {
			return "hvs.CAESI" + pick(rng, classes["b64url"], 86), nil
		},
		"age": func(_ string, rng *rand.Rand) (string, error) {
			return "AGE-SECRET-KEY-1" + pick(rng, classes["bech32"], 58), nil
		},
		"fly": func(_ string, rng *rand.Rand) (string, error) {
			return "FlyV1 fm2_lJPECAAAAAAAA" + pick(rng, classes["b64"], 180) + ",fm2_lJPE" + pick(rng, classes["b64"], 120), nil
		},
		// Atlassian API token: ATATT3xFfGF0, 171 base64url, "=", 8 hex.
		"atlassian": func(_ string, rng *rand.Rand) (string, error) {
			return "ATATT3xFfGF0" + pick(rng, classes["b64url"], 171) + "=" + pick(rng, classes["HEX"], 8), nil
		},
		"mws": func(_ string, rng *rand.Rand) (string, error) { return "amzn.mws." + uuid(rng), nil },
		"googlerefresh": func(_ string, rng *rand.Rand) (string, error) {
			return "1//0" + pick(rng, classes["b64url"], 99), nil
		},
		"ya29": func(_ string, rng *rand.Rand) (string, error) {
			return "ya29.a0A" + pick(rng, classes["b64url"], 200), nil
		},
		"openaiproj": func(_ string, rng *rand.Rand) (string, error) {
			return "sk-proj-" + pick(rng, classes["b64url"], 74) + "T3BlbkFJ" + pick(rng, classes["b64url"], 74), nil
		},
		"openai": func(_ string, rng *rand.Rand) (string, error) {
			return "sk-" + pick(rng, classes["alnum"], 20) + "T3BlbkFJ" + pick(rng, classes["alnum"], 20), nil
		},
		"anthropic": func(_ string, rng *rand.Rand) (string, error) {
			return "sk-ant-api03-" + pick(rng, classes["b64url"], 93) + "AA", nil
		},
		"sendgrid": func(_ string, rng *rand.Rand) (string, error) {
			return "SG." + pick(rng, classes["b64url"], 22) + "." + pick(rng, classes["b64url"], 43), nil
		},
		"rails": func(_ string, rng *rand.Rand) (string, error) { return pick(rng, classes["hex"], 32), nil },
		"mysqlhash": func(_ string, rng *rand.Rand) (string, error) {
			return "*" + pick(rng, classes["HEX"], 40), nil
		},
		"sops": func(_ string, rng *rand.Rand) (string, error) {
			return "ENC[AES256_GCM,data:" + pick(rng, classes["b64"], 24) + "=,iv:" + pick(rng, classes["b64"], 42) + "=,tag:" + pick(rng, classes["b64"], 22) + "==,type:str]", nil
		},
		"sealed": func(_ string, rng *rand.Rand) (string, error) {
			return "AgB" + pick(rng, classes["b64"], 680) + "==", nil
		},
		// A PKCS#12 keystore: DER SEQUENCE header, then random bytes.
		"p12": func(_ string, rng *rand.Rand) (string, error) {
			b := []byte{0x30, 0x82, 0x0a, 0x51, 0x02, 0x01, 0x03, 0x30, 0x82, 0x0a, 0x17}
			for range 2640 {
				b = append(b, byte(rng.IntN(256)))
			}
			return string(b), nil
		},
		"sha256": func(_ string, rng *rand.Rand) (string, error) { return pick(rng, classes["hex"], 64), nil },
		"sha1":   func(_ string, rng *rand.Rand) (string, error) { return pick(rng, classes["hex"], 40), nil },
		"sshpub": func(_ string, rng *rand.Rand) (string, error) {
			return "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + pick(rng, classes["b64"], 43), nil
		},
		"cert": func(_ string, rng *rand.Rand) (string, error) {
			return "-----BEGIN CERTIFICATE-----\n" + wrap("MIIDdzCCAl+gAwIBAgIE"+pick(rng, classes["b64"], 1100)+"==", 64) + "\n-----END CERTIFICATE-----", nil
		},
	}
}

func base62Pad(v uint32, width int) string {
	var b []byte
	for v > 0 {
		b = append([]byte{base62[v%62]}, b...)
		v /= 62
	}
	for len(b) < width {
		b = append([]byte{'0'}, b...)
	}
	return string(b)
}

func uuid(rng *rand.Rand) string {
	h := pick(rng, classes["hex"], 32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + "89ab"[rng.IntN(4):][:1] + h[17:20] + "-" + h[20:]
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func wrap(s string, n int) string {
	var lines []string
	for len(s) > n {
		lines = append(lines, s[:n])
		s = s[n:]
	}
	return strings.Join(append(lines, s), "\n")
}

// privateKey returns a PEM block of the kind: "ed25519" is a real PKCS#8
// key from a seeded seed; the others carry their format's real DER or
// OpenSSH header bytes followed by random base64 of the usual length.
func privateKey(kind string, rng *rand.Rand) (string, error) {
	body := func(head string, n int) string { return wrap(head+pick(rng, classes["b64"], n-len(head)), 64) }
	switch kind {
	case "ed25519":
		seed := make([]byte, ed25519.SeedSize)
		for i := range seed {
			seed[i] = byte(rng.IntN(256))
		}
		der, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(seed))
		if err != nil {
			return "", err
		}
		return strings.TrimSuffix(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "\n"), nil
	case "rsa":
		return "-----BEGIN RSA PRIVATE KEY-----\n" + body("MIIEowIBAAKCAQEA", 1588) + "\n-----END RSA PRIVATE KEY-----", nil
	case "pkcs8":
		return "-----BEGIN PRIVATE KEY-----\n" + body("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ", 1620) + "\n-----END PRIVATE KEY-----", nil
	case "ec":
		return "-----BEGIN EC PRIVATE KEY-----\n" + body("MHcCAQEEI", 160) + "\n-----END EC PRIVATE KEY-----", nil
	case "openssh":
		return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + body("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW", 400) + "\n-----END OPENSSH PRIVATE KEY-----", nil
	case "encrypted":
		return "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + body("MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI", 1756) + "\n-----END ENCRYPTED PRIVATE KEY-----", nil
	case "pgp":
		return "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + body("lQOYBF", 1300) + "\n=" + pick(rng, classes["b64"], 4) + "\n-----END PGP PRIVATE KEY BLOCK-----", nil
	}
	return "", fmt.Errorf("unknown private key kind %q", kind)
}

// ppk is a PuTTY version 3 key file.
func ppk(rng *rand.Rand) string {
	return "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy@bastion\nPublic-Lines: 2\n" +
		wrap("AAAAC3NzaC1lZDI1NTE5AAAAI"+pick(rng, classes["b64"], 43), 64) +
		"\nPrivate-Lines: 1\n" + "AAAAI" + pick(rng, classes["b64"], 43) + "\nPrivate-MAC: " + pick(rng, classes["hex"], 64)
}

func jwt(rng *rand.Rand) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	p := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"sub":"%s","role":"service_role","iss":"api","iat":%d}`,
		uuid(rng), 1700000000+rng.IntN(50000000))))
	return h + "." + p + "." + pick(rng, classes["b64url"], 43)
}

// pwHash returns a password hash in the format of htpasswd, shadow or a
// database dump.
func pwHash(kind string, rng *rand.Rand) (string, error) {
	crypt := "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	switch kind {
	case "apr1":
		return "$apr1$" + pick(rng, crypt, 8) + "$" + pick(rng, crypt, 22), nil
	case "bcrypt":
		return "$2y$10$" + pick(rng, crypt, 53), nil
	case "sha":
		return "{SHA}" + pick(rng, classes["b64"], 27) + "=", nil
	case "sha512":
		return "$6$" + pick(rng, crypt, 16) + "$" + pick(rng, crypt, 86), nil
	case "yescrypt":
		return "$y$j9T$" + pick(rng, crypt, 24) + "$" + pick(rng, crypt, 43), nil
	}
	return "", fmt.Errorf("unknown hash kind %q", kind)
}
