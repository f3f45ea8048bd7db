package store

import "time"

// ConfigValue is one configuration value as stored: a secret's Value is
// ciphertext sealed with the encryption key KeyID.
type ConfigValue struct {
	Name      string
	Value     string
	Secret    bool
	KeyID     string
	UpdatedAt time.Time
}
