package runtime

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/runtime/secret"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
)

// newConfigCommand manages configuration values in the store.
func newConfigCommand() *cobra.Command {
	var db string
	cmd := &cobra.Command{Use: "config", Short: "Set, read and delete configuration values and secrets"}
	cmd.PersistentFlags().StringVar(&db, "db", store.DefaultDB, "the store: a SQLite file path, sqlite:PATH or postgres://...")
	withStore := func(cmd *cobra.Command, do func(ctx context.Context, st store.Store, keys *secret.Keyring) error) error {
		keys, err := secret.FromEnv()
		if err != nil {
			return err
		}
		st, err := storeopen.Open(cmd.Context(), db)
		if err != nil {
			return err
		}
		defer st.Close()
		return do(cmd.Context(), st, keys)
	}

	var isSecret bool
	set := &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Set a value; --secret encrypts it with BIFROST_ENCRYPTION_KEY",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, func(ctx context.Context, st store.Store, keys *secret.Keyring) error {
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
	set.Flags().BoolVar(&isSecret, "secret", false, "encrypt the value at rest and mask it in execution records")

	var reveal bool
	get := &cobra.Command{
		Use:   "get KEY",
		Short: "Print a value (a secret is masked unless --reveal)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, func(ctx context.Context, st store.Store, keys *secret.Keyring) error {
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
	get.Flags().BoolVar(&reveal, "reveal", false, "print a secret in clear")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the values (secrets masked)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, func(ctx context.Context, st store.Store, _ *secret.Keyring) error {
				values, err := st.ListConfig(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "KEY\tVALUE\tSECRET\tUPDATED")
				for _, v := range values {
					value, kind := v.Value, "no"
					if v.Secret {
						value, kind = masked, "yes (key "+v.KeyID+")"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Name, value, kind, day(v.UpdatedAt))
				}
				return tw.Flush()
			})
		},
	}
	del := &cobra.Command{
		Use:   "delete KEY",
		Short: "Delete a value",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, func(ctx context.Context, st store.Store, _ *secret.Keyring) error {
				if err := st.DeleteConfig(ctx, args[0]); err != nil {
					return fmt.Errorf("config %s: %w", args[0], err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", args[0])
				return nil
			})
		},
	}
	rotate := &cobra.Command{
		Use:   "rotate-key",
		Short: "Re-encrypt every secret with the first key of BIFROST_ENCRYPTION_KEY",
		Long: "Put the new key first in BIFROST_ENCRYPTION_KEY and the old one after it, comma-separated;\n" +
			"run rotate-key; then drop the old key.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, func(ctx context.Context, st store.Store, keys *secret.Keyring) error {
				if keys.Empty() {
					return secret.ErrNoKey
				}
				values, err := st.ListConfig(ctx)
				if err != nil {
					return err
				}
				n := 0
				for _, v := range values {
					if !v.Secret || v.KeyID == keys.CurrentID() {
						continue
					}
					plain, err := keys.Decrypt(v.Name, v.Value, v.KeyID)
					if err != nil {
						return err
					}
					if v.Value, v.KeyID, err = keys.Encrypt(v.Name, plain); err != nil {
						return err
					}
					v.UpdatedAt = time.Now().UTC()
					if err := st.SetConfig(ctx, v); err != nil {
						return err
					}
					n++
				}
				fmt.Fprintf(cmd.OutOrStdout(), "re-encrypted %d secret(s) with key %s\n", n, keys.CurrentID())
				return nil
			})
		},
	}
	cmd.AddCommand(set, get, list, del, rotate)
	return cmd
}
