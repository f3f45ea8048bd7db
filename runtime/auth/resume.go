package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"time"
)

// A dashboard session keeps, in a signed cookie, the id of the API key it
// signed in with and a fingerprint of that key's secret, never the key.
// Every request resumes the credential from them: a key revoked, expired or
// (for the environment key) changed since ends the session.

// Fingerprint is a short digest of the secret behind cred, an API key's or
// the environment key's: it tells a later Resume whether that secret is
// still the one signed in with. "" for other credentials (sessions).
func (a *Authenticator) Fingerprint(ctx context.Context, cred *Credential, now time.Time) (string, error) {
	switch cred.Kind {
	case "env":
		return fingerprint([]byte(a.cfg.EnvKey)), nil
	case "key":
		c, err := a.lookup(ctx, cred.ID, now)
		if err != nil {
			return "", err
		}
		return fingerprint(c.hash[:]), nil
	}
	return "", nil
}

func fingerprint(secret []byte) string {
	sum := sha256.Sum256(append([]byte("bifrost dashboard session\x00"), secret...))
	return hex.EncodeToString(sum[:12])
}

// Resume returns the credential of an API key by id ("env" for the
// environment key) when it is still live and its secret still has
// fingerprint fp; ErrInvalid otherwise.
func (a *Authenticator) Resume(ctx context.Context, id, fp string, now time.Time) (*Credential, error) {
	var cred *Credential
	var want string
	switch {
	case id == "env" && a.cfg.EnvKey != "":
		cred, want = envCredential, fingerprint([]byte(a.cfg.EnvKey))
	case id != "env":
		c, err := a.lookup(ctx, id, now)
		if err != nil {
			return nil, err
		}
		switch {
		case !c.known:
			return nil, fmt.Errorf("%w: unknown key %s", ErrInvalid, id)
		case c.revoked:
			return nil, fmt.Errorf("%w: revoked key %s", ErrInvalid, id)
		case !c.expires.IsZero() && !now.Before(c.expires):
			return nil, fmt.Errorf("%w: expired key %s", ErrInvalid, id)
		}
		cred, want = c.cred, fingerprint(c.hash[:])
	default:
		return nil, fmt.Errorf("%w: no environment key", ErrInvalid)
	}
	if subtle.ConstantTimeCompare([]byte(fp), []byte(want)) != 1 {
		return nil, fmt.Errorf("%w: the key's secret changed since sign-in", ErrInvalid)
	}
	return cred, nil
}
