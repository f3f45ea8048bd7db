package webhook

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// Header names, canonical form.
const (
	githubHeader     = "X-Hub-Signature-256"
	stripeHeader     = "Stripe-Signature"
	slackHeader      = "X-Slack-Signature"
	slackTSHeader    = "X-Slack-Request-Timestamp"
	standardIDHeader = "Webhook-Id"
	standardTSHeader = "Webhook-Timestamp"
	standardHeader   = "Webhook-Signature"
	svixIDHeader     = "Svix-Id"
	svixTSHeader     = "Svix-Timestamp"
	svixHeader       = "Svix-Signature"
)

// GitHub verifies X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>.
// GitHub signs no timestamp, so a captured delivery can be replayed: use the
// X-GitHub-Delivery id to drop duplicates where that matters.
func GitHub() Verifier { return prefixedHex{scheme: "github", header: githubHeader, prefix: "sha256="} }

// Slack verifies X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:" + ts +
// ":" + body)>, with ts the X-Slack-Request-Timestamp header, within
// Tolerance of now. The secret is the app's signing secret.
func Slack() Verifier { return slack{} }

// Stripe verifies Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…][,v0=<hex>]:
// one v1 signature must be the hex HMAC-SHA256 of t + "." + body keyed with
// the whole endpoint secret (the "whsec_…" string as written, not decoded),
// and t within Tolerance of now. v0 and any other scheme are ignored, even
// when they would match.
func Stripe() Verifier { return stripe{} }

// Standard verifies Standard Webhooks (https://www.standardwebhooks.com):
// webhook-signature holds space-separated "v1,<base64 HMAC-SHA256(key, id +
// "." + ts + "." + body)>" of which one must match, id and ts being the
// webhook-id and webhook-timestamp headers, ts within Tolerance of now. The
// key is the base64 decoding of the secret after its "whsec_" prefix (the
// prefix is optional, missing padding is tolerated). Signatures of other
// versions (v1a…) are ignored. When webhook-signature is absent the
// svix-id, svix-timestamp and svix-signature headers of Svix, which sends
// the same scheme under its own name, are read instead.
func Standard() Verifier { return standard{} }

// HMACSHA256 verifies a generic HMAC-SHA256 of the body, keyed with the
// secret as written, in header (DefaultHMACHeader, X-Signature-256, when
// ""). The value is the signature in hex (either case) or base64 (standard or
// URL alphabet, padded or not), optionally after a "sha256=" prefix (any
// case), itself optionally followed by spaces: "sha256=<hex>",
// "sha256= <hex>", "<base64>"… Several signatures may be sent separated by
// commas; one matching is enough. No timestamp is signed.
func HMACSHA256(header string) Verifier {
	if header == "" {
		header = DefaultHMACHeader
	}
	return generic{header: http.CanonicalHeaderKey(header)}
}

// prefixedHex is GitHub's scheme: prefix + hex HMAC of the body.
type prefixedHex struct {
	scheme, header, prefix string
}

func (v prefixedHex) Verify(h http.Header, body []byte, secret string, _ time.Time) error {
	keys, err := asciiKeys(v.scheme, secret, true)
	if err != nil {
		return err
	}
	hv, err := headerValue(v.scheme, h, v.header, ",")
	if err != nil {
		return err
	}
	sigs := hexSigs(hv, v.prefix)
	if len(sigs) == 0 {
		return fail(v.scheme, MalformedHeader, v.header, "no %s<64 hex digits> signature", v.prefix)
	}
	if !matches(keys, sigs, body) {
		return mismatch(v.scheme, v.header, len(sigs), len(keys))
	}
	return nil
}

// hexSigs returns the comma-separated prefix+hex signatures of v, decoded,
// at most MaxSignatures; others are skipped.
func hexSigs(v, prefix string) [][]byte {
	var sigs [][]byte
	for part := range strings.SplitSeq(v, ",") {
		s, ok := strings.CutPrefix(strings.TrimSpace(part), prefix)
		if !ok {
			continue
		}
		if b := decodeHex(s); b != nil {
			sigs = append(sigs, b)
			if len(sigs) == MaxSignatures {
				break
			}
		}
	}
	return sigs
}

// decodeHex decodes a hex SHA-256 signature, nil unless it is one.
func decodeHex(s string) []byte {
	if len(s) != 2*sha256.Size {
		return nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}

type slack struct{}

func (slack) Verify(h http.Header, body []byte, secret string, now time.Time) error {
	const scheme = "slack"
	keys, err := asciiKeys(scheme, secret, false)
	if err != nil {
		return err
	}
	hv, err := headerValue(scheme, h, slackHeader, ",")
	if err != nil {
		return err
	}
	tsText, ts, err := timestampHeader(scheme, h, slackTSHeader)
	if err != nil {
		return err
	}
	sigs := hexSigs(hv, "v0=")
	if len(sigs) == 0 {
		return fail(scheme, MalformedHeader, slackHeader, "no v0=<64 hex digits> signature")
	}
	if err := checkFresh(scheme, slackTSHeader, ts, now); err != nil {
		return err
	}
	if !matches(keys, sigs, []byte("v0:"+tsText+":"), body) {
		return mismatch(scheme, slackHeader, len(sigs), len(keys))
	}
	return nil
}

type stripe struct{}

func (stripe) Verify(h http.Header, body []byte, secret string, now time.Time) error {
	const scheme = "stripe"
	keys, err := asciiKeys(scheme, secret, false)
	if err != nil {
		return err
	}
	hv, err := headerValue(scheme, h, stripeHeader, ",")
	if err != nil {
		return err
	}
	var (
		tsText string
		ts     int64
		tsSeen bool
		sigs   [][]byte
	)
	for part := range strings.SplitSeq(hv, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if tsSeen {
				return fail(scheme, MalformedHeader, stripeHeader, "several t= timestamps")
			}
			tsSeen = true
			if ts, ok = parseTimestamp(val); !ok {
				return fail(scheme, MalformedHeader, stripeHeader, "t= is not a Unix time in seconds")
			}
			tsText = val
		case "v1":
			if len(sigs) < MaxSignatures {
				if b := decodeHex(val); b != nil {
					sigs = append(sigs, b)
				}
			}
		}
	}
	if !tsSeen {
		return fail(scheme, MalformedHeader, stripeHeader, "no t= timestamp")
	}
	if len(sigs) == 0 {
		return fail(scheme, MalformedHeader, stripeHeader, "no v1=<64 hex digits> signature")
	}
	if err := checkFresh(scheme, stripeHeader, ts, now); err != nil {
		return err
	}
	if !matches(keys, sigs, []byte(tsText+"."), body) {
		return mismatch(scheme, stripeHeader, len(sigs), len(keys))
	}
	return nil
}

type standard struct{}

func (standard) Verify(h http.Header, body []byte, secret string, now time.Time) error {
	const scheme = "standard"
	keys, err := standardKeys(secret)
	if err != nil {
		return err
	}
	idH, tsH, sigH := standardIDHeader, standardTSHeader, standardHeader
	if len(h.Values(sigH)) == 0 && len(h.Values(svixHeader)) > 0 {
		idH, tsH, sigH = svixIDHeader, svixTSHeader, svixHeader
	}
	hv, err := headerValue(scheme, h, sigH, " ")
	if err != nil {
		return err
	}
	if n := len(h.Values(idH)); n > 1 {
		return fail(scheme, MalformedHeader, idH, "%d values, want one", n)
	}
	id, err := headerValue(scheme, h, idH, "")
	if err != nil {
		return err
	}
	tsText, ts, err := timestampHeader(scheme, h, tsH)
	if err != nil {
		return err
	}
	var sigs [][]byte
	for part := range strings.FieldsSeq(hv) {
		version, sig, ok := strings.Cut(part, ",")
		if !ok || version != "v1" {
			continue
		}
		b := decodeBase64(sig, base64.StdEncoding)
		if b == nil {
			continue
		}
		sigs = append(sigs, b)
		if len(sigs) == MaxSignatures {
			break
		}
	}
	if len(sigs) == 0 {
		return fail(scheme, MalformedHeader, sigH, "no v1,<base64> signature")
	}
	if err := checkFresh(scheme, tsH, ts, now); err != nil {
		return err
	}
	if !matches(keys, sigs, []byte(id+"."+tsText+"."), body) {
		return mismatch(scheme, sigH, len(sigs), len(keys))
	}
	return nil
}

// standardKeys decodes the Standard Webhooks secrets of a rotation list.
func standardKeys(secret string) ([][]byte, error) {
	secrets := splitSecrets(secret)
	if len(secrets) == 0 {
		return nil, fail("standard", NoSecret, "", "the secret is empty")
	}
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		k, err := standardKey(s)
		if err != nil {
			if len(secrets) == 1 {
				return nil, fail("standard", NoSecret, "", "the secret is not base64 after whsec_")
			}
			return nil, fail("standard", NoSecret, "", "secret %d of %d is not base64 after whsec_", i+1, len(secrets))
		}
		keys[i] = k
	}
	return keys, nil
}

// standardKey decodes one Standard Webhooks secret: base64 after an optional
// "whsec_" prefix, padding optional.
func standardKey(secret string) ([]byte, error) {
	s := strings.TrimPrefix(secret, "whsec_")
	k, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, err
	}
	if len(k) == 0 {
		return nil, base64.CorruptInputError(0)
	}
	return k, nil
}

// generic is the hmac-sha256 kind.
type generic struct{ header string }

func (v generic) Verify(h http.Header, body []byte, secret string, _ time.Time) error {
	const scheme = "hmac-sha256"
	keys, err := asciiKeys(scheme, secret, true)
	if err != nil {
		return err
	}
	hv, err := headerValue(scheme, h, v.header, ",")
	if err != nil {
		return err
	}
	var sigs [][]byte
	for part := range strings.SplitSeq(hv, ",") {
		s := strings.TrimSpace(part)
		if len(s) >= len("sha256=") && strings.EqualFold(s[:len("sha256=")], "sha256=") {
			s = strings.TrimLeft(s[len("sha256="):], " \t")
		}
		if b := decodeAny(s); b != nil {
			sigs = append(sigs, b)
			if len(sigs) == MaxSignatures {
				break
			}
		}
	}
	if len(sigs) == 0 {
		return fail(scheme, MalformedHeader, v.header, "no hex or base64 SHA-256 signature")
	}
	if !matches(keys, sigs, body) {
		return mismatch(scheme, v.header, len(sigs), len(keys))
	}
	return nil
}

// decodeAny decodes a SHA-256 signature in hex or base64 (standard or URL
// alphabet, padded or not); nil unless it is one.
func decodeAny(s string) []byte {
	if b := decodeHex(s); b != nil {
		return b
	}
	return decodeBase64(s, base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding)
}

// decodeBase64 decodes a base64 SHA-256 signature in one of encs, nil unless
// it is one. Only the canonical encoding is accepted: no line breaks (which
// the decoder would skip) and no stray bits in the last character.
func decodeBase64(s string, encs ...*base64.Encoding) []byte {
	if strings.ContainsAny(s, "\r\n") {
		return nil
	}
	for _, enc := range encs {
		if b, err := enc.Strict().DecodeString(s); err == nil && len(b) == sha256.Size {
			return b
		}
	}
	return nil
}
