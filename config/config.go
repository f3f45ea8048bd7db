// Package config reads configuration values for workflows.
//
// Get looks in the values set on the context by WithValues (for unit tests),
// then in the environment as BIFROST_CONFIG_<KEY> (the key upper-cased, every
// character other than a letter or digit replaced by '_'), then in the store
// (`app config set KEY VALUE [--secret]`), cached for a few seconds.
//
// A secret read during an execution is masked in that execution's stored
// logs, error and result. Values from the environment count as secrets when
// their key's name says so (secret, token, password, private, credential,
// api_key).
package config

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/bifrost-go/bifrost/internal/execctx"
)

// ErrNotFound is returned by Get when a key has no value.
var ErrNotFound = errors.New("config: not found")

type valuesKey struct{}

// WithValues returns a context whose Get answers from values first: use it in
// unit tests of workflows.
func WithValues(ctx context.Context, values map[string]string) context.Context {
	return context.WithValue(ctx, valuesKey{}, values)
}

// Get returns the value of key, or an error wrapping ErrNotFound.
func Get(ctx context.Context, key string) (string, error) {
	if values, ok := ctx.Value(valuesKey{}).(map[string]string); ok {
		if v, ok := values[key]; ok {
			return v, nil
		}
	}
	exec := execctx.From(ctx)
	if v, ok := os.LookupEnv(EnvName(key)); ok {
		if exec != nil && SecretName(key) {
			exec.AddSecret(v)
		}
		return v, nil
	}
	if exec != nil && exec.Config != nil {
		v, secret, found, err := exec.Config.Lookup(ctx, key)
		if err != nil {
			return "", err
		}
		if found {
			if secret {
				exec.AddSecret(v)
			}
			return v, nil
		}
	}
	return "", &notFoundError{key: key}
}

// EnvName is the environment variable that holds key: BIFROST_CONFIG_ and the
// key upper-cased, with every character other than a letter or digit as '_'.
func EnvName(key string) string {
	var b strings.Builder
	b.WriteString("BIFROST_CONFIG_")
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// SecretName reports whether a key's name says its value is a secret.
func SecretName(key string) bool {
	k := strings.ToLower(key)
	for _, word := range []string{"secret", "token", "password", "passwd", "private", "credential", "api_key", "apikey"} {
		if strings.Contains(k, word) {
			return true
		}
	}
	return false
}

type notFoundError struct{ key string }

func (e *notFoundError) Error() string { return "config: " + e.key + " is not set" }
func (e *notFoundError) Unwrap() error { return ErrNotFound }
