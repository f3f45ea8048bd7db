package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"
)

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

const keyColumns = `id, hash, workflows, description, created_at, expires_at, revoked_at, last_used_at`

func scanKey(row scanner) (*Key, error) {
	var (
		k                               Key
		workflows                       sql.NullString
		created, expires, revoked, used int64
	)
	if err := row.Scan(&k.ID, &k.Hash, &workflows, &k.Description, &created, &expires, &revoked, &used); err != nil {
		return nil, err
	}
	if workflows.Valid {
		if err := json.Unmarshal([]byte(workflows.String), &k.Workflows); err != nil {
			return nil, err
		}
	}
	k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt = fromMicros(created), fromMicros(expires), fromMicros(revoked), fromMicros(used)
	return &k, nil
}

// CreateKey implements Store.
func (s *SQL) CreateKey(ctx context.Context, k *Key) error {
	var workflows sql.NullString
	if len(k.Workflows) > 0 {
		b, err := json.Marshal(k.Workflows)
		if err != nil {
			return err
		}
		workflows = sql.NullString{String: string(b), Valid: true}
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO bifrost_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		k.ID, k.Hash, workflows, k.Description, micros(k.CreatedAt), micros(k.ExpiresAt), micros(k.RevokedAt), micros(k.LastUsedAt))
	return err
}

// GetKey implements Store.
func (s *SQL) GetKey(ctx context.Context, id string) (*Key, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, s.q(`SELECT `+keyColumns+` FROM bifrost_keys WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return k, err
}

// ListKeys implements Store.
func (s *SQL) ListKeys(ctx context.Context) ([]*Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM bifrost_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey implements Store.
func (s *SQL) RevokeKey(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE bifrost_keys SET revoked_at = ? WHERE id = ? AND revoked_at = 0`), micros(at), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.GetKey(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// TouchKeys implements Store.
func (s *SQL) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// In id order: replicas touching the same keys at once lock their rows
	// in one order, so PostgreSQL sees no deadlock.
	for _, id := range slices.Sorted(maps.Keys(used)) {
		at := used[id]
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE bifrost_keys SET last_used_at = ? WHERE id = ? AND last_used_at < ?`),
			micros(at), id, micros(at)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// CountKeys implements Store.
func (s *SQL) CountKeys(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM bifrost_keys`).Scan(&n)
	return n, err
}
