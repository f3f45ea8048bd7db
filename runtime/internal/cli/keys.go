package cli

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/store"
)

func keysCommand(app App, db *dbFlag) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Create, list and revoke API keys"}
	cmd.AddCommand(keysCreate(app, db), keysList(db), keysRevoke(db))
	return cmd
}

func keysCreate(app App, db *dbFlag) *cobra.Command {
	var scope []string
	var expires, description string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a key and print it (once) on stdout",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ttl, err := parseExpiry(expires)
			if err != nil {
				return usageError{err}
			}
			if err := knownWorkflows(app, scope); err != nil {
				return usageError{err}
			}
			return db.with(cmd, func(ctx context.Context, st store.Store) error {
				k, key, err := auth.CreateKey(ctx, st, scope, ttl, description)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), key)
				fmt.Fprintf(cmd.ErrOrStderr(), "created key %s (%s); it is shown once\n", k.ID, keyScope(k))
				return nil
			})
		},
	}
	cmd.Flags().StringArrayVar(&scope, "workflow", nil, "a workflow the key may call (repeat for several); none: a global key")
	cmd.Flags().StringVar(&expires, "expires", "", "expire after this long: 90d, 12h; empty: never")
	cmd.Flags().StringVar(&description, "description", "", "what the key is for")
	return cmd
}

// knownWorkflows refuses a scope naming a workflow the binary does not have.
func knownWorkflows(app App, names []string) error {
	var known []string
	for _, spec := range app.Specs() {
		known = append(known, spec.Name)
	}
	for _, name := range names {
		if !slices.Contains(known, name) {
			return fmt.Errorf("--workflow %q: this binary has no such workflow", name)
		}
	}
	return nil
}

// parseExpiry reads --expires: a Go duration or a number of days (90d);
// empty is no expiry.
func parseExpiry(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("--expires %q: expected a number of days such as 90d, or a duration such as 12h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--expires %q: expected a number of days such as 90d, or a duration such as 12h", s)
	}
	return d, nil
}

func keysList(db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List keys (never their secrets)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return db.with(cmd, func(ctx context.Context, st store.Store) error {
				keys, err := st.ListKeys(ctx)
				if err != nil {
					return err
				}
				t := newTable(cmd.OutOrStdout(), "ID", "SCOPE", "STATUS", "CREATED", "EXPIRES", "LAST USED", "DESCRIPTION")
				now := time.Now()
				for _, k := range keys {
					t.row(k.ID, keyScope(k), keyStatus(k, now), day(k.CreatedAt), day(k.ExpiresAt), day(k.LastUsedAt), k.Description)
				}
				return t.flush()
			})
		},
	}
}

func keysRevoke(db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke KEY_ID",
		Short: "Revoke a key: every replica refuses it within seconds",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if kid, _, err := auth.ParseKey(id); err == nil {
				id = kid // the whole key was pasted: take its id
			}
			return db.with(cmd, func(ctx context.Context, st store.Store) error {
				if err := st.RevokeKey(ctx, id, time.Now().UTC()); err != nil {
					return fmt.Errorf("revoke %s: %w", id, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", id)
				return nil
			})
		},
	}
}

func keyScope(k *store.Key) string {
	if k.Global() {
		return "global"
	}
	return strings.Join(k.Workflows, ",")
}

func keyStatus(k *store.Key, now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return "revoked"
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return "expired"
	}
	return "live"
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}
