// Package sqlite is herald's embedded store: one SQLite database file in WAL mode,
// written by a single goroutine that commits concurrent writes together (group commit).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/store"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options configure a Store.
type Options struct {
	// Cipher encrypts endpoint secrets at rest. Required.
	Cipher store.Cipher
	// Logger receives warnings; nil means slog.Default().
	Logger *slog.Logger
	// Synchronous is SQLite's synchronous pragma: "FULL" (default) makes every commit
	// survive power loss; "NORMAL" survives a process crash but may lose the last
	// commits on power loss, for more throughput on slow disks.
	Synchronous string
	// MaxBatch bounds how many queued writes one transaction commits (default 512).
	MaxBatch int
}

// Store is a store.Store backed by one SQLite file.
type Store struct {
	opts   Options
	log    *slog.Logger
	read   *sql.DB // a pool of read-only connections
	writeC *sql.Conn
	write  *sql.DB

	ops      chan *writeOp
	quit     chan struct{}
	done     chan struct{}
	closed   sync.Once
	closeMu  sync.RWMutex
	isClosed bool

	stmts     map[string]*sql.Stmt   // prepared on writeC; used only by the writer goroutine
	seq       int64                  // the last delivery seq assigned; owned by the writer goroutine
	appCache  map[string]*appTargets // per transaction: an app's endpoints, for fan-out
	txs, opsN int
	syncMode  string // the synchronous pragma currently set on writeC
}

// appTargets is what fan-out needs to know about an app, cached for one transaction.
type appTargets struct {
	exists  bool
	targets []fanoutTarget
}

type fanoutTarget struct {
	id, state, sourceID string
	eventTypes          []string
	fifo                bool
	maxConcurrency      int
	rateLimit           float64
}

var _ store.Store = (*Store)(nil)

// writeOp is one caller's unit of work inside a shared transaction.
type writeOp struct {
	ctx     context.Context
	fn      func(w *writer) error
	done    chan error
	publish bool // only reads endpoints, so the batch's endpoint cache stays valid
	// relaxed marks bookkeeping whose loss on power failure costs only a repeated
	// delivery (claims, leases, attempt outcomes): a transaction of relaxed ops only
	// skips the fsync (SQLite's synchronous=NORMAL); a later full commit syncs it too.
	relaxed bool
}

// Open opens (creating if needed) the database at path and applies pending migrations.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Cipher == nil {
		return nil, errors.New("sqlite: Options.Cipher is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	switch strings.ToUpper(opts.Synchronous) {
	case "":
		opts.Synchronous = "FULL"
	case "FULL", "NORMAL", "EXTRA":
		opts.Synchronous = strings.ToUpper(opts.Synchronous)
	default:
		return nil, fmt.Errorf("sqlite: synchronous %q: want FULL, NORMAL or EXTRA", opts.Synchronous)
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	pragmas := func(extra ...string) string {
		q := url.Values{}
		for _, p := range append([]string{
			"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)",
			"synchronous(" + opts.Synchronous + ")", "temp_store(MEMORY)", "cache_size(-32000)",
		}, extra...) {
			q.Add("_pragma", p)
		}
		return "file:" + path + "?" + q.Encode()
	}
	write, err := sql.Open("sqlite", pragmas())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	s := &Store{
		opts:     opts,
		log:      opts.Logger,
		write:    write,
		ops:      make(chan *writeOp, 4096),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		stmts:    make(map[string]*sql.Stmt),
		appCache: make(map[string]*appTargets),
	}
	if s.writeC, err = write.Conn(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.writeC.Close()
		write.Close()
		return nil, err
	}
	s.syncMode = opts.Synchronous
	if err := s.writeC.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM deliveries`).Scan(&s.seq); err != nil {
		s.writeC.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: read delivery sequence: %w", err)
	}
	s.read, err = sql.Open("sqlite", pragmas("query_only(1)"))
	if err != nil {
		s.writeC.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	s.read.SetMaxOpenConns(8)
	s.read.SetMaxIdleConns(8)
	go s.writeLoop()
	return s, nil
}

// Close stops the writer after it commits what is queued, and closes the database.
func (s *Store) Close() error {
	var err error
	s.closed.Do(func() {
		s.closeMu.Lock()
		s.isClosed = true
		s.closeMu.Unlock()
		close(s.quit)
		<-s.done
		if s.txs > 0 {
			s.log.Debug("sqlite writer", "transactions", s.txs, "writes", s.opsN, "writes_per_transaction", float64(s.opsN)/float64(s.txs))
		}
		for _, st := range s.stmts {
			st.Close()
		}
		err = errors.Join(s.writeC.Close(), s.write.Close(), s.read.Close())
	})
	return err
}

// migrate applies the embedded migrations that are not yet recorded in schema_migrations.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.writeC.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: name must start with a number", base)
		}
		var n int
		if err := s.writeC.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: migration %d: %w", version, err)
		}
		if n > 0 {
			continue
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return err
		}
		if err := s.inTx(ctx, func() error {
			if _, err := s.writeC.ExecContext(ctx, string(body)); err != nil {
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
	db, err := sql.Open("sqlite", "file:"+path+"?"+url.Values{"_pragma": {"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)"}}.Encode())
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
	to, err = version()
	return from, to, err
}

// SchemaVersion returns the newest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

func (s *Store) inTx(ctx context.Context, fn func() error) error {
	if _, err := s.writeC.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		_, _ = s.writeC.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	_, err := s.writeC.ExecContext(ctx, "COMMIT")
	if err != nil {
		_, _ = s.writeC.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	}
	return err
}

// do runs fn in the writer goroutine, inside a transaction shared with other callers'
// writes, and returns once that transaction committed (or fn failed and was rolled back
// to its savepoint).
func (s *Store) do(ctx context.Context, fn func(w *writer) error) error {
	return s.enqueue(&writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// doRelaxed is do for bookkeeping writes that may skip the fsync (see writeOp.relaxed).
func (s *Store) doRelaxed(ctx context.Context, fn func(w *writer) error) error {
	return s.enqueue(&writeOp{ctx: ctx, fn: fn, done: make(chan error, 1), relaxed: true})
}

// enqueue hands an op to the writer and waits for its outcome.
func (s *Store) enqueue(op *writeOp) error {
	ctx := op.ctx
	// The read lock orders sends before Close: once Close holds the write lock, no op can
	// be queued after the writer's final drain.
	s.closeMu.RLock()
	if s.isClosed {
		s.closeMu.RUnlock()
		return store.ErrClosed
	}
	select {
	case s.ops <- op:
		s.closeMu.RUnlock()
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return ctx.Err()
	}
	// Once queued, the op runs (or fails) promptly; wait for the commit even if ctx ends,
	// so that a caller never mistakes a committed write for a failed one.
	return <-op.done
}

func (s *Store) writeLoop() {
	defer close(s.done)
	batch := make([]*writeOp, 0, s.opts.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case op := <-s.ops:
			batch = append(batch, op)
		case <-s.quit:
			// Commit whatever is still queued, then stop.
			for {
				select {
				case op := <-s.ops:
					batch = append(batch, op)
					if len(batch) == s.opts.MaxBatch {
						s.commit(batch)
						batch = batch[:0]
					}
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				s.commit(batch)
			}
			return
		}
	fill:
		for len(batch) < s.opts.MaxBatch {
			select {
			case op := <-s.ops:
				batch = append(batch, op)
			default:
				break fill
			}
		}
		s.txs++
		s.opsN += len(batch)
		s.commit(batch)
	}
}

// commit runs a batch of ops in one transaction. The fast path runs them back to back;
// if one fails, the transaction is rolled back and the batch re-run with a savepoint
// around each op, so that one op's failure does not undo the others. Ops are written to
// be re-runnable: they reset their results when they start.
func (s *Store) commit(batch []*writeOp) {
	errs := make([]error, len(batch))
	seq := s.seq
	if err := s.runBatch(batch, errs, false); err == nil {
		if err := s.control("COMMIT"); err == nil {
			s.finish(batch, errs)
			return
		}
	}
	_ = s.control("ROLLBACK")
	s.seq = seq
	clear(errs)
	if err := s.runBatch(batch, errs, true); err != nil {
		_ = s.control("ROLLBACK")
		s.seq = seq
		for i := range errs {
			errs[i] = fmt.Errorf("sqlite: %w", err)
		}
		s.finish(batch, errs)
		return
	}
	if err := s.control("COMMIT"); err != nil {
		_ = s.control("ROLLBACK")
		s.seq = seq
		for i := range errs {
			errs[i] = fmt.Errorf("sqlite: commit: %w", err)
		}
	}
	s.finish(batch, errs)
}

// runBatch runs the ops inside BEGIN. Without savepoints it stops at the first failing
// op and returns its error; with savepoints it records each op's error in errs and
// returns only errors of the transaction itself.
func (s *Store) runBatch(batch []*writeOp, errs []error, savepoints bool) error {
	if err := s.setSync(batch); err != nil {
		return err
	}
	if err := s.control("BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	w := &writer{s: s}
	clear(s.appCache)
	for i, op := range batch {
		if err := op.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if !op.publish {
			clear(s.appCache) // it may change endpoints
		}
		if savepoints {
			if err := s.control("SAVEPOINT op"); err != nil {
				return err
			}
		}
		savedSeq := s.seq
		w.ctx = op.ctx
		err := op.fn(w)
		if err == nil {
			if savepoints {
				if err := s.control("RELEASE op"); err != nil {
					return err
				}
			}
			continue
		}
		if !savepoints {
			return err
		}
		errs[i] = err
		s.seq = savedSeq
		clear(s.appCache)
		if err := s.control("ROLLBACK TO op"); err != nil {
			return err
		}
		if err := s.control("RELEASE op"); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) finish(batch []*writeOp, errs []error) {
	for i, op := range batch {
		op.done <- errs[i]
	}
}

// setSync picks the durability of the next commit: the configured level if any op in the
// batch needs it, NORMAL if all are relaxed bookkeeping.
func (s *Store) setSync(batch []*writeOp) error {
	want := "NORMAL"
	for _, op := range batch {
		if !op.relaxed {
			want = s.opts.Synchronous
			break
		}
	}
	if want == s.syncMode {
		return nil
	}
	if err := s.control("PRAGMA synchronous = " + want); err != nil {
		return fmt.Errorf("synchronous %s: %w", want, err)
	}
	s.syncMode = want
	return nil
}

// control runs a transaction-control statement, prepared once.
func (s *Store) control(query string) error {
	w := &writer{s: s, ctx: context.Background()}
	_, err := w.exec(query)
	return err
}

// writer gives ops prepared statements on the write connection.
type writer struct {
	s   *Store
	ctx context.Context
}

func (w *writer) stmt(query string) (*sql.Stmt, error) {
	if st, ok := w.s.stmts[query]; ok {
		return st, nil
	}
	st, err := w.s.writeC.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}
	w.s.stmts[query] = st
	return st, nil
}

func (w *writer) exec(query string, args ...any) (sql.Result, error) {
	st, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(w.ctx, args...)
}

func (w *writer) query(query string, args ...any) (*sql.Rows, error) {
	st, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(w.ctx, args...)
}

func (w *writer) queryRow(query string, args ...any) *sql.Row {
	st, err := w.stmt(query)
	if err != nil {
		return w.s.writeC.QueryRowContext(w.ctx, "SELECT raise(ABORT, ?)", err.Error())
	}
	return st.QueryRowContext(w.ctx, args...)
}

// execN runs an update and returns the number of rows it changed.
func (w *writer) execN(query string, args ...any) (int64, error) {
	res, err := w.exec(query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}
