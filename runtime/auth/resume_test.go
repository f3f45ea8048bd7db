package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// TestResume: a dashboard session resumes the credential of the key it
// signed in with while that key is live and its secret the same; a
// revoked, expired, unknown or changed key, a wrong fingerprint, or a
// changed environment key end it.
func TestResume(t *testing.T) {
	keys := newMemKeys()
	now := time.Now()
	id, key := keys.add(t, store.Key{Workflows: []string{"a"}})
	expiring, expiringKey := keys.add(t, store.Key{ExpiresAt: now.Add(time.Minute)})
	a := newAuth(t, Config{Keys: keys, EnvKey: "env-key-1", CacheTTL: time.Nanosecond})
	ctx := context.Background()

	fpOf := func(token string) (*Credential, string) {
		t.Helper()
		cred, err := a.Authenticate(ctx, bearer(token), now)
		if err != nil {
			t.Fatal(err)
		}
		fp, err := a.Fingerprint(ctx, cred, now)
		if err != nil || len(fp) != 24 || strings.Contains(token, fp) {
			t.Fatalf("Fingerprint = %q, %v", fp, err)
		}
		return cred, fp
	}
	_, fp := fpOf(key)
	cred, err := a.Resume(ctx, id, fp, now)
	if err != nil || cred.ID != id || cred.Global() || !cred.MayCall("a", false) {
		t.Fatalf("Resume = %+v, %v", cred, err)
	}
	envCred, envFP := fpOf("env-key-1")
	if c, err := a.Resume(ctx, "env", envFP, now); err != nil || c != envCred {
		t.Fatalf("Resume(env) = %+v, %v", c, err)
	}
	_, expFP := fpOf(expiringKey)

	other := newAuth(t, Config{Keys: keys, EnvKey: "env-key-2"})
	for _, tc := range []struct {
		name   string
		a      *Authenticator
		id, fp string
		at     time.Time
	}{
		{"wrong fingerprint", a, id, envFP, now},
		{"empty fingerprint", a, id, "", now},
		{"unknown key", a, "aaaaaaaaaa", fp, now},
		{"expired key", a, expiring, expFP, now.Add(2 * time.Minute)},
		{"changed environment key", other, "env", envFP, now},
	} {
		if _, err := tc.a.Resume(ctx, tc.id, tc.fp, tc.at); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Resume error %v, want ErrInvalid", tc.name, err)
		}
	}
	keys.revoke(id, now)
	if _, err := a.Resume(ctx, id, fp, now.Add(time.Second)); !errors.Is(err, ErrInvalid) {
		t.Errorf("revoked key: Resume error %v, want ErrInvalid", err)
	}
}
