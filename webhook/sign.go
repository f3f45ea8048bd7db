package webhook

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// The Sign functions compute what a sender puts in its headers. They are
// meant for tests and for clients of a verified endpoint (a script, another
// service); each takes one secret as written, not a rotation list.

// SignGitHub returns the X-Hub-Signature-256 value of body:
// "sha256=<hex HMAC-SHA256(secret, body)>".
func SignGitHub(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac([]byte(secret), body))
}

// SignHMACSHA256 returns the value the hmac-sha256 kind reads (in
// X-Signature-256 by default): "sha256=<hex HMAC-SHA256(secret, body)>".
func SignHMACSHA256(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac([]byte(secret), body))
}

// SignStripe returns the Stripe-Signature value of body sent at t:
// "t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>", the key being the
// whole whsec_… string.
func SignStripe(secret string, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac([]byte(secret), []byte(ts+"."), body))
}

// SignSlack returns the X-Slack-Signature and X-Slack-Request-Timestamp
// values of body sent at t: "v0=<hex HMAC-SHA256(secret, "v0:" + ts + ":" +
// body)>" and the Unix time in seconds.
func SignSlack(secret string, body []byte, t time.Time) (sig, ts string) {
	ts = strconv.FormatInt(t.Unix(), 10)
	return "v0=" + hex.EncodeToString(mac([]byte(secret), []byte("v0:"+ts+":"), body)), ts
}

// SignStandard returns the Standard Webhooks webhook-signature value of body
// sent at t with message id id: "v1,<base64 HMAC-SHA256(key, id + "." + ts +
// "." + body)>", key being the base64 decoding of secret after its "whsec_"
// prefix. The webhook-timestamp header is strconv.FormatInt(t.Unix(), 10).
// It fails when secret is not base64.
func SignStandard(secret, id string, t time.Time, body []byte) (string, error) {
	key, err := standardKey(secret)
	if err != nil {
		return "", errors.New("webhook: the Standard Webhooks secret is not base64 after whsec_")
	}
	ts := strconv.FormatInt(t.Unix(), 10)
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, []byte(id+"."+ts+"."), body)), nil
}
