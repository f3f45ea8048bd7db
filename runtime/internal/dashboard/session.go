package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// The session cookie: a payload the server signed (HMAC-SHA256), holding
// the id of the API key signed in with, a fingerprint of its secret (never
// the key: see auth.Authenticator.Resume), an expiry, and a random nonce
// the CSRF token of the session's forms is derived from. It is HttpOnly,
// SameSite=Strict, scoped to /ui, and Secure when the request came over TLS.

const (
	cookieName = "bifrost_session"
	sessionTTL = 12 * time.Hour
)

// session is the signed payload.
type session struct {
	Credential  string `json:"c"` // the key id, or "env"
	Fingerprint string `json:"f"`
	Expires     int64  `json:"e"` // Unix seconds
	Nonce       string `json:"n"`
}

// signer signs and checks sessions and CSRF tokens with one key.
type signer struct{ key []byte }

// newSigner derives the signing key from secret (BIFROST_SESSION_SECRET),
// so sessions hold across restarts and replicas; without one, a random key:
// sessions then last as long as the process, on that process only.
func newSigner(secret []byte) (signer, error) {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return signer{}, err
		}
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("bifrost dashboard cookie v1")) // not the session tokens' key itself
	return signer{key: mac.Sum(nil)}, nil
}

func (s signer) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

var b64 = base64.RawURLEncoding

// issue returns the cookie of a new session.
func (s signer) issue(credential, fingerprint string, now time.Time, secure bool) (*http.Cookie, *session, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	ss := &session{Credential: credential, Fingerprint: fingerprint, Expires: now.Add(sessionTTL).Unix(), Nonce: b64.EncodeToString(nonce)}
	payload, err := json.Marshal(ss)
	if err != nil {
		return nil, nil, err
	}
	value := b64.EncodeToString(payload)
	value += "." + b64.EncodeToString(s.mac("session", value))
	return s.cookie(value, int(sessionTTL.Seconds()), secure), ss, nil
}

// cookie is the session cookie with value; maxAge < 0 deletes it.
func (s signer) cookie(value string, maxAge int, secure bool) *http.Cookie {
	return &http.Cookie{Name: cookieName, Value: value, Path: "/ui", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure}
}

var errNoSession = errors.New("no valid session")

// read returns the session of r's cookie when its signature holds and it
// has not expired.
func (s signer) read(r *http.Request, now time.Time) (*session, error) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil, errNoSession
	}
	value, sig, ok := strings.Cut(c.Value, ".")
	got, err := b64.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(got, s.mac("session", value)) {
		return nil, errNoSession
	}
	payload, err := b64.DecodeString(value)
	if err != nil {
		return nil, errNoSession
	}
	var ss session
	if json.Unmarshal(payload, &ss) != nil || now.Unix() >= ss.Expires || ss.Nonce == "" {
		return nil, errNoSession
	}
	return &ss, nil
}

// csrf is the token the session's forms carry.
func (s signer) csrf(ss *session) string { return b64.EncodeToString(s.mac("csrf", ss.Nonce)) }

// checkCSRF reports whether token is the session's.
func (s signer) checkCSRF(ss *session, token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf(ss))) == 1
}
