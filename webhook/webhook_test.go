package webhook

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Published vectors, from /work/shared/design/webhook-test-vectors.md (each
// also recomputed with openssl, see below).
const (
	// GitHub's documentation:
	//   printf '%s' 'Hello, World!' | openssl dgst -sha256 -hmac "It's a Secret to Everybody"
	ghSecret = "It's a Secret to Everybody"
	ghBody   = "Hello, World!"
	ghSig    = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

	// Slack's documentation:
	//   printf '%s' "v0:1531420618:$body" | openssl dgst -sha256 -hmac 8f742231b10e8888abcd99yyyzzz85a5
	slSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	slTS     = "1531420618"
	slBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	slSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

	// Standard Webhooks, case 1 (the specification's libraries):
	//   key=$(printf '%s' MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw | base64 -d | xxd -p -c 256)
	//   printf '%s' 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}' |
	//     openssl dgst -sha256 -mac HMAC -macopt hexkey:$key -binary | base64
	sw1Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	sw1ID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	sw1TS     = "1614265330"
	sw1Body   = `{"test": 2432232314}`
	sw1Sig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	sw1Wrong  = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=" // published must-fail
	// Standard Webhooks, case 2 (same commands with its key and content).
	sw2Secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	sw2ID     = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk"
	sw2TS     = "1649367553"
	sw2Body   = `{"email":"test@example.com","username":"test_user"}`
	sw2Sig    = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
)

// Vectors computed independently with OpenSSL 3.0 where none is published.
const (
	// Stripe: the key is the whole whsec_ string as ASCII.
	//   secret='whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'; ts=1700000000
	//   body='{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}'
	//   printf '%s' "$ts.$body" | openssl dgst -sha256 -hmac "$secret"
	stSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	stTS     = "1700000000"
	stBody   = `{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}`
	stV1     = "a82551674fad90f00a490f8455060aed6e282b5149812f4c8651c020249f73c4"
	// The same content keyed with the base64 decoding of the secret (what a
	// Standard Webhooks verifier would do), which Stripe does not:
	//   key=$(printf '%s' MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw | base64 -d | xxd -p -c 256)
	//   printf '%s' "$ts.$body" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$key
	stDecodedKey = "c94eb3d755d1d9e97a07408dd05aee0058612f1e3b7574550155bf8cf806cbaf"
	// The same content signed with a previous secret (rotation):
	//   printf '%s' "$ts.$body" | openssl dgst -sha256 -hmac whsec_oldSecretRotatedAway0000000
	stOldSecret = "whsec_oldSecretRotatedAway0000000"
	stOldV1     = "fcb2509c2e78dac7a55f634b8fb60aa65414103678997bff6beb393c92493030"

	// Generic hmac-sha256:
	//   printf '%s' '{"event":"ping","id":42}' | openssl dgst -sha256 -hmac bifrost-generic-secret
	//   printf '%s' '{"event":"ping","id":42}' | openssl dgst -sha256 -hmac bifrost-generic-secret -binary | base64
	gnSecret = "bifrost-generic-secret"
	gnBody   = `{"event":"ping","id":42}`
	gnHex    = "ba0b92bf4e086387b11a5d9b61ff139e11540ee75065a87beb314b64c5bd3041"
	gnB64    = "uguSv04IY4exGl2bYf8TnhFUDudQZah76zFLZMW9MEE="

	// Standard Webhooks with a secret whose base64 needs padding, given
	// without it (whsec_Ymlmcm9zdC1zdGQta2V5LTIwYnk rather than …eT0=… ):
	//   printf 'bifrost-std-key-20by' | base64   # Ymlmcm9zdC1zdGQta2V5LTIwYnk=
	//   k=$(printf 'bifrost-std-key-20by' | xxd -p -c 256)
	//   printf '%s' 'msg_unpadded.1700000000.{"a":1}' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$k -binary | base64
	swUnpaddedSecret = "whsec_Ymlmcm9zdC1zdGQta2V5LTIwYnk"
	swUnpaddedSig    = "v1,Ny1IusfIZHGH/nOtTLwu86QutIOrP0dLTGSQwvwie18="
)

func unix(s string) time.Time {
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return time.Unix(n, 0)
}

// hdr builds a header from name, value pairs; a name may repeat.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// tamper changes one character of a signature, ten from the end: inside the
// hex or base64 digits, and keeping base64 canonical.
func tamper(sig string) string {
	i := len(sig) - 10
	c := byte('0')
	if sig[i] == '0' {
		c = '1'
	}
	return sig[:i] + string(c) + sig[i+1:]
}

type vcase struct {
	name   string
	h      http.Header
	body   string
	secret string
	now    time.Time
	want   error // nil, or the sentinel of the expected Kind
}

func run(t *testing.T, v Verifier, scheme string, cases []vcase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := v.Verify(c.h, []byte(c.body), c.secret, c.now)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify: %v, want %v", err, c.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Verify: %T, want *Error", err)
			}
			if e.Scheme != scheme {
				t.Errorf("Scheme %q, want %q", e.Scheme, scheme)
			}
			for _, other := range []error{ErrNoSecret, ErrMissingHeader, ErrMalformed, ErrStale, ErrMismatch} {
				if other != c.want && errors.Is(err, other) {
					t.Errorf("errors.Is(%v, %v) is true too", err, other)
				}
			}
			// Nothing secret nor received in the message.
			msg := err.Error()
			leaks := []string{c.body}
			leaks = append(leaks, splitSecrets(c.secret)...)
			leaks = append(leaks, splitLines(c.secret)...)
			for _, vals := range c.h {
				for _, v := range vals {
					leaks = append(leaks, v)
					if _, after, ok := strings.Cut(v, "="); ok {
						leaks = append(leaks, after)
					}
				}
			}
			for _, l := range leaks {
				if len(l) >= 8 && strings.Contains(msg, l) {
					t.Errorf("message %q contains %q", msg, l)
				}
			}
			t.Log(msg)
		})
	}
}

func TestGitHub(t *testing.T) {
	upper := "sha256=" + strings.ToUpper(strings.TrimPrefix(ghSig, "sha256="))
	wrong := tamper(ghSig)
	many := make([]string, 0, 2*(MaxSignatures+1))
	for range MaxSignatures {
		many = append(many, "X-Hub-Signature-256", wrong)
	}
	run(t, GitHub(), "github", []vcase{
		{name: "published vector", h: hdr("X-Hub-Signature-256", ghSig), body: ghBody, secret: ghSecret},
		{name: "upper-case hex", h: hdr("X-Hub-Signature-256", upper), body: ghBody, secret: ghSecret},
		{name: "surrounding spaces", h: hdr("X-Hub-Signature-256", " "+ghSig+" "), body: ghBody, secret: ghSecret},
		{name: "tampered body", h: hdr("X-Hub-Signature-256", ghSig), body: "Hello, World?", secret: ghSecret, want: ErrMismatch},
		{name: "empty body", h: hdr("X-Hub-Signature-256", ghSig), body: "", secret: ghSecret, want: ErrMismatch},
		{name: "tampered signature", h: hdr("X-Hub-Signature-256", wrong), body: ghBody, secret: ghSecret, want: ErrMismatch},
		{name: "wrong secret", h: hdr("X-Hub-Signature-256", ghSig), body: ghBody, secret: "It's a Secret to Nobody", want: ErrMismatch},
		{name: "a word of the secret", h: hdr("X-Hub-Signature-256", SignGitHub("a", []byte(ghBody))), body: ghBody, secret: ghSecret, want: ErrMismatch},
		{name: "missing header", h: hdr("X-Hub-Signature", "sha1=0123"), body: ghBody, secret: ghSecret, want: ErrMissingHeader},
		{name: "empty header", h: hdr("X-Hub-Signature-256", " "), body: ghBody, secret: ghSecret, want: ErrMissingHeader},
		{name: "no prefix", h: hdr("X-Hub-Signature-256", strings.TrimPrefix(ghSig, "sha256=")), body: ghBody, secret: ghSecret, want: ErrMalformed},
		{name: "sha1 prefix", h: hdr("X-Hub-Signature-256", "sha1="+strings.TrimPrefix(ghSig, "sha256=")), body: ghBody, secret: ghSecret, want: ErrMalformed},
		{name: "space after prefix", h: hdr("X-Hub-Signature-256", "sha256= "+strings.TrimPrefix(ghSig, "sha256=")), body: ghBody, secret: ghSecret, want: ErrMalformed},
		{name: "not hex", h: hdr("X-Hub-Signature-256", "sha256="+strings.Repeat("zz", 32)), body: ghBody, secret: ghSecret, want: ErrMalformed},
		{name: "short", h: hdr("X-Hub-Signature-256", ghSig[:len(ghSig)-2]), body: ghBody, secret: ghSecret, want: ErrMalformed},
		{name: "too long", h: hdr("X-Hub-Signature-256", ghSig+","+strings.Repeat("x", MaxHeaderBytes)), body: ghBody, secret: ghSecret, want: ErrMalformed},
		{name: "several values, second matches", h: hdr("X-Hub-Signature-256", wrong, "X-Hub-Signature-256", ghSig), body: ghBody, secret: ghSecret},
		{name: "comma list, second matches", h: hdr("X-Hub-Signature-256", wrong+", "+ghSig), body: ghBody, secret: ghSecret},
		{name: "beyond MaxSignatures ignored", h: hdr(append(many, "X-Hub-Signature-256", ghSig)...), body: ghBody, secret: ghSecret, want: ErrMismatch},
		{name: "at MaxSignatures", h: hdr(append(many[2:], "X-Hub-Signature-256", ghSig)...), body: ghBody, secret: ghSecret},
		{name: "rotation, new secret first", h: hdr("X-Hub-Signature-256", ghSig), body: ghBody, secret: "new secret, with a comma\n" + ghSecret},
		{name: "rotation, new secret second", h: hdr("X-Hub-Signature-256", ghSig), body: ghBody, secret: ghSecret + "\r\nnew secret\n"},
		{name: "rotation, neither", h: hdr("X-Hub-Signature-256", ghSig), body: ghBody, secret: "one\ntwo", want: ErrMismatch},
		{name: "no secret", h: hdr("X-Hub-Signature-256", ghSig), body: ghBody, secret: "", want: ErrNoSecret},
		{name: "blank secret", h: hdr("X-Hub-Signature-256", ghSig), body: ghBody, secret: " \n\t\n", want: ErrNoSecret},
	})
}

func TestStripe(t *testing.T) {
	now := unix(stTS)
	sig := "t=" + stTS + ",v1=" + stV1
	wrongV1 := tamper(stV1)
	run(t, Stripe(), "stripe", []vcase{
		{name: "openssl vector", h: hdr("Stripe-Signature", sig), body: stBody, secret: stSecret, now: now},
		{name: "signature first, spaces", h: hdr("Stripe-Signature", "v1="+stV1+" , t="+stTS), body: stBody, secret: stSecret, now: now},
		{name: "upper-case hex", h: hdr("Stripe-Signature", "t="+stTS+",v1="+strings.ToUpper(stV1)), body: stBody, secret: stSecret, now: now},
		{name: "just inside, old", h: hdr("Stripe-Signature", sig), body: stBody, secret: stSecret, now: now.Add(Tolerance)},
		{name: "just inside, future", h: hdr("Stripe-Signature", sig), body: stBody, secret: stSecret, now: now.Add(-Tolerance)},
		{name: "stale", h: hdr("Stripe-Signature", sig), body: stBody, secret: stSecret, now: now.Add(Tolerance + time.Second), want: ErrStale},
		{name: "future", h: hdr("Stripe-Signature", sig), body: stBody, secret: stSecret, now: now.Add(-Tolerance - time.Second), want: ErrStale},
		{name: "years old", h: hdr("Stripe-Signature", sig), body: stBody, secret: stSecret, now: now.AddDate(3, 0, 0), want: ErrStale},
		{name: "far future", h: hdr("Stripe-Signature", "t=999999999999999999,v1="+stV1), body: stBody, secret: stSecret, now: now, want: ErrStale},
		{name: "tampered body", h: hdr("Stripe-Signature", sig), body: stBody + " ", secret: stSecret, now: now, want: ErrMismatch},
		{name: "tampered signature", h: hdr("Stripe-Signature", "t="+stTS+",v1="+wrongV1), body: stBody, secret: stSecret, now: now, want: ErrMismatch},
		{name: "tampered timestamp", h: hdr("Stripe-Signature", "t=1700000001,v1="+stV1), body: stBody, secret: stSecret, now: now, want: ErrMismatch},
		{name: "wrong secret", h: hdr("Stripe-Signature", sig), body: stBody, secret: "whsec_somethingElse", now: now, want: ErrMismatch},
		{name: "key is not base64-decoded", h: hdr("Stripe-Signature", "t="+stTS+",v1="+stDecodedKey), body: stBody, secret: stSecret, now: now, want: ErrMismatch},
		{name: "several v1, last matches", h: hdr("Stripe-Signature", "t="+stTS+",v1="+wrongV1+",v1="+stOldV1+",v1="+stV1+",v0="+wrongV1), body: stBody, secret: stSecret, now: now},
		{name: "several header values", h: hdr("Stripe-Signature", "t="+stTS+",v1="+wrongV1, "Stripe-Signature", "v1="+stV1), body: stBody, secret: stSecret, now: now},
		{name: "v0 ignored though it matches", h: hdr("Stripe-Signature", "t="+stTS+",v1="+wrongV1+",v0="+stV1), body: stBody, secret: stSecret, now: now, want: ErrMismatch},
		{name: "v0 only", h: hdr("Stripe-Signature", "t="+stTS+",v0="+stV1), body: stBody, secret: stSecret, now: now, want: ErrMalformed},
		{name: "rotation, old secret first", h: hdr("Stripe-Signature", sig), body: stBody, secret: stOldSecret + "," + stSecret, now: now},
		{name: "rotation, old secret second", h: hdr("Stripe-Signature", sig), body: stBody, secret: stSecret + " " + stOldSecret, now: now},
		{name: "rotation, sender still on old secret", h: hdr("Stripe-Signature", "t="+stTS+",v1="+stOldV1), body: stBody, secret: stSecret + "\n" + stOldSecret, now: now},
		{name: "rotation, old secret removed", h: hdr("Stripe-Signature", "t="+stTS+",v1="+stOldV1), body: stBody, secret: stSecret, now: now, want: ErrMismatch},
		{name: "missing header", h: hdr("X-Signature", sig), body: stBody, secret: stSecret, now: now, want: ErrMissingHeader},
		{name: "no t", h: hdr("Stripe-Signature", "v1="+stV1), body: stBody, secret: stSecret, now: now, want: ErrMalformed},
		{name: "two t", h: hdr("Stripe-Signature", "t="+stTS+",t="+stTS+",v1="+stV1), body: stBody, secret: stSecret, now: now, want: ErrMalformed},
		{name: "t not a number", h: hdr("Stripe-Signature", "t=yesterday,v1="+stV1), body: stBody, secret: stSecret, now: now, want: ErrMalformed},
		{name: "t negative", h: hdr("Stripe-Signature", "t=-1700000000,v1="+stV1), body: stBody, secret: stSecret, now: now, want: ErrMalformed},
		{name: "t overflowing", h: hdr("Stripe-Signature", "t=99999999999999999999999,v1="+stV1), body: stBody, secret: stSecret, now: now, want: ErrMalformed},
		{name: "no v1", h: hdr("Stripe-Signature", "t="+stTS), body: stBody, secret: stSecret, now: now, want: ErrMalformed},
		{name: "v1 not hex", h: hdr("Stripe-Signature", "t="+stTS+",v1=not-hex"), body: stBody, secret: stSecret, now: now, want: ErrMalformed},
		{name: "garbage", h: hdr("Stripe-Signature", "garbage"), body: stBody, secret: stSecret, now: now, want: ErrMalformed},
		{name: "too long", h: hdr("Stripe-Signature", sig+","+strings.Repeat("v2=x,", MaxHeaderBytes/5)), body: stBody, secret: stSecret, now: now, want: ErrMalformed},
		{name: "no secret", h: hdr("Stripe-Signature", sig), body: stBody, secret: " , ", now: now, want: ErrNoSecret},
	})
}

func TestSlack(t *testing.T) {
	now := unix(slTS)
	wrong := tamper(slSig)
	run(t, Slack(), "slack", []vcase{
		{name: "published vector", h: hdr("X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", slTS), body: slBody, secret: slSecret, now: now},
		{name: "just inside, old", h: hdr("X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", slTS), body: slBody, secret: slSecret, now: now.Add(Tolerance)},
		{name: "just inside, future", h: hdr("X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", slTS), body: slBody, secret: slSecret, now: now.Add(-Tolerance)},
		{name: "stale", h: hdr("X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", slTS), body: slBody, secret: slSecret, now: now.Add(Tolerance + time.Second), want: ErrStale},
		{name: "future", h: hdr("X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", slTS), body: slBody, secret: slSecret, now: now.Add(-Tolerance - time.Second), want: ErrStale},
		{name: "real clock", h: hdr("X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", slTS), body: slBody, secret: slSecret, now: time.Now(), want: ErrStale},
		{name: "tampered body", h: hdr("X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", slTS), body: strings.Replace(slBody, "roadrunner", "coyote", 1), secret: slSecret, now: now, want: ErrMismatch},
		{name: "tampered signature", h: hdr("X-Slack-Signature", wrong, "X-Slack-Request-Timestamp", slTS), body: slBody, secret: slSecret, now: now, want: ErrMismatch},
		{name: "tampered timestamp", h: hdr("X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", "1531420619"), body: slBody, secret: slSecret, now: now, want: ErrMismatch},
		{name: "wrong secret", h: hdr("X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", slTS), body: slBody, secret: "8f742231b10e8888abcd99yyyzzz85a6", now: now, want: ErrMismatch},
		{name: "several signatures", h: hdr("X-Slack-Signature", wrong, "X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", slTS), body: slBody, secret: slSecret, now: now},
		{name: "rotation, old secret first", h: hdr("X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", slTS), body: slBody, secret: "0123456789abcdef0123456789abcdef, " + slSecret, now: now},
		{name: "rotation, old secret second", h: hdr("X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", slTS), body: slBody, secret: slSecret + "\n0123456789abcdef0123456789abcdef", now: now},
		{name: "missing signature", h: hdr("X-Slack-Request-Timestamp", slTS), body: slBody, secret: slSecret, now: now, want: ErrMissingHeader},
		{name: "missing timestamp", h: hdr("X-Slack-Signature", slSig), body: slBody, secret: slSecret, now: now, want: ErrMissingHeader},
		{name: "timestamp not a number", h: hdr("X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", "1531420618.5"), body: slBody, secret: slSecret, now: now, want: ErrMalformed},
		{name: "two timestamps", h: hdr("X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", slTS, "X-Slack-Request-Timestamp", slTS), body: slBody, secret: slSecret, now: now, want: ErrMalformed},
		{name: "wrong version", h: hdr("X-Slack-Signature", "v1="+strings.TrimPrefix(slSig, "v0="), "X-Slack-Request-Timestamp", slTS), body: slBody, secret: slSecret, now: now, want: ErrMalformed},
		{name: "not hex", h: hdr("X-Slack-Signature", "v0=xyz", "X-Slack-Request-Timestamp", slTS), body: slBody, secret: slSecret, now: now, want: ErrMalformed},
		{name: "no secret", h: hdr("X-Slack-Signature", slSig, "X-Slack-Request-Timestamp", slTS), body: slBody, secret: "", now: now, want: ErrNoSecret},
	})
}

func TestStandard(t *testing.T) {
	now1, now2 := unix(sw1TS), unix(sw2TS)
	h1 := func(sig string) http.Header {
		return hdr("webhook-id", sw1ID, "webhook-timestamp", sw1TS, "webhook-signature", sig)
	}
	h2 := hdr("webhook-id", sw2ID, "webhook-timestamp", sw2TS, "webhook-signature", sw2Sig)
	many := strings.TrimSpace(strings.Repeat(sw1Wrong+" ", MaxSignatures))
	run(t, Standard(), "standard", []vcase{
		{name: "published case 1", h: h1(sw1Sig), body: sw1Body, secret: sw1Secret, now: now1},
		{name: "published case 2", h: h2, body: sw2Body, secret: sw2Secret, now: now2},
		{name: "published must-fail signature", h: h1(sw1Wrong), body: sw1Body, secret: sw1Secret, now: now1, want: ErrMismatch},
		{name: "bare v1,", h: h1("v1,"), body: sw1Body, secret: sw1Secret, now: now1, want: ErrMalformed},
		{name: "re-serialised JSON fails", h: h1(sw1Sig), body: `{"test":2432232314}`, secret: sw1Secret, now: now1, want: ErrMismatch},
		{name: "secret without whsec_", h: h1(sw1Sig), body: sw1Body, secret: strings.TrimPrefix(sw1Secret, "whsec_"), now: now1},
		{name: "secret without padding", h: hdr("webhook-id", "msg_unpadded", "webhook-timestamp", "1700000000", "webhook-signature", swUnpaddedSig), body: `{"a":1}`, secret: swUnpaddedSecret, now: unix("1700000000")},
		{name: "secret with padding", h: hdr("webhook-id", "msg_unpadded", "webhook-timestamp", "1700000000", "webhook-signature", swUnpaddedSig), body: `{"a":1}`, secret: swUnpaddedSecret + "=", now: unix("1700000000")},
		{name: "just inside, old", h: h1(sw1Sig), body: sw1Body, secret: sw1Secret, now: now1.Add(Tolerance)},
		{name: "just inside, future", h: h1(sw1Sig), body: sw1Body, secret: sw1Secret, now: now1.Add(-Tolerance)},
		{name: "stale", h: h1(sw1Sig), body: sw1Body, secret: sw1Secret, now: now1.Add(Tolerance + time.Second), want: ErrStale},
		{name: "future", h: h1(sw1Sig), body: sw1Body, secret: sw1Secret, now: now1.Add(-Tolerance - time.Second), want: ErrStale},
		{name: "tampered body", h: h2, body: strings.Replace(sw2Body, "test_user", "admin", 1), secret: sw2Secret, now: now2, want: ErrMismatch},
		{name: "tampered signature", h: h1(tamper(sw1Sig)), body: sw1Body, secret: sw1Secret, now: now1, want: ErrMismatch},
		{name: "tampered id", h: hdr("webhook-id", sw1ID+"x", "webhook-timestamp", sw1TS, "webhook-signature", sw1Sig), body: sw1Body, secret: sw1Secret, now: now1, want: ErrMismatch},
		{name: "tampered timestamp", h: hdr("webhook-id", sw1ID, "webhook-timestamp", "1614265331", "webhook-signature", sw1Sig), body: sw1Body, secret: sw1Secret, now: now1, want: ErrMismatch},
		{name: "wrong secret", h: h1(sw1Sig), body: sw1Body, secret: sw2Secret, now: now1, want: ErrMismatch},
		{name: "several signatures, last matches", h: h1(sw1Wrong + " v1a,c2lnbmVk v2,xyz " + sw1Sig), body: sw1Body, secret: sw1Secret, now: now1},
		{name: "several header values", h: hdr("webhook-id", sw1ID, "webhook-timestamp", sw1TS, "webhook-signature", sw1Wrong, "webhook-signature", sw1Sig), body: sw1Body, secret: sw1Secret, now: now1},
		{name: "beyond MaxSignatures ignored", h: h1(many + " " + sw1Sig), body: sw1Body, secret: sw1Secret, now: now1, want: ErrMismatch},
		{name: "other versions only", h: h1("v1a,c2lnbmVk v2,xyz"), body: sw1Body, secret: sw1Secret, now: now1, want: ErrMalformed},
		{name: "not canonical base64", h: h1("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF="), body: sw1Body, secret: sw1Secret, now: now1, want: ErrMalformed},
		{name: "rotation, old secret first", h: h1(sw1Sig), body: sw1Body, secret: sw2Secret + " " + sw1Secret, now: now1},
		{name: "rotation, old secret second", h: h1(sw1Sig), body: sw1Body, secret: sw1Secret + ",\n" + sw2Secret, now: now1},
		{name: "rotation, a secret not base64", h: h1(sw1Sig), body: sw1Body, secret: sw1Secret + " whsec_not*base64", now: now1, want: ErrNoSecret},
		{name: "secret not base64", h: h1(sw1Sig), body: sw1Body, secret: "whsec_!!!", now: now1, want: ErrNoSecret},
		{name: "secret empty after whsec_", h: h1(sw1Sig), body: sw1Body, secret: "whsec_", now: now1, want: ErrNoSecret},
		{name: "no secret", h: h1(sw1Sig), body: sw1Body, secret: "", now: now1, want: ErrNoSecret},
		{name: "missing signature", h: hdr("webhook-id", sw1ID, "webhook-timestamp", sw1TS), body: sw1Body, secret: sw1Secret, now: now1, want: ErrMissingHeader},
		{name: "missing id", h: hdr("webhook-timestamp", sw1TS, "webhook-signature", sw1Sig), body: sw1Body, secret: sw1Secret, now: now1, want: ErrMissingHeader},
		{name: "missing timestamp", h: hdr("webhook-id", sw1ID, "webhook-signature", sw1Sig), body: sw1Body, secret: sw1Secret, now: now1, want: ErrMissingHeader},
		{name: "two ids", h: hdr("webhook-id", sw1ID, "webhook-id", sw1ID, "webhook-timestamp", sw1TS, "webhook-signature", sw1Sig), body: sw1Body, secret: sw1Secret, now: now1, want: ErrMalformed},
		{name: "timestamp not a number", h: hdr("webhook-id", sw1ID, "webhook-timestamp", "2021-02-25T15:02:10Z", "webhook-signature", sw1Sig), body: sw1Body, secret: sw1Secret, now: now1, want: ErrMalformed},
		{name: "svix headers", h: hdr("svix-id", sw1ID, "svix-timestamp", sw1TS, "svix-signature", sw1Sig), body: sw1Body, secret: sw1Secret, now: now1},
		{name: "svix headers, tampered", h: hdr("svix-id", sw1ID, "svix-timestamp", sw1TS, "svix-signature", sw1Wrong), body: sw1Body, secret: sw1Secret, now: now1, want: ErrMismatch},
	})
}

func TestHMACSHA256(t *testing.T) {
	b64raw := strings.TrimRight(gnB64, "=")
	run(t, HMACSHA256(""), "hmac-sha256", []vcase{
		{name: "sha256=hex", h: hdr("X-Signature-256", "sha256="+gnHex), body: gnBody, secret: gnSecret},
		{name: "sha256= hex (space)", h: hdr("X-Signature-256", "sha256= "+gnHex), body: gnBody, secret: gnSecret},
		{name: "bare hex", h: hdr("X-Signature-256", gnHex), body: gnBody, secret: gnSecret},
		{name: "upper-case hex", h: hdr("X-Signature-256", "SHA256="+strings.ToUpper(gnHex)), body: gnBody, secret: gnSecret},
		{name: "base64", h: hdr("X-Signature-256", gnB64), body: gnBody, secret: gnSecret},
		{name: "sha256=base64", h: hdr("X-Signature-256", "sha256="+gnB64), body: gnBody, secret: gnSecret},
		{name: "sha256= base64 (space)", h: hdr("X-Signature-256", "sha256= "+gnB64), body: gnBody, secret: gnSecret},
		{name: "base64 without padding", h: hdr("X-Signature-256", b64raw), body: gnBody, secret: gnSecret},
		{name: "tampered body", h: hdr("X-Signature-256", "sha256="+gnHex), body: `{"event":"ping","id":43}`, secret: gnSecret, want: ErrMismatch},
		{name: "re-serialised body", h: hdr("X-Signature-256", "sha256="+gnHex), body: `{"event": "ping", "id": 42}`, secret: gnSecret, want: ErrMismatch},
		{name: "tampered hex", h: hdr("X-Signature-256", "sha256="+tamper(gnHex)), body: gnBody, secret: gnSecret, want: ErrMismatch},
		{name: "tampered base64", h: hdr("X-Signature-256", tamper(gnB64)), body: gnBody, secret: gnSecret, want: ErrMismatch},
		{name: "wrong secret", h: hdr("X-Signature-256", "sha256="+gnHex), body: gnBody, secret: "bifrost-generic-secreT", want: ErrMismatch},
		{name: "several signatures", h: hdr("X-Signature-256", "sha256="+tamper(gnHex)+", sha256="+gnB64), body: gnBody, secret: gnSecret},
		{name: "rotation, old secret first", h: hdr("X-Signature-256", "sha256="+gnHex), body: gnBody, secret: "old secret\n" + gnSecret},
		{name: "rotation, old secret second", h: hdr("X-Signature-256", "sha256="+gnHex), body: gnBody, secret: gnSecret + "\nold secret"},
		{name: "missing header", h: hdr("X-Hub-Signature-256", "sha256="+gnHex), body: gnBody, secret: gnSecret, want: ErrMissingHeader},
		{name: "prefix only", h: hdr("X-Signature-256", "sha256="), body: gnBody, secret: gnSecret, want: ErrMalformed},
		{name: "other algorithm", h: hdr("X-Signature-256", "sha1="+gnHex), body: gnBody, secret: gnSecret, want: ErrMalformed},
		{name: "neither hex nor base64", h: hdr("X-Signature-256", "sha256=not a signature"), body: gnBody, secret: gnSecret, want: ErrMalformed},
		{name: "too short", h: hdr("X-Signature-256", gnHex[:40]), body: gnBody, secret: gnSecret, want: ErrMalformed},
		{name: "no secret", h: hdr("X-Signature-256", "sha256="+gnHex), body: gnBody, secret: "", want: ErrNoSecret},
	})
	t.Run("custom header", func(t *testing.T) {
		run(t, HMACSHA256("x-custom-sig"), "hmac-sha256", []vcase{
			{name: "read", h: hdr("X-Custom-Sig", "sha256="+gnHex), body: gnBody, secret: gnSecret},
			{name: "default header not read", h: hdr("X-Signature-256", "sha256="+gnHex), body: gnBody, secret: gnSecret, want: ErrMissingHeader},
		})
	})
}

func TestByKind(t *testing.T) {
	for _, c := range []struct {
		kind, header string
		want         Verifier
	}{
		{"github", "", GitHub()},
		{"stripe", "", Stripe()},
		{"slack", "", Slack()},
		{"standard", "", Standard()},
		{"hmac-sha256", "", HMACSHA256("")},
		{"hmac-sha256", "X-Custom-Sig", HMACSHA256("X-Custom-Sig")},
	} {
		v, err := ByKind(c.kind, c.header)
		if err != nil || v != c.want {
			t.Errorf("ByKind(%q, %q) = %v, %v; want %v", c.kind, c.header, v, err, c.want)
		}
	}
	for _, k := range Kinds() {
		if _, err := ByKind(k, ""); err != nil {
			t.Errorf("ByKind(%q): %v", k, err)
		}
	}
	for _, c := range [][2]string{
		{"gitlab", ""},
		{"GitHub", ""},
		{"", ""},
		{"github", "X-Other"},
		{"hmac-sha256", "X Bad"},
		{"hmac-sha256", "X-Sig:"},
	} {
		if v, err := ByKind(c[0], c[1]); err == nil {
			t.Errorf("ByKind(%q, %q) = %v, want an error", c[0], c[1], v)
		} else {
			t.Log(err)
		}
	}
	v, _ := ByKind("hmac-sha256", "x-custom-sig")
	if err := v.Verify(hdr("X-Custom-Sig", gnB64), []byte(gnBody), gnSecret, time.Time{}); err != nil {
		t.Errorf("hmac-sha256 with a custom header: %v", err)
	}
}

func TestSign(t *testing.T) {
	if got := SignGitHub(ghSecret, []byte(ghBody)); got != ghSig {
		t.Errorf("SignGitHub = %s, want %s", got, ghSig)
	}
	if got := SignHMACSHA256(gnSecret, []byte(gnBody)); got != "sha256="+gnHex {
		t.Errorf("SignHMACSHA256 = %s, want sha256=%s", got, gnHex)
	}
	if got := SignStripe(stSecret, []byte(stBody), unix(stTS)); got != "t="+stTS+",v1="+stV1 {
		t.Errorf("SignStripe = %s, want t=%s,v1=%s", got, stTS, stV1)
	}
	if sig, ts := SignSlack(slSecret, []byte(slBody), unix(slTS)); sig != slSig || ts != slTS {
		t.Errorf("SignSlack = %s, %s; want %s, %s", sig, ts, slSig, slTS)
	}
	for _, c := range []struct{ secret, id, ts, body, want string }{
		{sw1Secret, sw1ID, sw1TS, sw1Body, sw1Sig},
		{sw2Secret, sw2ID, sw2TS, sw2Body, sw2Sig},
		{swUnpaddedSecret, "msg_unpadded", "1700000000", `{"a":1}`, swUnpaddedSig},
	} {
		got, err := SignStandard(c.secret, c.id, unix(c.ts), []byte(c.body))
		if err != nil || got != c.want {
			t.Errorf("SignStandard(%s) = %s, %v; want %s", c.id, got, err, c.want)
		}
	}
	if _, err := SignStandard("whsec_!!!", "msg", time.Now(), nil); err == nil {
		t.Error("SignStandard with a secret that is not base64: no error")
	}

	// Round trips at the current time.
	now := time.Now()
	body := []byte(`{"round":"trip"}`)
	if err := GitHub().Verify(hdr("X-Hub-Signature-256", SignGitHub("s", body)), body, "s", now); err != nil {
		t.Error("github:", err)
	}
	if err := HMACSHA256("").Verify(hdr("X-Signature-256", SignHMACSHA256("s", body)), body, "s", now); err != nil {
		t.Error("hmac-sha256:", err)
	}
	if err := Stripe().Verify(hdr("Stripe-Signature", SignStripe("whsec_s", body, now)), body, "whsec_s", now); err != nil {
		t.Error("stripe:", err)
	}
	sig, ts := SignSlack("s", body, now)
	if err := Slack().Verify(hdr("X-Slack-Signature", sig, "X-Slack-Request-Timestamp", ts), body, "s", now); err != nil {
		t.Error("slack:", err)
	}
	sig, _ = SignStandard(sw1Secret, "msg_1", now, body)
	h := hdr("webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", sig)
	if err := Standard().Verify(h, body, sw1Secret, now); err != nil {
		t.Error("standard:", err)
	}
}

func TestErrorMessage(t *testing.T) {
	err := Stripe().Verify(hdr("Stripe-Signature", "t="+stTS+",v1="+stV1), []byte(stBody), stSecret, unix(stTS).Add(412*time.Second))
	want := "webhook: stripe: timestamp outside tolerance (Stripe-Signature): 6m52s old, tolerance 5m0s"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	err = GitHub().Verify(nil, nil, "s", time.Time{})
	want = "webhook: github: missing header (X-Hub-Signature-256)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	for r := NoSecret; r <= Mismatch; r++ {
		if e := (&Error{Kind: r}); e.Unwrap() == nil || strings.HasPrefix(r.String(), "Reason(") {
			t.Errorf("reason %d has no sentinel or name", int(r))
		}
	}
}
