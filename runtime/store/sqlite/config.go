package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/internal/sqlrow"
)

// SetConfig implements store.Store.
func (s *Store) SetConfig(ctx context.Context, c *store.ConfigValue) error {
	return s.write(ctx, func() error {
		_, err := s.db.ExecContext(ctx, `INSERT INTO bifrost_config (`+sqlrow.ConfigColumns+`) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, secret = excluded.secret, key_id = excluded.key_id, updated_at = excluded.updated_at`,
			c.Name, c.Value, sqlrow.Bool(c.Secret), c.KeyID, sqlrow.Micros(c.UpdatedAt))
		return err
	})
}

// GetConfig implements store.Store.
func (s *Store) GetConfig(ctx context.Context, name string) (*store.ConfigValue, error) {
	c, err := sqlrow.ScanConfig(s.db.QueryRowContext(ctx, `SELECT `+sqlrow.ConfigColumns+` FROM bifrost_config WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return c, err
}

// ListConfig implements store.Store.
func (s *Store) ListConfig(ctx context.Context) ([]*store.ConfigValue, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sqlrow.ConfigColumns+` FROM bifrost_config ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.ConfigValue
	for rows.Next() {
		c, err := sqlrow.ScanConfig(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteConfig implements store.Store.
func (s *Store) DeleteConfig(ctx context.Context, name string) error {
	return s.write(ctx, func() error {
		res, err := s.db.ExecContext(ctx, `DELETE FROM bifrost_config WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}
