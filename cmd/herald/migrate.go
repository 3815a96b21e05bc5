package main

import (
	"fmt"
	"os"

	"github.com/heraldhq/herald/internal/server"
	"github.com/spf13/cobra"
)

func newMigrateCmd() *cobra.Command {
	var dataDir, database, logLevel string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations and print the schema version",
		Long: `Apply the pending schema migrations of herald's database and print its schema
version. herald serve applies them on start too; run migrate first to upgrade a
database separately from starting the nodes, or to check its version.

The database is chosen as herald serve chooses it: --database (or
HERALD_DATABASE_URL), a postgres:// URL or a SQLite file path, and by default the
SQLite database in --data-dir (or HERALD_DATA_DIR). Migrating needs no encryption
key. Several nodes migrating one PostgreSQL database at once take turns.`,
		Example: `  herald migrate
  herald migrate --data-dir /var/lib/herald
  herald migrate --database postgres://herald:secret@db.internal:5432/herald`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for name, env := range map[string]string{"database": "HERALD_DATABASE_URL", "data-dir": "HERALD_DATA_DIR", "log-level": "HERALD_LOG_LEVEL"} {
				if f := cmd.Flags().Lookup(name); !f.Changed {
					if v, ok := os.LookupEnv(env); ok {
						if err := f.Value.Set(v); err != nil {
							return usageError{err: fmt.Errorf("$%s: %w", env, err), cmd: cmd}
						}
					}
				}
			}
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, "text")
			if err != nil {
				return usageError{err: err, cmd: cmd}
			}
			db, from, to, err := server.Migrate(cmd.Context(), server.Config{DataDir: dataDir, Database: database}, log)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if from == to {
				fmt.Fprintf(out, "%s: schema version %d (up to date)\n", db, to)
			} else {
				fmt.Fprintf(out, "%s: schema version %d (migrated from %d)\n", db, to, from)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", "herald-data", "data directory holding the SQLite database [$HERALD_DATA_DIR]")
	f.StringVar(&database, "database", "", "a SQLite file path (default DATA-DIR/herald.db), or postgres://user:password@host:port/dbname [$HERALD_DATABASE_URL]")
	f.StringVar(&logLevel, "log-level", "warn", "log level: debug, info, warn or error [$HERALD_LOG_LEVEL]")
	return cmd
}
