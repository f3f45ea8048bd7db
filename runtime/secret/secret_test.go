package secret

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func newKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestRoundTripAndBinding(t *testing.T) {
	k, err := Parse(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	ct, id, err := k.Encrypt("stripe_secret", "whsec_plaintext")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ct, "whsec_plaintext") || id != k.CurrentID() {
		t.Fatalf("ciphertext %q id %q", ct, id)
	}
	if pt, err := k.Decrypt("stripe_secret", ct, id); err != nil || pt != "whsec_plaintext" {
		t.Fatalf("decrypt: %q %v", pt, err)
	}
	if _, err := k.Decrypt("other_name", ct, id); err == nil {
		t.Fatal("a ciphertext moved to another name decrypted")
	}
	ct2, _, _ := k.Encrypt("stripe_secret", "whsec_plaintext")
	if ct2 == ct {
		t.Fatal("two encryptions of one value are equal: the nonce is not random")
	}
}

func TestRotationAndWrongKey(t *testing.T) {
	oldKey, newKeyText := newKey(t), newKey(t)
	old, _ := Parse(oldKey)
	ct, oldID, _ := old.Encrypt("k", "v")

	both, err := Parse(newKeyText + "," + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if both.CurrentID() == oldID {
		t.Fatal("the first key must encrypt")
	}
	if pt, err := both.Decrypt("k", ct, oldID); err != nil || pt != "v" {
		t.Fatalf("an old key no longer decrypts: %v", err)
	}
	wrong, _ := Parse(newKeyText)
	_, err = wrong.Decrypt("k", ct, oldID)
	if err == nil || !strings.Contains(err.Error(), oldID) || strings.Contains(err.Error(), "v\"") {
		t.Fatalf("a missing key: %v", err)
	}
}

func TestBadKeys(t *testing.T) {
	for _, s := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := Parse(s); err == nil || !strings.Contains(err.Error(), EnvKey) {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
	empty, err := Parse("")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := empty.Encrypt("k", "v"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("encrypt without a key: %v", err)
	}
}
