package githubtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
)

// Generating a 2048-bit key costs tens of milliseconds; every emulator of a
// process shares one unless WithAppKey gives another.
var (
	keyOnce sync.Once
	keyVal  *rsa.PrivateKey
	keyErr  error
)

func sharedAppKey() (*rsa.PrivateKey, error) {
	keyOnce.Do(func() {
		keyVal, keyErr = rsa.GenerateKey(rand.Reader, 2048)
		if keyErr != nil {
			keyErr = fmt.Errorf("generate App key: %w", keyErr)
		}
	})
	return keyVal, keyErr
}

// AppID is the App under test's ID (GITHUB_APP_INTEGRATION_ID).
func (s *Server) AppID() int64 { return s.cfg.appID }

// AppSlug is the App's slug; its bot user is BotLogin.
func (s *Server) AppSlug() string { return s.cfg.appSlug }

// BotLogin is the login of the App's bot user, "<slug>[bot]".
func (s *Server) BotLogin() string { return s.cfg.appSlug + "[bot]" }

// AppPrivateKeyPEM is the App's private key as GitHub hands it out
// (PKCS#1 "RSA PRIVATE KEY" PEM), for GITHUB_APP_PRIVATE_KEY.
func (s *Server) AppPrivateKeyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.appKey)})
}

// AppConfig is go-githubapp's configuration of the App under test
// against this emulator: its API URL, App ID, webhook secret and key.
func (s *Server) AppConfig() githubapp.Config {
	var c githubapp.Config
	c.V3APIURL = s.URL + "/"
	c.App.IntegrationID = s.AppID()
	c.App.WebhookSecret = s.WebhookSecret()
	c.App.PrivateKey = string(s.AppPrivateKeyPEM())
	return c
}

// WebhookSecret is the secret webhooks are signed with.
func (s *Server) WebhookSecret() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookSecret
}

// AppJWT signs a JWT for the App as ghinstallation does (iat 30 s in the
// past, exp in 2 minutes), for tests that call /app endpoints directly.
func (s *Server) AppJWT() string {
	now := s.now().Add(-30 * time.Second).Truncate(time.Second)
	return signJWT(s.appKey, strconv.FormatInt(s.cfg.appID, 10), now, now.Add(2*time.Minute))
}

func signJWT(key *rsa.PrivateKey, iss string, iat, exp time.Time) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{"iss": iss, "iat": iat.Unix(), "exp": exp.Unix()})
	signing := header + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	return signing + "." + enc.EncodeToString(sig)
}

// verifyJWT checks an App JWT as GitHub does: RS256 signed by the App's
// key, iss the App ID, iat not in the future, exp in the future and at
// most ten minutes ahead. Messages are GitHub's.
func (s *Server) verifyJWT(token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("A JSON web token could not be decoded")
	}
	enc := base64.RawURLEncoding
	headerJSON, err1 := enc.DecodeString(parts[0])
	claimsJSON, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return errors.New("A JSON web token could not be decoded")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(headerJSON, &header) != nil || header.Alg != "RS256" {
		return errors.New("A JSON web token could not be decoded")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&s.appKey.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return errors.New("A JSON web token could not be decoded")
	}
	var claims struct {
		Iss json.RawMessage `json:"iss"`
		Iat json.Number     `json:"iat"`
		Exp json.Number     `json:"exp"`
	}
	dec := json.NewDecoder(strings.NewReader(string(claimsJSON)))
	dec.UseNumber()
	if dec.Decode(&claims) != nil {
		return errors.New("A JSON web token could not be decoded")
	}
	// GitHub accepts the App ID as a string or a number.
	iss := strings.Trim(string(claims.Iss), `"`)
	if iss != strconv.FormatInt(s.cfg.appID, 10) {
		return errors.New("'Issuer' claim ('iss') must be an Integer")
	}
	iat, errI := claims.Iat.Int64()
	exp, errE := claims.Exp.Int64()
	now := s.now().Unix()
	const skew = 60 // seconds of clock drift GitHub tolerates
	switch {
	case errI != nil || iat > now+skew:
		return errors.New("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.")
	case errE != nil || exp <= now:
		return errors.New("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.")
	case exp > now+600+skew:
		return errors.New("'Expiration time' claim ('exp') is too far in the future")
	}
	return nil
}

// ---- installation tokens ----

type tokenState struct {
	installationID int64
	expires        time.Time
}

func randomToken(prefix string, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	for i := range b {
		b[i] = alphabet[int(buf[i])%len(alphabet)]
	}
	return prefix + string(b)
}

func (s *Server) issueTokenLocked(inst *installationState) (string, time.Time) {
	tok := randomToken("ghs_", 36)
	exp := s.now().Add(s.cfg.tokenTTL).Truncate(time.Second)
	s.tokens[tok] = &tokenState{installationID: inst.ID, expires: exp}
	return tok, exp
}

// InstallationToken issues a token for an installation directly, for tests
// that build a client without the App JWT flow.
func (s *Server) InstallationToken(id int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.installations[id]
	if inst == nil {
		s.fatalf("InstallationToken: no installation %d", id)
		return ""
	}
	tok, _ := s.issueTokenLocked(inst)
	return tok
}

// ExpireTokens makes every token issued so far expire now, as if the run
// outlived them: the next request with one gets 401 "Bad credentials".
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.expires = s.now().Add(-time.Second)
	}
}

// ---- request authentication ----

type credKind int

const (
	credNone credKind = iota
	credApp
	credInstallation
)

type credential struct {
	kind credKind
	inst *installationState
}

func (c credential) installationID() int64 {
	if c.inst != nil {
		return c.inst.ID
	}
	return 0
}

// rateKey names the rate-limit bucket of a credential.
func (c credential) rateKey() string {
	switch c.kind {
	case credInstallation:
		return "installation:" + strconv.FormatInt(c.inst.ID, 10)
	case credApp:
		return "app"
	}
	return "anonymous"
}

// authNeeds says which credential an operation takes.
func authNeeds(opID string) credKind {
	switch opID {
	case "apps/create-from-manifest":
		return credNone
	case "rate-limit/get":
		return -1 // any
	}
	if strings.HasPrefix(opID, "apps/") && opID != "apps/list-repos-accessible-to-installation" {
		return credApp
	}
	return credInstallation
}

// authenticate checks the Authorization header against what the operation
// needs and, for repository operations, that the installation may see the
// repository. It answers and returns false when the request stops here.
func (s *Server) authenticate(c *call) bool {
	need := authNeeds(c.opID)
	if need == credNone {
		return true
	}
	scheme, value, _ := strings.Cut(c.r.Header.Get("Authorization"), " ")
	scheme = strings.ToLower(scheme)
	if value == "" {
		c.violation("auth", "no Authorization header")
		c.fail(http.StatusUnauthorized, "Requires authentication")
		return false
	}
	if strings.Count(value, ".") == 2 && (scheme == "bearer") {
		if err := s.verifyJWT(value); err != nil {
			c.violation("auth", "App JWT: "+err.Error())
			c.fail(http.StatusUnauthorized, err.Error())
			return false
		}
		c.cred = credential{kind: credApp}
		if need == credInstallation {
			c.violation("auth", "an App JWT cannot call "+c.op+"; it needs an installation token")
			c.fail(http.StatusForbidden, "A JSON web token cannot be used to access this resource; use an installation access token")
			return false
		}
		return true
	}
	if scheme != "token" && scheme != "bearer" {
		c.violation("auth", "unknown Authorization scheme "+scheme)
		c.fail(http.StatusUnauthorized, "Bad credentials")
		return false
	}
	s.mu.Lock()
	tok := s.tokens[value]
	var inst *installationState
	expired := false
	if tok != nil {
		inst = s.installations[tok.installationID]
		expired = !s.now().Before(tok.expires)
	}
	s.mu.Unlock()
	if tok == nil || inst == nil || expired {
		// An expired token is a fault the App must survive, not a
		// violation: it refreshes and retries.
		c.fail(http.StatusUnauthorized, "Bad credentials")
		return false
	}
	c.cred = credential{kind: credInstallation, inst: inst}
	if need == credApp {
		c.violation("auth", "an installation token cannot call "+c.op+"; it needs an App JWT")
		c.fail(http.StatusUnauthorized, "A JSON web token could not be decoded")
		return false
	}
	if inst.Suspended {
		c.fail(http.StatusForbidden, "This installation has been suspended")
		return false
	}
	return s.authorizeRepo(c, inst)
}

// permissionFor maps repository operations to the App permission they use.
func permissionFor(opID string) (perm string, write bool) {
	switch {
	case strings.HasPrefix(opID, "checks/"):
		return "checks", opID != "checks/get" && opID != "checks/list-annotations" && opID != "checks/list-for-ref"
	case strings.HasPrefix(opID, "issues/"), strings.HasPrefix(opID, "reactions/"):
		return "issues", opID != "issues/get-comment" && opID != "issues/list-comments" && opID != "issues/get" && opID != "issues/list-for-repo"
	case strings.HasPrefix(opID, "pulls/"), opID == "repos/list-pull-requests-associated-with-commit":
		return "pull_requests", opID == "pulls/create"
	case strings.HasPrefix(opID, "git/"), opID == "repos/create-or-update-file-contents":
		return "contents", !strings.HasPrefix(opID, "git/get-")
	case opID == "repos/get-content", opID == "repos/download-tarball-archive", opID == "repos/get-commit",
		opID == "repos/compare-commits-with-basehead", opID == "repos/get-branch":
		return "contents", false
	}
	return "metadata", false
}

func (s *Server) authorizeRepo(c *call, inst *installationState) bool {
	owner, name := c.param("owner"), c.param("repo")
	if owner == "" || name == "" {
		return true
	}
	s.mu.Lock()
	r := s.repoLocked(owner, name)
	covered := r != nil && inst.covers(r)
	public := r != nil && !r.Private
	s.mu.Unlock()
	perm, write := permissionFor(c.opID)
	// Installation tokens can read public repositories outside the
	// installation, but change nothing there.
	if r == nil || (!covered && (!public || write || c.r.Method != http.MethodGet)) {
		c.notFound()
		return false
	}
	level := inst.Permissions[perm]
	if perm == "metadata" && level == "" {
		level = "read"
	}
	if covered && (level == "" || (write && level != "write" && level != "admin")) {
		c.fail(http.StatusForbidden, "Resource not accessible by integration")
		return false
	}
	return true
}
