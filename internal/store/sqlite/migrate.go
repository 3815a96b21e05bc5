package sqlite

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/internal/store/sqlstore"
)

// types are SQLite's column types for the placeholders of sqlstore's migrations.
var types = map[string]string{
	"time":   "INTEGER", // unix milliseconds
	"json":   "TEXT",
	"blob":   "BLOB",
	"list":   "TEXT NOT NULL DEFAULT '[]'", // a JSON array
	"bool":   "INTEGER NOT NULL DEFAULT 0",
	"real":   "REAL",
	"bigint": "INTEGER",
	"keyed":  " WITHOUT ROWID", // small rows keyed by id: one b-tree instead of a table plus an id index
	"queue":  " WITHOUT ROWID",
}

// versionsTable records the applied migrations.
const versionsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`

// migrationFS holds what SQLite adds to sqlstore's migrations (its triggers).
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations returns the schema's migrations: sqlstore's shared ones and this package's.
func migrations() ([]sqlstore.Migration, error) {
	own, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	return sqlstore.Migrations(own, types)
}

// migrate applies the embedded migrations that are not yet recorded in schema_migrations.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.writeC.ExecContext(ctx, versionsTable); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	migrations, err := migrations()
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	for _, m := range migrations {
		version, base := m.Version, m.Name
		var n int
		if err := s.writeC.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: migration %d: %w", version, err)
		}
		if n > 0 {
			continue
		}
		if err := s.inTx(ctx, func() error {
			if _, err := s.writeC.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := s.writeC.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, ms(time.Now()))
			return err
		}); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", base, err)
		}
		s.log.Info("applied migration", "version", version, "name", base)
	}
	return nil
}

// Migrate applies pending migrations to the database at path (creating it if needed)
// without opening a Store (no encryption key needed), and returns the schema version
// before and after.
func Migrate(ctx context.Context, path string, log *slog.Logger) (from, to int, err error) {
	if log == nil {
		log = slog.Default()
	}
	if err := createPrivate(path); err != nil {
		return 0, 0, err
	}
	db, err := openDB(Drivers()[0], path, []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)"})
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	s := &Store{log: log}
	if s.writeC, err = db.Conn(ctx); err != nil {
		return 0, 0, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer s.writeC.Close()
	version := func() (int, error) {
		var v int
		err := s.writeC.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
		return v, err
	}
	var n int
	if err := s.writeC.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'schema_migrations'`).Scan(&n); err != nil {
		return 0, 0, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	if n > 0 {
		if from, err = version(); err != nil {
			return 0, 0, fmt.Errorf("sqlite: %s: %w", path, err)
		}
	}
	if err := s.migrate(ctx); err != nil {
		return 0, 0, err
	}
	if to, err = version(); err != nil {
		return from, to, err
	}
	return from, to, restrictCompanions(path)
}

// SchemaVersion returns the newest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}
