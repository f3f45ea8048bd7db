// Package webhook checks the signatures webhook senders put on their
// requests, over the raw bytes of the body, in constant time.
//
// A workflow marked `verify=KIND secret=CONFIG_KEY` gets the [Verifier] that
// [ByKind] returns for KIND; the runtime calls its Verify method with the
// request's headers, the body exactly as received (never a re-serialised
// payload: the sender signed bytes, and compacting or re-ordering JSON changes
// them), the secret read from the configuration and the current time. A
// non-nil error means the request is answered 401; the error says what failed
// (an [*Error], whose Kind is also matched by errors.Is against [ErrNoSecret],
// [ErrMissingHeader], [ErrMalformed], [ErrStale] and [ErrMismatch]) and is
// meant for the logs only. Error messages name the scheme and the header
// concerned, never the secret, the expected signature, the received
// signature or the body.
//
// The schemes:
//
//   - [GitHub]: X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>.
//   - [Stripe]: Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…][,v0=…] over
//     t + "." + body, keyed with the whole whsec_… string; v0 and other
//     schemes are never used.
//   - [Slack]: X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:" + ts + ":" + body)>
//     with ts in X-Slack-Request-Timestamp.
//   - [Standard] (Standard Webhooks, https://www.standardwebhooks.com):
//     webhook-id, webhook-timestamp and webhook-signature: v1,<base64> …
//     over id + "." + ts + "." + body, keyed with the base64 decoding of
//     the secret after whsec_.
//   - [HMACSHA256]: a generic HMAC-SHA256 of the body in a header of your
//     choice (X-Signature-256 by default), hex or base64, with or without a
//     sha256= prefix.
//
// Schemes with a timestamp reject one more than [Tolerance] away from now, in
// the past (a replay) or in the future (a skewed or forged clock).
//
// # Secret rotation
//
// The secret argument of Verify may hold several secrets; the body is
// accepted when any of them verifies it, so a secret is rotated with no
// downtime: add the new secret next to the old one, switch the sender to the
// new one, then remove the old one.
//
//   - Stripe, Slack and Standard Webhooks secrets (whsec_…, hex, base64)
//     never contain whitespace or commas: they are separated by whitespace,
//     commas or newlines, e.g. "whsec_new,whsec_old" or "whsec_new whsec_old".
//   - GitHub and hmac-sha256 secrets are free text that may contain spaces
//     and commas (GitHub's own example is "It's a Secret to Everybody"):
//     they are separated by newlines only, the whitespace around each line
//     being ignored. Splitting them on spaces or commas would silently turn
//     one strong secret into several short, guessable ones.
//
// A secret the scheme cannot use (a Standard Webhooks secret that is not
// base64) fails every request with [ErrNoSecret], so that a typo is noticed
// at once rather than when the old secret is removed.
//
// # Bounds
//
// A signature header longer than [MaxHeaderBytes] is rejected as malformed,
// and at most [MaxSignatures] well-formed signatures of a header are
// considered (later ones are ignored). The HMAC of the body is computed once
// per secret, whatever the number of signatures. The body itself is not
// bounded here: the caller reads it with its own limit.
//
// # Signing
//
// [SignGitHub], [SignStripe], [SignSlack], [SignStandard] and
// [SignHMACSHA256] compute the header values a sender would send. They exist
// for tests and for clients (a script calling a verified endpoint); they take
// one secret, not a rotation list.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Tolerance is how far a signed timestamp may be from now, in either
// direction, for the schemes that sign one (Stripe, Slack, Standard
// Webhooks). A timestamp exactly Tolerance away is accepted.
const Tolerance = 5 * time.Minute

// MaxHeaderBytes bounds the size of a signature header (all its values
// together); a longer one is malformed.
const MaxHeaderBytes = 8 << 10

// MaxSignatures is the number of well-formed signatures of one header that
// are compared; later ones are ignored.
const MaxSignatures = 16

// DefaultHMACHeader is the header [HMACSHA256] reads when given "".
const DefaultHMACHeader = "X-Signature-256"

// Verifier checks one sender's signature of a raw body.
type Verifier interface {
	// Verify returns nil when body, as received, carries a valid signature
	// in h made with one of the secrets in secret (several may be given:
	// see Secret rotation in the package documentation),
	// and, for the schemes with a timestamp, the timestamp is within
	// Tolerance of now. Otherwise it returns an *Error.
	Verify(h http.Header, body []byte, secret string, now time.Time) error
}

// Kinds returns the verify= kinds [ByKind] accepts.
func Kinds() []string {
	return []string{"github", "stripe", "slack", "standard", "hmac-sha256"}
}

// ByKind returns the verifier of a verify= option: "github", "stripe",
// "slack", "standard" or "hmac-sha256". header is the signature_header=
// option: the header hmac-sha256 reads ("" for X-Signature-256); the other
// kinds read the header their sender defines and reject a non-empty header.
// An unknown kind is an error.
func ByKind(kind, header string) (Verifier, error) {
	if header != "" && kind != "hmac-sha256" {
		return nil, fmt.Errorf("webhook: a signature header applies to verify=hmac-sha256 only, not %q", kind)
	}
	switch kind {
	case "github":
		return GitHub(), nil
	case "stripe":
		return Stripe(), nil
	case "slack":
		return Slack(), nil
	case "standard":
		return Standard(), nil
	case "hmac-sha256":
		if header != "" && !isToken(header) {
			return nil, fmt.Errorf("webhook: %q is not an HTTP header name", header)
		}
		return HMACSHA256(header), nil
	}
	return nil, fmt.Errorf("webhook: unknown verify kind %q (valid: %s)", kind, strings.Join(Kinds(), ", "))
}

// Reason is what failed in a verification.
type Reason int

const (
	// NoSecret: the secret is empty, or one of the secrets is unusable by
	// the scheme (a Standard Webhooks secret that is not base64). A
	// configuration error, whatever the request.
	NoSecret Reason = iota + 1
	// MissingHeader: a header the scheme needs is absent or empty.
	MissingHeader
	// MalformedHeader: a header is there but cannot be read: no signature
	// of the scheme's form, a timestamp that is not a Unix time in seconds,
	// a repeated timestamp, a header too long.
	MalformedHeader
	// StaleTimestamp: the signed timestamp is more than Tolerance in the
	// past or in the future.
	StaleTimestamp
	// Mismatch: no signature matches the body with any of the secrets.
	Mismatch
)

// String returns the reason in words, e.g. "signature mismatch".
func (r Reason) String() string {
	switch r {
	case NoSecret:
		return "no usable secret"
	case MissingHeader:
		return "missing header"
	case MalformedHeader:
		return "malformed header"
	case StaleTimestamp:
		return "timestamp outside tolerance"
	case Mismatch:
		return "signature mismatch"
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Sentinels for errors.Is: an *Error matches the one of its Kind.
var (
	ErrNoSecret      = errors.New("webhook: " + NoSecret.String())
	ErrMissingHeader = errors.New("webhook: " + MissingHeader.String())
	ErrMalformed     = errors.New("webhook: " + MalformedHeader.String())
	ErrStale         = errors.New("webhook: " + StaleTimestamp.String())
	ErrMismatch      = errors.New("webhook: " + Mismatch.String())
)

// Error is a failed verification, for the logs: the HTTP answer stays a plain
// 401. It never holds the secret, a signature or the body.
type Error struct {
	Scheme string // the verify kind: "github", "stripe", "slack", "standard", "hmac-sha256"
	Kind   Reason
	Header string // the header concerned, canonical form, "" when none
	Detail string // more about it, e.g. "6m52s old, tolerance 5m0s"
}

// Error returns e.g. "webhook: stripe: timestamp outside tolerance
// (Stripe-Signature): 6m52s old, tolerance 5m0s".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("webhook: ")
	if e.Scheme != "" {
		b.WriteString(e.Scheme)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	if e.Header != "" {
		b.WriteString(" (")
		b.WriteString(e.Header)
		b.WriteString(")")
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns the sentinel of e's Kind, so that errors.Is(err,
// ErrMismatch) and the like work.
func (e *Error) Unwrap() error {
	switch e.Kind {
	case NoSecret:
		return ErrNoSecret
	case MissingHeader:
		return ErrMissingHeader
	case MalformedHeader:
		return ErrMalformed
	case StaleTimestamp:
		return ErrStale
	case Mismatch:
		return ErrMismatch
	}
	return nil
}

func fail(scheme string, kind Reason, header, format string, args ...any) *Error {
	detail := format
	if len(args) > 0 {
		detail = fmt.Sprintf(format, args...)
	}
	return &Error{Scheme: scheme, Kind: kind, Header: header, Detail: detail}
}

// splitSecrets splits a rotation list of secrets that cannot contain
// whitespace or commas (Stripe, Slack, Standard Webhooks): they are
// separated by whitespace, commas or newlines.
func splitSecrets(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

// splitLines splits a rotation list of free-form secrets (GitHub,
// hmac-sha256), which may contain spaces and commas: one per line, the
// whitespace around each ignored. Splitting them on spaces would turn the
// secret "It's a Secret to Everybody" into the keys "It's", "a"… each of
// which would be accepted.
func splitLines(s string) []string {
	var out []string
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// asciiKeys returns the secrets of s as HMAC keys, their bytes as written;
// freeForm secrets are one per line.
func asciiKeys(scheme, s string, freeForm bool) ([][]byte, error) {
	secrets := splitSecrets(s)
	if freeForm {
		secrets = splitLines(s)
	}
	if len(secrets) == 0 {
		return nil, fail(scheme, NoSecret, "", "the secret is empty")
	}
	keys := make([][]byte, len(secrets))
	for i, sec := range secrets {
		keys[i] = []byte(sec)
	}
	return keys, nil
}

// headerValue returns the values of header name joined with sep, checking
// they are there and not too long.
func headerValue(scheme string, h http.Header, name, sep string) (string, error) {
	vals := h.Values(name)
	n := 0
	for _, v := range vals {
		n += len(v) + len(sep)
	}
	if n > MaxHeaderBytes {
		return "", fail(scheme, MalformedHeader, name, "longer than %d bytes", MaxHeaderBytes)
	}
	v := strings.TrimSpace(strings.Join(vals, sep))
	if v == "" {
		return "", fail(scheme, MissingHeader, name, "")
	}
	return v, nil
}

// timestampHeader reads a header holding a Unix time in seconds.
func timestampHeader(scheme string, h http.Header, name string) (string, int64, error) {
	vals := h.Values(name)
	if len(vals) > 1 {
		return "", 0, fail(scheme, MalformedHeader, name, "%d values, want one", len(vals))
	}
	v, err := headerValue(scheme, h, name, "")
	if err != nil {
		return "", 0, err
	}
	ts, ok := parseTimestamp(v)
	if !ok {
		return "", 0, fail(scheme, MalformedHeader, name, "not a Unix time in seconds")
	}
	return v, ts, nil
}

// parseTimestamp parses a Unix time in seconds: decimal digits only (no
// sign, no space), since the string itself is what the sender signed.
func parseTimestamp(s string) (int64, bool) {
	if s == "" || len(s) > 18 { // 18 digits: far beyond any real date, no overflow
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// checkFresh fails when ts (Unix seconds) is more than Tolerance from now.
func checkFresh(scheme, header string, ts int64, now time.Time) error {
	tol := int64(Tolerance / time.Second)
	age := now.Unix() - ts // no overflow: 0 <= ts < 1e18
	switch {
	case age > tol:
		return fail(scheme, StaleTimestamp, header, "%s old, tolerance %s", seconds(age), Tolerance)
	case age < -tol:
		return fail(scheme, StaleTimestamp, header, "%s in the future, tolerance %s", seconds(-age), Tolerance)
	}
	return nil
}

// seconds formats n > 0 seconds as a duration, or as seconds when too long
// for one.
func seconds(n int64) string {
	if n > int64(math.MaxInt64/time.Second) {
		return strconv.FormatInt(n, 10) + "s"
	}
	return (time.Duration(n) * time.Second).String()
}

// matches reports whether HMAC-SHA256(key, parts...) equals one of sigs for
// one of keys. The HMAC is computed once per key; comparisons are constant
// time.
func matches(keys [][]byte, sigs [][]byte, parts ...[]byte) bool {
	ok := false
	for _, k := range keys {
		want := mac(k, parts...)
		for _, s := range sigs {
			if hmac.Equal(want, s) {
				ok = true
			}
		}
	}
	return ok
}

func mac(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func mismatch(scheme, header string, sigs, keys int) error {
	return fail(scheme, Mismatch, header, "%d signature(s) checked with %d secret(s)", sigs, keys)
}

// isToken reports whether s is an HTTP header name (an RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
