// Package secret encrypts configuration secrets at rest with AES-256-GCM.
//
// The key comes from BIFROST_ENCRYPTION_KEY: 32 bytes in standard base64.
// Several keys may be given, separated by commas: the first encrypts, all of
// them decrypt, so a key is rotated by putting the new one first and running
// `config rotate-key`, which re-encrypts every secret under it. Each
// ciphertext is stored with the id of its key (the first 8 hex digits of the
// key's SHA-256), and bound to its config key's name, so a ciphertext copied
// to another name does not decrypt.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// EnvKey is the environment variable holding the encryption key(s).
const EnvKey = "BIFROST_ENCRYPTION_KEY"

// ErrNoKey is returned when a secret is to be stored or read without a key.
var ErrNoKey = errors.New("no encryption key: set " + EnvKey + " to 32 random bytes in standard base64 (openssl rand -base64 32)")

// Keyring holds the encryption keys: the first encrypts.
type Keyring struct {
	ids   []string
	aeads map[string]cipher.AEAD
}

// FromEnv reads the keyring from BIFROST_ENCRYPTION_KEY; an unset variable
// gives an empty keyring, which refuses to encrypt or decrypt.
func FromEnv() (*Keyring, error) {
	return Parse(os.Getenv(EnvKey))
}

// Parse reads comma-separated standard-base64 keys of 32 bytes.
func Parse(s string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(part)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("%s: key %d is not 32 bytes in standard base64 (openssl rand -base64 32)", EnvKey, i+1)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(raw)
		id := hex.EncodeToString(sum[:4])
		k.ids = append(k.ids, id)
		k.aeads[id] = aead
	}
	return k, nil
}

// Empty reports whether the keyring has no key.
func (k *Keyring) Empty() bool { return len(k.ids) == 0 }

// CurrentID is the id of the key that encrypts.
func (k *Keyring) CurrentID() string {
	if k.Empty() {
		return ""
	}
	return k.ids[0]
}

// Encrypt seals plaintext for the config key name and returns the ciphertext
// (nonce first, standard base64) and the id of the key used.
func (k *Keyring) Encrypt(name, plaintext string) (ciphertext, keyID string, err error) {
	if k.Empty() {
		return "", "", ErrNoKey
	}
	id := k.ids[0]
	aead := k.aeads[id]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", "", err
	}
	sealed := aead.Seal(nonce, nonce, []byte(plaintext), []byte(name))
	return base64.StdEncoding.EncodeToString(sealed), id, nil
}

// Decrypt opens a ciphertext of the config key name sealed with key keyID.
func (k *Keyring) Decrypt(name, ciphertext, keyID string) (string, error) {
	if k.Empty() {
		return "", ErrNoKey
	}
	aead, ok := k.aeads[keyID]
	if !ok {
		return "", fmt.Errorf("secret %s was encrypted with key %s, which %s does not hold", name, keyID, EnvKey)
	}
	sealed, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil || len(sealed) < aead.NonceSize() {
		return "", fmt.Errorf("secret %s: the stored ciphertext is damaged", name)
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(name))
	if err != nil {
		return "", fmt.Errorf("secret %s: it does not decrypt with key %s (a wrong key, or a damaged value)", name, keyID)
	}
	return string(plain), nil
}
