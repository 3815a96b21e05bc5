// Package postgres is herald's PostgreSQL store, for running several herald nodes
// against one database. Nodes claim deliveries with FOR UPDATE SKIP LOCKED under
// leases, wake each other with LISTEN/NOTIFY, take turns at periodic work with
// advisory locks, and enforce per-endpoint limits in the database so that they hold
// across nodes. Concurrent publishes of one node share transactions (group commit).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"strings"
	"sync"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options configure a Store.
type Options struct {
	// Cipher encrypts endpoint secrets at rest. Required, and the same on every node.
	Cipher store.Cipher
	// Logger receives warnings; nil means slog.Default().
	Logger *slog.Logger
	// MaxConns bounds the connection pool (default 16, or pool_max_conns in the URL).
	// A node also holds one more connection for LISTEN.
	MaxConns int32
	// MaxBatch bounds how many publishes share one transaction (default 256; 1 gives
	// every publish its own transaction).
	MaxBatch int
	// Writers is how many publish transactions a node runs at once (default 1: one
	// writer makes larger batches, which measured faster than two).
	Writers int
	// Rejections bounds the rejected requests kept (zero fields: the defaults).
	Rejections store.RejectionLimits
}

// Store is a store.Shared backed by PostgreSQL. Its relational core (CRUD, lists) is
// sqlstore's; publishing, claiming, completing and waking other nodes are its own.
type Store struct {
	*sqlstore.Core
	opts    Options
	log     *slog.Logger
	pool    *pgxpool.Pool
	connCfg *pgx.ConnConfig // for the LISTEN connection
	schema  string
	channel string // the NOTIFY channel of this schema

	ops     chan *publishOp
	quit    chan struct{}
	writers sync.WaitGroup

	closeMu  sync.RWMutex // held for reading by every write in progress; Close takes it for writing
	isClosed bool
	closed   sync.Once

	notifyReq chan struct{} // a pending NOTIFY; see requestNotify
	notifier  sync.WaitGroup

	subsMu     sync.Mutex
	subs       map[chan struct{}]struct{}
	endpoints  store.EndpointFeed // WatchEndpoints; watched and closed under subsMu
	listening  bool
	stopListen context.CancelFunc
	listener   sync.WaitGroup
}

var _ store.Shared = (*Store)(nil)

// IsURL reports whether database names a PostgreSQL database (postgres:// or postgresql://).
func IsURL(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// Open connects to the database at url (postgres://user:password@host:port/db?...),
// applies pending migrations, and checks that opts.Cipher is the key the database's
// secrets are encrypted with. The schema is the first of the connection's search_path
// (set search_path=NAME in the URL to use another than public).
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	return open(ctx, url, opts, nil)
}

// open is Open with a hook that adjusts the pool's configuration (tests count round trips).
func open(ctx context.Context, url string, opts Options, configure func(*pgxpool.Config)) (*Store, error) {
	if opts.Cipher == nil {
		return nil, errors.New("postgres: Options.Cipher is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Writers <= 0 {
		opts.Writers = 1
	}
	pool, cfg, err := connect(ctx, url, opts.MaxConns, configure)
	if err != nil {
		return nil, err
	}
	s := &Store{
		opts:      opts,
		log:       opts.Logger,
		pool:      pool,
		connCfg:   cfg.ConnConfig,
		ops:       make(chan *publishOp, 4096),
		quit:      make(chan struct{}),
		notifyReq: make(chan struct{}, 1),
		subs:      make(map[chan struct{}]struct{}),
	}
	s.Core = sqlstore.New(db{conn{pool}, s}, dialect{}, opts.Cipher, events{s}, opts.Rejections)
	if _, _, err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.checkKey(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	for i := 0; i < opts.Writers; i++ {
		s.writers.Add(1)
		go s.writeLoop()
	}
	s.notifier.Add(1)
	go s.notifyLoop()
	return s, nil
}

// connect opens a pool and finds the schema it works in.
func connect(ctx context.Context, url string, maxConns int32, configure func(*pgxpool.Config)) (*pgxpool.Pool, *pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	} else if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = 16
	}
	// Every commit that acknowledges a publish must be durable: a server configured with
	// synchronous_commit=off would make herald answer 202 for events a crash can lose.
	// (Bookkeeping transactions turn it off for themselves; see beginRelaxed.)
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		var sc string
		if err := c.QueryRow(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&sc); err != nil {
			return err
		}
		if sc == "off" {
			_, err := c.Exec(ctx, `SET synchronous_commit = on`)
			return err
		}
		return nil
	}
	if configure != nil {
		configure(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		// pgx lists every address it tried on a line of its own; keep the error one line.
		return nil, nil, fmt.Errorf("postgres: connect to %s: %s", describe(cfg.ConnConfig), oneLine(err))
	}
	return pool, cfg, nil
}

// oneLine joins the lines of a pgx connection error.
func oneLine(err error) string {
	return strings.NewReplacer(":\n\t", ": ", "\n\t", "; ", "\n", "; ").Replace(err.Error())
}

// describe names a database without its password.
func describe(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// Migrate applies pending migrations to the database at url without opening a Store
// (no encryption key needed), and returns the schema version before and after.
func Migrate(ctx context.Context, url string, log *slog.Logger) (from, to int, err error) {
	if log == nil {
		log = slog.Default()
	}
	pool, _, err := connect(ctx, url, 2, nil)
	if err != nil {
		return 0, 0, err
	}
	defer pool.Close()
	s := &Store{pool: pool, log: log}
	return s.migrate(ctx)
}

// types are PostgreSQL's column types for the placeholders of sqlstore's migrations.
var types = map[string]string{
	"time":   "timestamptz",
	"json":   "jsonb",
	"blob":   "bytea",
	"list":   "text[] NOT NULL DEFAULT '{}'",
	"bool":   "boolean NOT NULL DEFAULT false",
	"real":   "double precision",
	"bigint": "bigint",
	"keyed":  "",
	// Every delivery leaves a few dead row versions, and the queue's scans step over their
	// index entries until a vacuum removes them: vacuum after 2% rather than 20% changed.
	"queue": " WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 1000)",
}

// versionsTable records the applied migrations.
const versionsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`

// migrations returns the schema's migrations: sqlstore's shared ones and this package's.
func migrations() ([]sqlstore.Migration, error) {
	own, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	return sqlstore.Migrations(own, types)
}

// migrationKey is the advisory lock that serialises nodes migrating the same schema.
const migrationKey = "herald/migrate"

// migrate applies the embedded migrations not yet recorded in schema_migrations, each in
// its own transaction, under an advisory lock so that nodes starting together take turns.
func (s *Store) migrate(ctx context.Context) (from, to int, err error) {
	if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&s.schema); err != nil {
		return 0, 0, fmt.Errorf("postgres: the connection has no schema to work in (check search_path in the URL): %w", err)
	}
	s.channel = "herald_work_" + s.schema
	migrations, err := migrations()
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: %w", err)
	}
	from = -1
	for _, m := range migrations {
		version, base := m.Version, m.Name
		var applied, current int
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.lockKey(migrationKey)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, versionsTable); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			applied = version
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, version)
			return err
		})
		if err != nil {
			return 0, 0, fmt.Errorf("postgres: migration %s: %w", base, err)
		}
		if from < 0 {
			from = current
		}
		if applied > 0 {
			s.log.Info("applied migration", "version", applied, "name", base, "schema", s.schema)
		}
	}
	to, err = s.SchemaVersion(ctx)
	return max(from, 0), to, err
}

// SchemaVersion returns the newest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// keyCheck is what checkKey encrypts: its plaintext is fixed, its ciphertext is not.
const keyCheck = "herald encryption key check"

// checkKey stores a value encrypted with this node's key on first use, and refuses a key
// that cannot decrypt it: every node must share one key, or secrets written by one node
// would be unreadable by the others.
func (s *Store) checkKey(ctx context.Context) error {
	sealed, err := s.opts.Cipher.Encrypt([]byte(keyCheck))
	if err != nil {
		return fmt.Errorf("postgres: encryption key check: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ('key_check', $1) ON CONFLICT (name) DO NOTHING`, sealed); err != nil {
		return fmt.Errorf("postgres: encryption key check: %w", err)
	}
	var stored []byte
	if err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = 'key_check'`).Scan(&stored); err != nil {
		return fmt.Errorf("postgres: encryption key check: %w", err)
	}
	if plain, err := s.opts.Cipher.Decrypt(stored); err != nil || string(plain) != keyCheck {
		return errors.New("postgres: this encryption key is not the one the database's secrets are encrypted with: give every node the same HERALD_ENCRYPTION_KEY")
	}
	return nil
}

// Close stops the publish writers after they commit what is queued, stops listening,
// and closes the pool. Writes after Close fail with store.ErrClosed.
func (s *Store) Close() error {
	s.closed.Do(func() {
		s.closeMu.Lock()
		s.isClosed = true
		s.closeMu.Unlock()
		close(s.quit)
		s.writers.Wait()
		s.notifier.Wait()
		s.subsMu.Lock()
		if s.stopListen != nil {
			s.stopListen()
		}
		s.subsMu.Unlock()
		s.listener.Wait()
		s.pool.Close()
	})
	return nil
}

// enter marks a write in progress, or returns store.ErrClosed; call leave when done.
func (s *Store) enter() error {
	s.closeMu.RLock()
	if s.isClosed {
		s.closeMu.RUnlock()
		return store.ErrClosed
	}
	return nil
}

func (s *Store) leave() { s.closeMu.RUnlock() }

// write runs fn in a transaction, retrying it when PostgreSQL aborts it for a deadlock
// or a serialisation failure. fn must reset its results when it starts. Relaxed
// transactions commit without waiting for the WAL flush: they carry bookkeeping whose
// loss in a database crash costs only a repeated delivery (claims, leases, attempt
// outcomes), like SQLite's synchronous=NORMAL for the same writes.
func (s *Store) write(ctx context.Context, relaxed bool, fn func(tx pgx.Tx) error) error {
	return s.retrying(ctx, func() error { return s.tryTx(ctx, relaxed, fn) })
}

// retrying runs a transaction (try) as a write in progress, again when PostgreSQL aborts
// it for a deadlock or a serialisation failure.
func (s *Store) retrying(ctx context.Context, try func() error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	for attempt := 1; ; attempt++ {
		err := try()
		if err == nil || attempt == 4 || !retryable(err) || ctx.Err() != nil {
			return err
		}
		s.log.Debug("postgres: retrying a transaction", "attempt", attempt, "err", err)
	}
}

func (s *Store) tryTx(ctx context.Context, relaxed bool, fn func(tx pgx.Tx) error) error {
	var opts pgx.TxOptions
	if relaxed {
		opts.BeginQuery = "BEGIN; " + relaxSQL // one round trip (a simple query of two statements)
	}
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// retryable reports whether err is PostgreSQL giving up on a transaction that may
// succeed when run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// lockKey maps a lock name to an advisory lock key of this schema.
func (s *Store) lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(s.schema))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return int64(h.Sum64())
}
