package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/internal/execctx"
	"github.com/bifrost-go/bifrost/runtime/secret"
	"github.com/bifrost-go/bifrost/runtime/store"
)

// masked stands for a secret's value wherever a command prints one: the
// mask the runtime writes into execution records and logs.
const masked = execctx.Masked

// configCommand manages configuration values in the store.
func configCommand(db *dbFlag) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Set, read and delete configuration values and secrets"}
	cmd.AddCommand(configSet(db), configGet(db), configList(db), configDelete(db), configRotateKey(db))
	return cmd
}

// withKeys opens the store and reads the encryption keys of
// BIFROST_ENCRYPTION_KEY for do; create says the store may be started.
func withKeys(cmd *cobra.Command, db *dbFlag, create bool, do func(ctx context.Context, st store.Store, keys *secret.Keyring) error) error {
	keys, err := secret.FromEnv()
	if err != nil {
		return err
	}
	open := db.existing
	if create {
		open = db.open
	}
	return db.run(cmd, open, func(ctx context.Context, st store.Store) error { return do(ctx, st, keys) })
}

func configSet(db *dbFlag) *cobra.Command {
	var isSecret bool
	cmd := &cobra.Command{
		Use: "set KEY VALUE",
		Example: `  app config set api_url https://api.example.com
  BIFROST_ENCRYPTION_KEY=$(openssl rand -base64 32) app config set github_webhook_secret '...' --secret`,
		Short: "Set a value; --secret encrypts it with BIFROST_ENCRYPTION_KEY",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withKeys(cmd, db, true, func(ctx context.Context, st store.Store, keys *secret.Keyring) error {
				v := &store.ConfigValue{Name: args[0], Value: args[1], Secret: isSecret, UpdatedAt: time.Now().UTC()}
				if isSecret {
					ct, id, err := keys.Encrypt(v.Name, v.Value)
					if errors.Is(err, secret.ErrNoKey) {
						return fmt.Errorf("refusing to store secret %s in clear: %w", v.Name, err)
					}
					if err != nil {
						return err
					}
					v.Value, v.KeyID = ct, id
				}
				if err := st.SetConfig(ctx, v); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "set %s\n", v.Name)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&isSecret, "secret", false, "encrypt the value at rest and mask it in execution records")
	return cmd
}

func configGet(db *dbFlag) *cobra.Command {
	var reveal bool
	cmd := &cobra.Command{
		Use: "get KEY",
		Example: `  app config get api_url
  app config get github_webhook_secret --reveal`,
		Short: "Print a value (a secret is masked unless --reveal)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withKeys(cmd, db, false, func(ctx context.Context, st store.Store, keys *secret.Keyring) error {
				v, err := st.GetConfig(ctx, args[0])
				if err != nil {
					return fmt.Errorf("config %s: %w", args[0], err)
				}
				value := v.Value
				switch {
				case v.Secret && !reveal:
					value = masked
				case v.Secret:
					if value, err = keys.Decrypt(v.Name, v.Value, v.KeyID); err != nil {
						return err
					}
				}
				fmt.Fprintln(cmd.OutOrStdout(), value)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&reveal, "reveal", false, "print a secret in clear")
	return cmd
}

func configList(db *dbFlag) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "list",
		Example: `  app config list`,
		Short:   "List the values (secrets masked)",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return db.with(cmd, func(ctx context.Context, st store.Store) error {
				values, err := st.ListConfig(ctx)
				if err != nil {
					return err
				}
				l := listing{header: []string{"KEY", "VALUE", "SECRET", "UPDATED"}}
				for _, v := range values {
					value, kind := v.Value, "no"
					if v.Secret {
						value, kind = masked, "yes (key "+v.KeyID+")"
					}
					l.add(map[string]any{"key": v.Name, "value": value, "secret": v.Secret, "updated_at": stamp(v.UpdatedAt)},
						v.Name, value, kind, day(v.UpdatedAt))
				}
				return l.print(cmd.OutOrStdout(), format)
			})
		},
	}
	formatFlag(cmd, &format)
	return cmd
}

func configDelete(db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:     "delete KEY",
		Example: `  app config delete api_url`,
		Short:   "Delete a value",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return db.with(cmd, func(ctx context.Context, st store.Store) error {
				if err := st.DeleteConfig(ctx, args[0]); err != nil {
					return fmt.Errorf("config %s: %w", args[0], err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", args[0])
				return nil
			})
		},
	}
}

func configRotateKey(db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:     "rotate-key",
		Example: `  BIFROST_ENCRYPTION_KEY="$NEW,$OLD" app config rotate-key`,
		Short:   "Re-encrypt every secret with the first key of BIFROST_ENCRYPTION_KEY",
		Long: "Put the new key first in BIFROST_ENCRYPTION_KEY and the old one after it, comma-separated;\n" +
			"run rotate-key; then drop the old key.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withKeys(cmd, db, false, func(ctx context.Context, st store.Store, keys *secret.Keyring) error {
				n, err := reencrypt(ctx, st, keys)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "re-encrypted %d secret(s) with key %s\n", n, keys.CurrentID())
				return nil
			})
		},
	}
}

// reencrypt seals every secret not sealed with the keyring's current key
// with it, and counts them.
func reencrypt(ctx context.Context, st store.Store, keys *secret.Keyring) (int, error) {
	if keys.Empty() {
		return 0, secret.ErrNoKey
	}
	values, err := st.ListConfig(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range values {
		if !v.Secret || v.KeyID == keys.CurrentID() {
			continue
		}
		plain, err := keys.Decrypt(v.Name, v.Value, v.KeyID)
		if err != nil {
			return n, err
		}
		if v.Value, v.KeyID, err = keys.Encrypt(v.Name, plain); err != nil {
			return n, err
		}
		v.UpdatedAt = time.Now().UTC()
		if err := st.SetConfig(ctx, v); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
