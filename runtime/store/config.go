package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ConfigValue is one configuration value as stored: a secret's Value is
// ciphertext sealed with the encryption key KeyID.
type ConfigValue struct {
	Name      string
	Value     string
	Secret    bool
	KeyID     string
	UpdatedAt time.Time
}

func scanConfig(row scanner) (*ConfigValue, error) {
	var (
		c       ConfigValue
		secret  int
		updated int64
	)
	if err := row.Scan(&c.Name, &c.Value, &secret, &c.KeyID, &updated); err != nil {
		return nil, err
	}
	c.Secret, c.UpdatedAt = secret != 0, fromMicros(updated)
	return &c, nil
}

// SetConfig implements Store.
func (s *SQL) SetConfig(ctx context.Context, c *ConfigValue) error {
	secret := 0
	if c.Secret {
		secret = 1
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO bifrost_config (name, value, secret, key_id, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, secret = excluded.secret, key_id = excluded.key_id, updated_at = excluded.updated_at`),
		c.Name, c.Value, secret, c.KeyID, micros(c.UpdatedAt))
	return err
}

// GetConfig implements Store.
func (s *SQL) GetConfig(ctx context.Context, name string) (*ConfigValue, error) {
	c, err := scanConfig(s.db.QueryRowContext(ctx, s.q(`SELECT name, value, secret, key_id, updated_at FROM bifrost_config WHERE name = ?`), name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return c, err
}

// ListConfig implements Store.
func (s *SQL) ListConfig(ctx context.Context) ([]*ConfigValue, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, value, secret, key_id, updated_at FROM bifrost_config ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*ConfigValue
	for rows.Next() {
		c, err := scanConfig(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteConfig implements Store.
func (s *SQL) DeleteConfig(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM bifrost_config WHERE name = ?`), name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
