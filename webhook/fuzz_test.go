package webhook

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fuzz targets feed random header values and bodies to each verifier
// with fixed secrets (a rotation list of two) and a fixed clock. A verifier
// must never panic, must fail with an *Error of a known Kind whose message
// holds no secret, and must accept only when the header holds, in the
// scheme's syntax, a signature that an independent computation here finds
// valid for that body (and a timestamp within Tolerance where one is signed).

var fuzzNow = time.Unix(1700000000, 0)

// addValues adds value to h under name, one header line per line of value,
// so that the fuzzer also explores repeated headers.
func addValues(h http.Header, name, value string) {
	for v := range strings.SplitSeq(value, "\n") {
		h.Add(name, v)
	}
}

// fields splits a fuzzed header the way a list header may be split: on
// commas and line breaks.
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' })
}

func checkErr(t *testing.T, err error, secrets ...string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if e.Kind < NoSecret || e.Kind > Mismatch || e.Unwrap() == nil {
		t.Fatalf("error %v has kind %d", err, e.Kind)
	}
	msg := err.Error()
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Fatalf("message %q holds a secret", msg)
		}
	}
}

func fresh(ts string) bool {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || strings.TrimLeft(ts, "0123456789") != "" {
		return false
	}
	d := fuzzNow.Unix() - n
	return -300 <= d && d <= 300
}

func hexMAC(key string, parts ...string) string {
	b := make([][]byte, len(parts))
	for i, p := range parts {
		b[i] = []byte(p)
	}
	return hex.EncodeToString(mac([]byte(key), b...))
}

func FuzzGitHub(f *testing.F) {
	secrets := []string{"It's a Secret to Everybody", "second, secret"}
	secret := strings.Join(secrets, "\n")
	f.Add(ghSig, []byte(ghBody))
	f.Add(SignGitHub(secrets[1], []byte("x")), []byte("x"))
	f.Add("sha256=0000,"+ghSig, []byte(ghBody))
	f.Add(strings.ToUpper(ghSig), []byte(ghBody))
	f.Add("sha256= "+ghSig[7:], []byte(ghBody))
	f.Add("", []byte(nil))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		h := http.Header{}
		addValues(h, "X-Hub-Signature-256", header)
		err := GitHub().Verify(h, body, secret, fuzzNow)
		if err != nil {
			checkErr(t, err, secrets...)
			return
		}
		for _, p := range fields(header) {
			rest, ok := strings.CutPrefix(strings.TrimSpace(p), "sha256=")
			for _, s := range secrets {
				if ok && strings.EqualFold(rest, hexMAC(s, string(body))) {
					return
				}
			}
		}
		t.Fatalf("accepted %q for body %q", header, body)
	})
}

func FuzzHMAC(f *testing.F) {
	secrets := []string{gnSecret, "old secret"}
	secret := strings.Join(secrets, "\n")
	f.Add("sha256="+gnHex, []byte(gnBody))
	f.Add("sha256= "+gnHex, []byte(gnBody))
	f.Add(gnB64, []byte(gnBody))
	f.Add("SHA256="+strings.ToUpper(gnHex), []byte(gnBody))
	f.Add(strings.TrimRight(gnB64, "="), []byte(gnBody))
	f.Add("sha256=zz, "+SignHMACSHA256("old secret", []byte("y")), []byte("y"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		h := http.Header{}
		addValues(h, "X-Signature-256", header)
		err := HMACSHA256("").Verify(h, body, secret, fuzzNow)
		if err != nil {
			checkErr(t, err, secrets...)
			return
		}
		lower := strings.ToLower(header)
		for _, s := range secrets {
			m := mac([]byte(s), body)
			if strings.Contains(lower, hex.EncodeToString(m)) ||
				strings.Contains(header, base64.RawStdEncoding.EncodeToString(m)) ||
				strings.Contains(header, base64.RawURLEncoding.EncodeToString(m)) {
				return
			}
		}
		t.Fatalf("accepted %q for body %q", header, body)
	})
}

func FuzzStripe(f *testing.F) {
	secrets := []string{stSecret, stOldSecret}
	secret := strings.Join(secrets, ",")
	f.Add("t="+stTS+",v1="+stV1, []byte(stBody))
	f.Add("t="+stTS+",v1="+stOldV1+",v0="+stV1, []byte(stBody))
	f.Add("v1="+stV1+", t="+stTS, []byte(stBody))
	f.Add("t="+stTS+",v0="+stV1, []byte(stBody))
	f.Add("t=1700000299,v1=00", []byte(stBody))
	f.Add("t=999999999999999999,v1="+stV1, []byte(stBody))
	f.Add(SignStripe(stSecret, []byte("z"), fuzzNow.Add(-Tolerance)), []byte("z"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		h := http.Header{}
		addValues(h, "Stripe-Signature", header)
		err := Stripe().Verify(h, body, secret, fuzzNow)
		if err != nil {
			checkErr(t, err, secrets...)
			return
		}
		var ts string
		var v1 []string
		for _, p := range fields(header) {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			switch k {
			case "t":
				if ts != "" {
					t.Fatalf("accepted two timestamps in %q", header)
				}
				ts = v
			case "v1":
				v1 = append(v1, v)
			}
		}
		if !fresh(ts) {
			t.Fatalf("accepted timestamp %q in %q", ts, header)
		}
		for _, s := range secrets {
			want := hexMAC(s, ts+"."+string(body))
			for _, v := range v1 {
				if strings.EqualFold(v, want) {
					return
				}
			}
		}
		t.Fatalf("accepted %q for body %q", header, body)
	})
}

func FuzzSlack(f *testing.F) {
	secrets := []string{slSecret, "0123456789abcdef0123456789abcdef"}
	secret := strings.Join(secrets, " ")
	sig, ts := SignSlack(slSecret, []byte(slBody), fuzzNow)
	f.Add(sig, ts, []byte(slBody))
	f.Add("v0=00,"+sig, ts, []byte(slBody))
	f.Add(slSig, slTS, []byte(slBody))
	sig, ts = SignSlack(secrets[1], []byte("b"), fuzzNow.Add(Tolerance))
	f.Add(sig, ts, []byte("b"))
	f.Add(sig, " "+ts+" ", []byte("b"))
	f.Fuzz(func(t *testing.T, sigHeader, tsHeader string, body []byte) {
		h := http.Header{}
		addValues(h, "X-Slack-Signature", sigHeader)
		addValues(h, "X-Slack-Request-Timestamp", tsHeader)
		err := Slack().Verify(h, body, secret, fuzzNow)
		if err != nil {
			checkErr(t, err, secrets...)
			return
		}
		ts := strings.TrimSpace(tsHeader)
		if !fresh(ts) {
			t.Fatalf("accepted timestamp %q", tsHeader)
		}
		for _, p := range fields(sigHeader) {
			rest, ok := strings.CutPrefix(strings.TrimSpace(p), "v0=")
			for _, s := range secrets {
				if ok && strings.EqualFold(rest, hexMAC(s, "v0:"+ts+":"+string(body))) {
					return
				}
			}
		}
		t.Fatalf("accepted %q, %q for body %q", sigHeader, tsHeader, body)
	})
}

func FuzzStandard(f *testing.F) {
	secrets := []string{sw1Secret, sw2Secret}
	secret := strings.Join(secrets, " ")
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		k, err := standardKey(s)
		if err != nil {
			f.Fatal(err)
		}
		keys[i] = k
	}
	ts := strconv.FormatInt(fuzzNow.Unix(), 10)
	sig, _ := SignStandard(sw1Secret, sw1ID, fuzzNow, []byte(sw1Body))
	f.Add(sw1ID, ts, sig, []byte(sw1Body))
	f.Add(sw1ID, ts, sw1Wrong+" v1a,xyz "+sig, []byte(sw1Body))
	f.Add(sw1ID, ts, "v1,", []byte(sw1Body))
	f.Add(sw1ID, sw1TS, sw1Sig, []byte(sw1Body))
	sig, _ = SignStandard(sw2Secret, "msg.1", fuzzNow.Add(-Tolerance), []byte("{}"))
	f.Add("msg.1", strconv.FormatInt(fuzzNow.Add(-Tolerance).Unix(), 10), sig, []byte("{}"))
	f.Fuzz(func(t *testing.T, id, tsHeader, sigHeader string, body []byte) {
		h := http.Header{}
		addValues(h, "Webhook-Id", id)
		addValues(h, "Webhook-Timestamp", tsHeader)
		addValues(h, "Webhook-Signature", sigHeader)
		err := Standard().Verify(h, body, secret, fuzzNow)
		if err != nil {
			checkErr(t, err, secrets...)
			return
		}
		ts := strings.TrimSpace(tsHeader)
		if !fresh(ts) {
			t.Fatalf("accepted timestamp %q", tsHeader)
		}
		for _, k := range keys {
			want := "v1," + base64.StdEncoding.EncodeToString(mac(k, []byte(strings.TrimSpace(id)+"."+ts+"."), body))
			for _, p := range strings.Fields(sigHeader) {
				if p == want {
					return
				}
			}
		}
		t.Fatalf("accepted %q, %q, %q for body %q", id, tsHeader, sigHeader, body)
	})
}
