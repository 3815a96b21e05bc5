// Package sqlite is herald's embedded store: one SQLite database file in WAL mode,
// written by a single goroutine that commits concurrent writes together (group commit).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
)

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
	// Rejections bounds the rejected requests kept (zero fields: the defaults).
	Rejections store.RejectionLimits
	// Driver is the SQLite driver: DriverModernc, or DriverMattn in a build with
	// -tags sqlite_cgo; "" is the build's default (Drivers()[0]).
	Driver string
}

// Store is a store.Store backed by one SQLite file. Its relational core (CRUD, lists)
// is sqlstore's; publishing, claiming and completing are its own, on the writer.
type Store struct {
	*sqlstore.Core
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

	feed store.EndpointFeed // WatchEndpoints

	// observe, when set (by tests, right after Open), sees each statement before it runs.
	observe func(query string, args []any)
}

// appTargets is what fan-out needs to know about an app, cached for one transaction.
type appTargets struct {
	exists  bool
	targets []fanoutTarget
}

// fanoutTarget is an endpoint that can receive messages.
type fanoutTarget struct {
	id, state string
	sub       domain.Subscription
	fifo      bool
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
	driver, err := driverOrDefault(opts.Driver)
	if err != nil {
		return nil, err
	}
	opts.Driver = driver
	pragmas := func(extra ...string) []string {
		return append([]string{
			"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)",
			"synchronous(" + opts.Synchronous + ")", "temp_store(MEMORY)", "cache_size(-32000)",
		}, extra...)
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	write, err := openDB(driver, path, pragmas())
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
	s.Core = sqlstore.New(db{s}, dialect{}, opts.Cipher, events{s}, opts.Rejections)
	if s.writeC, err = write.Conn(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.writeC.Close()
		write.Close()
		return nil, err
	}
	if err := restrictCompanions(path); err != nil {
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
	s.read, err = openDB(driver, path, pragmas("query_only(1)"))
	if err != nil {
		s.writeC.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	s.read.SetMaxOpenConns(8)
	s.read.SetMaxIdleConns(8)
	s.log.Debug("sqlite store open", "path", path, "driver", driver)
	go s.writeLoop()
	return s, nil
}

// Driver returns the name of the SQLite driver the store runs on (see Options.Driver).
func (s *Store) Driver() string { return s.opts.Driver }

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
		s.feed.Close()
		for _, st := range s.stmts {
			st.Close()
		}
		err = errors.Join(s.writeC.Close(), s.write.Close(), s.read.Close())
	})
	return err
}
