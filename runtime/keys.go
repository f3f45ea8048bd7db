package runtime

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
)

// createKey stores a new API key and returns it: the only time its secret
// exists outside the caller's hands.
func createKey(ctx context.Context, st store.Store, workflows []string, expires time.Duration, description string) (*store.Key, string, error) {
	id, key, hash, err := auth.NewKey()
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

// firstKey creates a global key when the store has none and no
// BIFROST_API_KEY stands in for one, and prints it once on out: a new
// deployment is usable, and never open.
func firstKey(ctx context.Context, st store.Store, out io.Writer, envKey string) error {
	if envKey != "" {
		return nil
	}
	n, err := st.CountKeys(ctx)
	if err != nil || n > 0 {
		return err
	}
	k, key, err := createKey(ctx, st, nil, 0, "created on first start")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Created a global API key %s (shown once; keep it, revoke it with `keys revoke %s`):\n\n    %s\n\n", k.ID, k.ID, key)
	return nil
}

// parseExpiry reads --expires: a Go duration or a number of days (90d).
func parseExpiry(s string) (time.Duration, error) {
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

func newKeysCommand(workflows []*Workflow) *cobra.Command {
	var db string
	cmd := &cobra.Command{Use: "keys", Short: "Create, list and revoke API keys"}
	cmd.PersistentFlags().StringVar(&db, "db", store.DefaultDB, "the store: a SQLite file path, sqlite:PATH or postgres://...")
	withStore := func(cmd *cobra.Command, do func(ctx context.Context, st store.Store) error) error {
		st, err := storeopen.Open(cmd.Context(), db)
		if err != nil {
			return err
		}
		defer st.Close()
		return do(cmd.Context(), st)
	}

	var scope []string
	var expires, description string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a key and print it (once) on stdout",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ttl time.Duration
			if expires != "" {
				d, err := parseExpiry(expires)
				if err != nil {
					return usageError{err}
				}
				ttl = d
			}
			known := map[string]bool{}
			for _, wf := range workflows {
				known[wf.Name] = true
			}
			for _, name := range scope {
				if !known[name] {
					return usageError{fmt.Errorf("--workflow %q: this binary has no such workflow", name)}
				}
			}
			return withStore(cmd, func(ctx context.Context, st store.Store) error {
				k, key, err := createKey(ctx, st, scope, ttl, description)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), key)
				fmt.Fprintf(cmd.ErrOrStderr(), "created key %s (%s); it is shown once\n", k.ID, keyScope(k))
				return nil
			})
		},
	}
	create.Flags().StringArrayVar(&scope, "workflow", nil, "a workflow the key may call (repeat for several); none: a global key")
	create.Flags().StringVar(&expires, "expires", "", "expire after this long: 90d, 12h; empty: never")
	create.Flags().StringVar(&description, "description", "", "what the key is for")

	list := &cobra.Command{
		Use:   "list",
		Short: "List keys (never their secrets)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, func(ctx context.Context, st store.Store) error {
				keys, err := st.ListKeys(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSCOPE\tSTATUS\tCREATED\tEXPIRES\tLAST USED\tDESCRIPTION")
				now := time.Now()
				for _, k := range keys {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, keyScope(k), keyStatus(k, now),
						day(k.CreatedAt), day(k.ExpiresAt), day(k.LastUsedAt), k.Description)
				}
				return tw.Flush()
			})
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke KEY_ID",
		Short: "Revoke a key: every replica refuses it within seconds",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if kid, _, err := auth.ParseKey(id); err == nil {
				id = kid // the whole key was pasted: take its id
			}
			return withStore(cmd, func(ctx context.Context, st store.Store) error {
				if err := st.RevokeKey(ctx, id, time.Now().UTC()); err != nil {
					return fmt.Errorf("revoke %s: %w", id, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", id)
				return nil
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
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
