package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// KeyCreator is the part of the store CreateKey writes to.
type KeyCreator interface {
	CreateKey(ctx context.Context, k *store.Key) error
}

// CreateKey stores a new API key, global when workflows is empty, and
// returns it with the whole key: the only time its secret exists outside
// the caller's hands. A zero expires never expires.
func CreateKey(ctx context.Context, st KeyCreator, workflows []string, expires time.Duration, description string) (*store.Key, string, error) {
	id, key, hash, err := NewKey()
	if err != nil {
		return nil, "", err
	}
	k := &store.Key{ID: id, Hash: hash, Workflows: workflows, Description: description, CreatedAt: time.Now().UTC()}
	if expires > 0 {
		k.ExpiresAt = k.CreatedAt.Add(expires)
	}
	if err := st.CreateKey(ctx, k); err != nil {
		return nil, "", fmt.Errorf("create key: %w", err)
	}
	return k, key, nil
}
