package auth

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// memKeys is a KeyStore in memory that counts its reads.
type memKeys struct {
	mu      sync.Mutex
	keys    map[string]*store.Key
	touched map[string]time.Time
	err     error // returned by GetKey when set
	gets    atomic.Int64
}

func newMemKeys() *memKeys {
	return &memKeys{keys: map[string]*store.Key{}, touched: map[string]time.Time{}}
}

func (m *memKeys) GetKey(_ context.Context, id string) (*store.Key, error) {
	m.gets.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	k, ok := m.keys[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	c := *k
	return &c, nil
}

func (m *memKeys) TouchKeys(_ context.Context, used map[string]time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, at := range used {
		if at.After(m.touched[id]) {
			m.touched[id] = at
		}
	}
	return nil
}

// add stores a new key and returns the whole key.
func (m *memKeys) add(t testing.TB, k store.Key) (id, key string) {
	t.Helper()
	id, key, hash, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	k.ID, k.Hash = id, hash
	m.mu.Lock()
	m.keys[id] = &k
	m.mu.Unlock()
	return id, key
}

func (m *memKeys) revoke(id string, at time.Time) {
	m.mu.Lock()
	m.keys[id].RevokedAt = at
	m.mu.Unlock()
}

func newAuth(t testing.TB, cfg Config) *Authenticator {
	t.Helper()
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

func TestNewKeyParseKeyRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		id, key, hash, err := NewKey()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(key, KeyPrefix+id+"_") {
			t.Fatalf("key %q does not start with bf_<id>_", key)
		}
		gotID, secret, err := ParseKey(key)
		if err != nil || gotID != id {
			t.Fatalf("ParseKey(%q) = %q, %v; want id %q", key, gotID, err, id)
		}
		if KeyPrefix+gotID+"_"+secret != key {
			t.Fatalf("%q does not re-form to %q", KeyPrefix+gotID+"_"+secret, key)
		}
		if hash != HashSecret(secret) || len(hash) != 64 || strings.Contains(hash, secret) {
			t.Fatalf("hash %q is not HashSecret of the secret", hash)
		}
		if HashSecret(secret+"x") == hash {
			t.Fatal("the hash does not depend on the secret")
		}
		if seen[id] || seen[secret] {
			t.Fatalf("a repeated id or secret in 200 keys: %q", key)
		}
		seen[id], seen[secret] = true, true
	}
}

// TestKeySecretEntropy measures the secret's randomness from the outside:
// over many keys, each position of the secret takes some set of symbols; the
// sum of log2(symbols seen) bounds its bits. A position that never varies,
// or varies over few symbols (the padding bits of base32), counts little.
func TestKeySecretEntropy(t *testing.T) {
	const n = 3000
	var symbols []map[byte]bool
	for range n {
		_, key, _, err := NewKey()
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := ParseKey(key)
		if err != nil {
			t.Fatal(err)
		}
		if symbols == nil {
			symbols = make([]map[byte]bool, len(secret))
			for i := range symbols {
				symbols[i] = map[byte]bool{}
			}
		}
		if len(secret) != len(symbols) {
			t.Fatalf("secrets of different lengths: %d and %d", len(secret), len(symbols))
		}
		for i := 0; i < len(secret); i++ {
			symbols[i][secret[i]] = true
		}
	}
	bits := 0.0
	for _, s := range symbols {
		bits += math.Log2(float64(len(s)))
	}
	if bits < 128 {
		t.Fatalf("the secret carries about %.0f bits, want at least 128", bits)
	}
	t.Logf("secret: %d characters, about %.0f random bits", len(symbols), bits)
}

func TestParseKeyRejects(t *testing.T) {
	_, good, _, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	id, secret, _ := ParseKey(good)
	for name, key := range map[string]string{
		"empty":                    "",
		"prefix only":              "bf_",
		"no prefix":                id + "_" + secret,
		"upper-case prefix":        "BF_" + id + "_" + secret,
		"other prefix":             "bk_" + id + "_" + secret,
		"truncated":                good[:len(good)-1],
		"one character more":       good + "a",
		"dash for underscore":      "bf_" + id + "-" + secret,
		"no separator":             "bf_" + id + secret + "a",
		"separator moved":          "bf_" + id[:9] + "_" + id[9:] + secret,
		"upper case secret":        "bf_" + id + "_" + strings.ToUpper(secret),
		"upper case id":            "bf_" + strings.ToUpper(id) + "_" + secret,
		"digit 0 (not base32)":     "bf_" + id + "_0" + secret[1:],
		"digit 1 (not base32)":     "bf_" + id + "_" + secret[:31] + "1",
		"digit 8 in id":            "bf_8" + id[1:] + "_" + secret,
		"digit 9 in id":            "bf_" + id[:9] + "9_" + secret,
		"underscore in secret":     "bf_" + id + "_" + secret[:10] + "_" + secret[11:],
		"padding":                  "bf_" + id + "_" + secret[:31] + "=",
		"space inside":             "bf_" + id + "_" + secret[:31] + " ",
		"leading space":            " " + good[:len(good)-1],
		"non-ASCII":                "bf_" + id + "_" + secret[:30] + "é",
		"NUL":                      "bf_" + id + "_" + secret[:31] + "\x00",
		"two keys":                 good + good,
		"short id, longer secret":  "bf_" + id[:9] + "_" + secret + "a",
		"long id, shorter secret":  "bf_" + id + "a_" + secret[:31],
		"a JWT":                    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
		"base32 but no structure":  strings.Repeat("a", len(good)),
		"prefix and only the body": "bf_" + strings.Repeat("a", len(good)-3),
	} {
		if gotID, gotSecret, err := ParseKey(key); err == nil {
			t.Errorf("%s: ParseKey(%q) = %q, %q, nil; want an error", name, key, gotID, gotSecret)
		}
	}
}

func FuzzParseKey(f *testing.F) {
	for range 3 {
		_, key, _, err := NewKey()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(key)
		f.Add(key[:len(key)-1])
		f.Add(strings.ToUpper(key))
	}
	f.Add("")
	f.Add("bf_")
	f.Add("bf_aaaaaaaaaa_" + strings.Repeat("2", 32))
	f.Add("bf_aaaaaaaaaa-" + strings.Repeat("2", 32))
	f.Fuzz(func(t *testing.T, key string) {
		id, secret, err := ParseKey(key)
		if err != nil {
			if id != "" || secret != "" {
				t.Fatalf("ParseKey(%q) failed but returned %q, %q", key, id, secret)
			}
			return
		}
		if KeyPrefix+id+"_"+secret != key {
			t.Fatalf("ParseKey(%q) = %q, %q: does not re-form to the input", key, id, secret)
		}
		if len(id) != idChars || len(secret) != secretChars {
			t.Fatalf("ParseKey(%q): id %q, secret %q of the wrong length", key, id, secret)
		}
		for _, c := range id + secret {
			if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyz234567", c) {
				t.Fatalf("ParseKey(%q) accepted %q", key, c)
			}
		}
	})
}

func TestMayCall(t *testing.T) {
	global := &Credential{ID: "g", Kind: "key"}
	scoped := &Credential{ID: "s", Kind: "key", Workflows: []string{"a", "b"}}
	for _, tc := range []struct {
		c        *Credential
		workflow string
		disable  bool
		want     bool
	}{
		{global, "a", false, true},
		{global, "a", true, false},
		{envCredential, "x", false, true},
		{envCredential, "x", true, false},
		{&Credential{ID: "user:ada", Kind: "session", User: "ada"}, "x", true, false},
		{scoped, "a", false, true},
		{scoped, "b", true, true},
		{scoped, "c", false, false},
		{scoped, "c", true, false},
	} {
		if got := tc.c.MayCall(tc.workflow, tc.disable); got != tc.want {
			t.Errorf("%s (%v) MayCall(%q, disable_global_key=%v) = %v, want %v", tc.c.ID, tc.c.Workflows, tc.workflow, tc.disable, got, tc.want)
		}
	}
}

func TestAuthenticateKeys(t *testing.T) {
	keys := newMemKeys()
	now := time.Now()
	a := newAuth(t, Config{Keys: keys, EnvKey: "the-env-key"})
	gid, global := keys.add(t, store.Key{CreatedAt: now})
	_, scoped := keys.add(t, store.Key{CreatedAt: now, Workflows: []string{"w"}})
	_, expired := keys.add(t, store.Key{CreatedAt: now, ExpiresAt: now.Add(-time.Second)})
	_, later := keys.add(t, store.Key{CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	rid, revoked := keys.add(t, store.Key{CreatedAt: now})
	keys.revoke(rid, now.Add(-time.Minute))
	_, unknown, _, _ := NewKey()

	for _, tc := range []struct {
		name string
		h    http.Header
		id   string // the credential's id; "" for an error
		err  error
	}{
		{"none", http.Header{}, "", ErrNoCredential},
		{"bearer", bearer(global), gid, nil},
		{"x-bifrost-key", http.Header{HeaderKey: {global}}, gid, nil},
		{"lower-case scheme", http.Header{"Authorization": {"bearer " + global}}, gid, nil},
		{"upper-case scheme", http.Header{"Authorization": {"BEARER " + global}}, gid, nil},
		{"x-bifrost-key first", http.Header{HeaderKey: {unknown}, "Authorization": {"Bearer " + global}}, "", ErrInvalid},
		{"basic", http.Header{"Authorization": {"Basic " + global}}, "", ErrInvalid},
		{"no scheme", http.Header{"Authorization": {global}}, "", ErrInvalid},
		{"empty bearer", http.Header{"Authorization": {"Bearer "}}, "", ErrInvalid},
		{"empty header", http.Header{HeaderKey: {""}}, "", ErrInvalid},
		{"unknown", bearer(unknown), "", ErrInvalid},
		{"expired", bearer(expired), "", ErrInvalid},
		{"not yet expired", bearer(later), strings.Split(later, "_")[1], nil},
		{"revoked", bearer(revoked), "", ErrInvalid},
		{"scoped", bearer(scoped), strings.Split(scoped, "_")[1], nil},
		{"env", bearer("the-env-key"), "env", nil},
		{"env prefix", bearer("the-env-ke"), "", ErrInvalid},
		{"no session config", bearer("eyJhbGciOiJIUzI1NiJ9.e30.x"), "", ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := a.Authenticate(context.Background(), tc.h, now)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || c != nil {
					t.Fatalf("got %+v, %v; want %v", c, err, tc.err)
				}
				for _, v := range append(tc.h.Values("Authorization"), tc.h.Values(HeaderKey)...) {
					if _, secret, perr := ParseKey(strings.TrimPrefix(strings.TrimPrefix(v, "Bearer "), "Basic ")); perr == nil && strings.Contains(err.Error(), secret) {
						t.Errorf("the error %q holds the secret", err)
					}
				}
				return
			}
			if err != nil || c == nil || c.ID != tc.id {
				t.Fatalf("got %+v, %v; want credential %q", c, err, tc.id)
			}
		})
	}
}

// TestKeyCache: a key is read once per TTL; a revocation in the store is seen
// exactly when the cached state is TTL old.
func TestKeyCache(t *testing.T) {
	keys := newMemKeys()
	const ttl = time.Second
	a := newAuth(t, Config{Keys: keys, CacheTTL: ttl})
	t0 := time.Now()
	id, key := keys.add(t, store.Key{CreatedAt: t0})
	for i := range 100 {
		if _, err := a.Authenticate(context.Background(), bearer(key), t0.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if n := keys.gets.Load(); n != 1 {
		t.Fatalf("100 calls within the TTL read the store %d times, want 1", n)
	}
	keys.revoke(id, t0)
	if _, err := a.Authenticate(context.Background(), bearer(key), t0.Add(ttl-time.Nanosecond)); err != nil {
		t.Fatalf("within the TTL the cached key still works: %v", err)
	}
	if _, err := a.Authenticate(context.Background(), bearer(key), t0.Add(ttl)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a revoked key after the TTL: %v, want ErrInvalid", err)
	}
	if n := keys.gets.Load(); n != 2 {
		t.Fatalf("the store was read %d times, want 2", n)
	}

	// An unknown id is remembered as unknown for the TTL too.
	_, unknown, _, _ := NewKey()
	for range 10 {
		if _, err := a.Authenticate(context.Background(), bearer(unknown), t0.Add(ttl)); !errors.Is(err, ErrInvalid) {
			t.Fatal(err)
		}
	}
	if n := keys.gets.Load(); n != 3 {
		t.Fatalf("10 calls of an unknown id read the store %d times in all, want 3", n)
	}

	// The cache holds the id's state, not a verdict on the secret: a wrong
	// secret for a cached id is refused.
	gid, good := keys.add(t, store.Key{CreatedAt: t0})
	if _, err := a.Authenticate(context.Background(), bearer(good), t0); err != nil {
		t.Fatal(err)
	}
	_, other, _, _ := NewKey()
	_, otherSecret, _ := ParseKey(other)
	if _, err := a.Authenticate(context.Background(), bearer(KeyPrefix+gid+"_"+otherSecret), t0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a cached id with another secret: %v", err)
	}
}

func TestKeyExpiryBoundary(t *testing.T) {
	keys := newMemKeys()
	a := newAuth(t, Config{Keys: keys})
	t0 := time.Now()
	_, key := keys.add(t, store.Key{CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)})
	if _, err := a.Authenticate(context.Background(), bearer(key), t0.Add(time.Minute-time.Nanosecond)); err != nil {
		t.Fatalf("before its expiry: %v", err)
	}
	// Cached: expiry is checked against the key's own time, not the cache's.
	if _, err := a.Authenticate(context.Background(), bearer(key), t0.Add(time.Minute)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("at its expiry: %v, want ErrInvalid", err)
	}
}

func TestStoreErrorIsNotInvalid(t *testing.T) {
	keys := newMemKeys()
	keys.err = errors.New("database is locked")
	a := newAuth(t, Config{Keys: keys})
	_, key, _, _ := NewKey()
	c, err := a.Authenticate(context.Background(), bearer(key), time.Now())
	if c != nil || err == nil || errors.Is(err, ErrInvalid) || errors.Is(err, ErrNoCredential) {
		t.Fatalf("a store failure: %+v, %v; want an error that is neither ErrInvalid nor ErrNoCredential (503, not 401)", c, err)
	}
	// The failure is not cached: once the store answers, the key works.
	keys.mu.Lock()
	keys.err = nil
	keys.mu.Unlock()
	_, good := keys.add(t, store.Key{CreatedAt: time.Now()})
	if _, err := a.Authenticate(context.Background(), bearer(good), time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestLastUseWrittenOnClose(t *testing.T) {
	keys := newMemKeys()
	a, err := New(context.Background(), Config{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Truncate(time.Second)
	id, key := keys.add(t, store.Key{CreatedAt: t0})
	_, bad, _, _ := NewKey()
	for i := range 3 {
		if _, err := a.Authenticate(context.Background(), bearer(key), t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = a.Authenticate(context.Background(), bearer(bad), t0.Add(time.Hour))
	a.Close()
	a.Close() // twice is harmless
	keys.mu.Lock()
	defer keys.mu.Unlock()
	if got := keys.touched[id]; !got.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("last use %v, want %v", got, t0.Add(2*time.Second))
	}
	if len(keys.touched) != 1 {
		t.Errorf("touched %v: a refused key must not be recorded as used", keys.touched)
	}
}

// BenchmarkKeyCheck is the cost of checking an API key on a cache hit: parse,
// cache read, SHA-256 of the secret, constant-time compare, last-use mark.
// Target: under 1 µs/op.
func BenchmarkKeyCheck(b *testing.B) {
	keys := newMemKeys()
	a := newAuth(b, Config{Keys: keys, EnvKey: "bench-env-key-0123456789"})
	_, key := keys.add(b, store.Key{CreatedAt: time.Now(), Workflows: []string{"w"}})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		h    http.Header
	}{
		{"header=authorization", bearer(key)},
		{"header=x-bifrost-key", http.Header{HeaderKey: {key}}},
		{"header=env", bearer("bench-env-key-0123456789")},
	} {
		if _, err := a.Authenticate(ctx, tc.h, time.Now()); err != nil { // warm the cache
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(ctx, tc.h, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("header=authorization/parallel", func(b *testing.B) {
		h := bearer(key)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := a.Authenticate(ctx, h, time.Now()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
