package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bifrost-go/bifrost/config"
	"github.com/bifrost-go/bifrost/internal/execctx"
	"github.com/bifrost-go/bifrost/runtime/secret"
	"github.com/bifrost-go/bifrost/runtime/store"
)

// ConfigTTL bounds how stale a configuration value read from the store may
// be: a `config set` reaches every replica within it.
const ConfigTTL = 5 * time.Second

// configSource answers config.Get from the store, secrets decrypted, each
// value cached for ConfigTTL.
type configSource struct {
	store store.Store
	keys  *secret.Keyring

	mu    sync.Mutex
	cache map[string]configEntry
}

type configEntry struct {
	value         string
	secret, found bool
	readAt        time.Time
}

func newConfigSource(st store.Store) (*configSource, error) {
	keys, err := secret.FromEnv()
	if err != nil {
		return nil, err
	}
	return &configSource{store: st, keys: keys, cache: map[string]configEntry{}}, nil
}

// Lookup implements execctx.ConfigSource.
func (c *configSource) Lookup(ctx context.Context, name string) (string, bool, bool, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.cache[name]
	c.mu.Unlock()
	if ok && now.Sub(e.readAt) < ConfigTTL {
		return e.value, e.secret, e.found, nil
	}
	e = configEntry{readAt: now}
	v, err := c.store.GetConfig(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return "", false, false, err
	case v.Secret:
		plain, err := c.keys.Decrypt(v.Name, v.Value, v.KeyID)
		if err != nil {
			return "", false, false, err
		}
		e.value, e.secret, e.found = plain, true, true
	default:
		e.value, e.found = v.Value, true
	}
	c.mu.Lock()
	c.cache[name] = e
	c.mu.Unlock()
	return e.value, e.secret, e.found, nil
}

// value reads a configuration value the way config.Get does, for the
// runtime's own use (a webhook's secret): the environment, then the store.
func (c *configSource) value(ctx context.Context, name string) (string, bool, error) {
	if v, ok := os.LookupEnv(config.EnvName(name)); ok {
		return v, true, nil
	}
	if c == nil {
		return "", false, nil
	}
	v, _, found, err := c.Lookup(ctx, name)
	return v, found, err
}

// masked is what a secret becomes in a stored record.
const masked = execctx.Masked

// mask replaces the secrets an execution read in its stored logs, error and
// result.
func mask(e *store.Execution, secrets []string) {
	for _, s := range secrets {
		if len(s) < 4 { // too short to mask without mangling everything else
			continue
		}
		e.Error = strings.ReplaceAll(e.Error, s, masked)
		if len(e.Result) > 0 {
			e.Result = json.RawMessage(maskJSON(string(e.Result), s))
		}
		for i := range e.Logs {
			l := &e.Logs[i]
			l.Message = strings.ReplaceAll(l.Message, s, masked)
			for k, v := range l.Attrs {
				if str, ok := v.(string); ok {
					l.Attrs[k] = strings.ReplaceAll(str, s, masked)
				}
			}
		}
	}
}

// maskJSON replaces a secret in JSON text, as written and as JSON escapes it.
func maskJSON(text, s string) string {
	text = strings.ReplaceAll(text, s, masked)
	if quoted, err := json.Marshal(s); err == nil {
		escaped := string(quoted[1 : len(quoted)-1])
		if escaped != s {
			text = strings.ReplaceAll(text, escaped, masked)
		}
	}
	return text
}
