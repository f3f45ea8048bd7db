// Package auth decides who is calling: API keys (bf_<id>_<secret>, global or
// scoped to workflows, stored as hashes), an environment key, and session
// tokens (JWTs). It answers "who" and "may they call this workflow"; the
// HTTP answers (401, 403) are the runtime's.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strings"
)

// KeyPrefix starts every API key, so a leaked one is easy to spot and scan for.
const KeyPrefix = "bf_"

// Key lengths: the id is 10 base32 characters (50 bits, only for lookup);
// the secret 32 (158 random bits from crypto/rand: the last character of the
// encoding carries 3).
const (
	idChars     = 10
	secretChars = 32
)

var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewKey returns a new key's id, the whole key to give the user once, and
// the hash to store.
func NewKey() (id, key, hash string, err error) {
	raw := make([]byte, 26) // 6.25 bytes of id + 20 of secret, rounded up
	if _, err := rand.Read(raw); err != nil {
		return "", "", "", err
	}
	text := encoding.EncodeToString(raw)
	id, secret := text[:idChars], text[idChars:idChars+secretChars]
	return id, KeyPrefix + id + "_" + secret, HashSecret(secret), nil
}

// HashSecret is the stored form of a key's secret. The secret has 158 random
// bits, so a fast hash is enough: there is nothing to guess.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

var errMalformed = errors.New("malformed key")

// ParseKey splits bf_<id>_<secret>.
func ParseKey(key string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(key, KeyPrefix)
	if !ok || len(rest) != idChars+1+secretChars || rest[idChars] != '_' {
		return "", "", errMalformed
	}
	id, secret = rest[:idChars], rest[idChars+1:]
	for _, s := range []string{id, secret} {
		for i := 0; i < len(s); i++ {
			if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
				return "", "", errMalformed
			}
		}
	}
	return id, secret, nil
}
