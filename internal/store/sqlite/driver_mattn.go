//go:build sqlite_cgo && cgo

package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// mattnBuilt reports whether this build has DriverMattn.
const mattnBuilt = true

// openMattn opens path with github.com/mattn/go-sqlite3. The pragmas run on each new
// connection after the driver's own (it sets synchronous=NORMAL unless told otherwise),
// so they are the ones in force, as with modernc's _pragma parameters.
func openMattn(path string, pragmas []string) (*sql.DB, error) {
	d := &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		for _, p := range pragmas {
			if _, err := c.Exec("PRAGMA "+p, nil); err != nil {
				return fmt.Errorf("pragma %s: %w", p, err)
			}
		}
		return nil
	}}
	return sql.OpenDB(mattnConnector{dsn: "file:" + path, d: d}), nil
}

// mattnConnector opens connections without registering a database/sql driver name.
type mattnConnector struct {
	dsn string
	d   *sqlite3.SQLiteDriver
}

func (c mattnConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.d.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return mattnConn{conn.(*sqlite3.SQLiteConn)}, nil
}

func (c mattnConnector) Driver() driver.Driver { return c.d }

// mattnConn is a mattn connection that reads sqlstore's $N placeholders as SQLite's ?N:
// mattn binds arguments by position, so a $N that appears twice or out of order (which
// SQLite numbers by first appearance) would take the wrong argument; ?N takes the Nth.
// Every other method is mattn's own.
type mattnConn struct{ *sqlite3.SQLiteConn }

func (c mattnConn) Prepare(query string) (driver.Stmt, error) {
	return c.SQLiteConn.Prepare(numberedParams(query))
}

func (c mattnConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.SQLiteConn.PrepareContext(ctx, numberedParams(query))
}

func (c mattnConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.SQLiteConn.ExecContext(ctx, numberedParams(query), args)
}

func (c mattnConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.SQLiteConn.QueryContext(ctx, numberedParams(query), args)
}

func (c mattnConn) Exec(query string, args []driver.Value) (driver.Result, error) {
	return c.SQLiteConn.Exec(numberedParams(query), args)
}

func (c mattnConn) Query(query string, args []driver.Value) (driver.Rows, error) {
	return c.SQLiteConn.Query(numberedParams(query), args)
}

// mattnFull reports whether err is mattn's SQLITE_FULL.
func mattnFull(err error) bool {
	se, ok := errors.AsType[sqlite3.Error](err)
	return ok && se.Code == sqlite3.ErrFull
}
