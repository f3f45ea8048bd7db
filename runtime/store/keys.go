package store

import "time"

// Key is an API key as stored: never its secret, only the secret's hash.
type Key struct {
	ID          string
	Hash        string   // hex SHA-256 of the secret
	Workflows   []string // the workflows a scoped key may call; empty for a global key
	Description string
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: never
	RevokedAt   time.Time // zero: live
	LastUsedAt  time.Time // zero: never used
}

// Global reports whether the key may call every workflow that accepts global keys.
func (k *Key) Global() bool { return len(k.Workflows) == 0 }
