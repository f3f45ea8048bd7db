package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// Errors of Authenticate. Both mean 401; they are told apart only in the
// process log, never to the caller.
var (
	ErrNoCredential = errors.New("no credential")
	ErrInvalid      = errors.New("invalid credential")
)

// HeaderKey carries an API key, as an alternative to Authorization: Bearer.
const HeaderKey = "X-Bifrost-Key"

// Credential is who is calling.
type Credential struct {
	ID        string   // the key id, "env" for BIFROST_API_KEY, or "user:<sub>" for a session
	Kind      string   // "key", "env" or "session"
	Workflows []string // the workflows a scoped key may call; empty for a global credential
	User      string   // a session's subject
}

// Global reports whether c may call every workflow that accepts global credentials.
func (c *Credential) Global() bool { return len(c.Workflows) == 0 }

// MayCall reports whether c may call workflow. A workflow with
// disable_global_key accepts only keys scoped to it.
func (c *Credential) MayCall(workflow string, disableGlobalKey bool) bool {
	if !c.Global() {
		return slices.Contains(c.Workflows, workflow)
	}
	return !disableGlobalKey
}

// KeyStore is where keys live: the execution store.
type KeyStore interface {
	GetKey(ctx context.Context, id string) (*store.Key, error)
	TouchKeys(ctx context.Context, used map[string]time.Time) error
}

// Config configures an Authenticator.
type Config struct {
	Keys   KeyStore
	EnvKey string // BIFROST_API_KEY: one more global key

	SessionSecret []byte // BIFROST_SESSION_SECRET: HS256 session tokens
	JWKSURL       string // BIFROST_SESSION_JWKS_URL: asymmetric session tokens
	Issuer        string // BIFROST_SESSION_ISSUER: required iss, when set
	Audience      string // BIFROST_SESSION_AUDIENCE: required aud, when set

	// CacheTTL bounds how long a key's state is reused without reading the
	// store: a revoked or expired key is refused within it on every replica.
	CacheTTL time.Duration // default 5s
	Log      *slog.Logger
}

// DefaultCacheTTL is the staleness of the key cache.
const DefaultCacheTTL = 5 * time.Second

// Authenticator checks credentials. It is safe for concurrent use.
type Authenticator struct {
	cfg     Config
	jwks    keyfunc.Keyfunc
	parser  *jwt.Parser
	stopJWK context.CancelFunc

	mu    sync.RWMutex
	cache map[string]*cached
	group singleflight.Group

	usedMu sync.Mutex
	used   map[string]time.Time
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once
}

// cached is a key as last read: its credential and secret hash, or unknown.
type cached struct {
	cred    *Credential
	hash    [sha256.Size]byte
	expires time.Time // the key's own expiry; zero: never
	revoked bool
	known   bool
	readAt  time.Time
}

const maxCached = 10000

// New returns an Authenticator and starts the writer of last-use times.
func New(ctx context.Context, cfg Config) (*Authenticator, error) {
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	a := &Authenticator{cfg: cfg, cache: map[string]*cached{}, used: map[string]time.Time{},
		stop: make(chan struct{}), done: make(chan struct{})}
	methods := []string{}
	if len(cfg.SessionSecret) > 0 {
		methods = append(methods, "HS256")
	}
	if cfg.JWKSURL != "" {
		jctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		jwks, err := keyfunc.NewDefaultCtx(jctx, []string{cfg.JWKSURL})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("session JWKS %s: %w", cfg.JWKSURL, err)
		}
		a.jwks, a.stopJWK = jwks, cancel
		methods = append(methods, "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithLeeway(30 * time.Second)}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	a.parser = jwt.NewParser(opts...)
	go a.writeUsed()
	return a, nil
}

// Close writes the last-use times still in memory.
func (a *Authenticator) Close() {
	a.closed.Do(func() {
		close(a.stop)
		<-a.done
		if a.stopJWK != nil {
			a.stopJWK()
		}
	})
}

// Authenticate finds the credential of a request: X-Bifrost-Key, or
// Authorization: Bearer with an API key or a session token.
func (a *Authenticator) Authenticate(ctx context.Context, h http.Header, now time.Time) (*Credential, error) {
	token := ""
	if v := h[HeaderKey]; len(v) > 0 {
		token = v[0]
	} else if v := h["Authorization"]; len(v) > 0 {
		scheme, rest, ok := strings.Cut(v[0], " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, fmt.Errorf("%w: authorization scheme is not Bearer", ErrInvalid)
		}
		token = strings.TrimSpace(rest)
	} else {
		return nil, ErrNoCredential
	}
	switch {
	case token == "":
		return nil, fmt.Errorf("%w: empty token", ErrInvalid)
	case a.cfg.EnvKey != "" && subtle.ConstantTimeCompare([]byte(token), []byte(a.cfg.EnvKey)) == 1:
		return envCredential, nil
	case strings.HasPrefix(token, KeyPrefix):
		return a.key(ctx, token, now)
	}
	return a.session(token)
}

var envCredential = &Credential{ID: "env", Kind: "env"}

// dummyHash keeps the work of refusing an unknown key id equal to the work of
// refusing a wrong secret.
var dummyHash [sha256.Size]byte

func (a *Authenticator) key(ctx context.Context, token string, now time.Time) (*Credential, error) {
	id, secret, err := ParseKey(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	c, err := a.lookup(ctx, id, now)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(secret))
	want := dummyHash
	if c.known {
		want = c.hash
	}
	match := subtle.ConstantTimeCompare(sum[:], want[:]) == 1
	switch {
	case !c.known || !match:
		return nil, fmt.Errorf("%w: unknown key or wrong secret", ErrInvalid)
	case c.revoked:
		return nil, fmt.Errorf("%w: revoked key %s", ErrInvalid, id)
	case !c.expires.IsZero() && !now.Before(c.expires):
		return nil, fmt.Errorf("%w: expired key %s", ErrInvalid, id)
	}
	a.usedMu.Lock()
	a.used[id] = now
	a.usedMu.Unlock()
	return c.cred, nil
}

// lookup returns a key's state, from the cache while it is fresh.
func (a *Authenticator) lookup(ctx context.Context, id string, now time.Time) (*cached, error) {
	a.mu.RLock()
	c := a.cache[id]
	a.mu.RUnlock()
	if c != nil && now.Sub(c.readAt) < a.cfg.CacheTTL {
		return c, nil
	}
	v, err, _ := a.group.Do(id, func() (any, error) {
		// Shared by every request asking for this id at once: not bound to
		// the first one's context, whose caller may go away.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		k, err := a.cfg.Keys.GetKey(rctx, id)
		c := &cached{readAt: now}
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("read key %s: %w", id, err)
		default:
			c.known = true
			c.revoked = !k.RevokedAt.IsZero()
			c.expires = k.ExpiresAt
			c.cred = &Credential{ID: k.ID, Kind: "key", Workflows: k.Workflows}
			if _, err := hex.Decode(c.hash[:], []byte(k.Hash)); err != nil {
				return nil, fmt.Errorf("key %s: stored hash: %w", id, err)
			}
		}
		a.mu.Lock()
		if len(a.cache) >= maxCached {
			clear(a.cache) // a flood of made-up ids must not grow memory
		}
		a.cache[id] = c
		a.mu.Unlock()
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*cached), nil
}

func (a *Authenticator) session(token string) (*Credential, error) {
	if len(a.cfg.SessionSecret) == 0 && a.jwks == nil {
		return nil, fmt.Errorf("%w: not an API key, and session tokens are not configured", ErrInvalid)
	}
	t, err := a.parser.Parse(token, func(t *jwt.Token) (any, error) {
		if t.Method.Alg() == "HS256" {
			return a.cfg.SessionSecret, nil
		}
		if a.jwks == nil {
			return nil, errors.New("no JWKS configured")
		}
		return a.jwks.Keyfunc(t)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: session token: %v", ErrInvalid, err)
	}
	sub, err := t.Claims.GetSubject()
	if err != nil || sub == "" {
		return nil, fmt.Errorf("%w: session token has no sub", ErrInvalid)
	}
	return &Credential{ID: "user:" + sub, Kind: "session", User: sub}, nil
}

// writeUsed records last-use times every 10 seconds, not on every request.
func (a *Authenticator) writeUsed() {
	defer close(a.done)
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			a.flushUsed()
		case <-a.stop:
			a.flushUsed()
			return
		}
	}
}

func (a *Authenticator) flushUsed() {
	a.usedMu.Lock()
	used := a.used
	a.used = map[string]time.Time{}
	a.usedMu.Unlock()
	if len(used) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.cfg.Keys.TouchKeys(ctx, used); err != nil {
		a.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "key last-use times not recorded", slog.String("error", err.Error()))
	}
}
