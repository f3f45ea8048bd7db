package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/internal/sqlrow"
)

// CreateKey implements store.Store.
func (s *Store) CreateKey(ctx context.Context, k *store.Key) error {
	workflows, err := sqlrow.KeyWorkflows(k)
	if err != nil {
		return err
	}
	return s.write(ctx, func() error {
		_, err := s.db.ExecContext(ctx, `INSERT INTO bifrost_keys (`+sqlrow.KeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.Hash, workflows, k.Description, sqlrow.Micros(k.CreatedAt), sqlrow.Micros(k.ExpiresAt), sqlrow.Micros(k.RevokedAt), sqlrow.Micros(k.LastUsedAt))
		return err
	})
}

// GetKey implements store.Store.
func (s *Store) GetKey(ctx context.Context, id string) (*store.Key, error) {
	k, err := sqlrow.ScanKey(s.db.QueryRowContext(ctx, `SELECT `+sqlrow.KeyColumns+` FROM bifrost_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return k, err
}

// ListKeys implements store.Store.
func (s *Store) ListKeys(ctx context.Context) ([]*store.Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sqlrow.KeyColumns+` FROM bifrost_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Key
	for rows.Next() {
		k, err := sqlrow.ScanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey implements store.Store.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	var n int64
	err := s.write(ctx, func() error {
		res, err := s.db.ExecContext(ctx, `UPDATE bifrost_keys SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, sqlrow.Micros(at), id)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		if _, err := s.GetKey(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// TouchKeys implements store.Store.
func (s *Store) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	return s.write(ctx, func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, id := range slices.Sorted(maps.Keys(used)) {
			at := sqlrow.Micros(used[id])
			if _, err := tx.ExecContext(ctx, `UPDATE bifrost_keys SET last_used_at = ? WHERE id = ? AND last_used_at < ?`, at, id, at); err != nil {
				return err
			}
		}
		return tx.Commit()
	})
}

// CountKeys implements store.Store.
func (s *Store) CountKeys(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM bifrost_keys`).Scan(&n)
	return n, err
}
