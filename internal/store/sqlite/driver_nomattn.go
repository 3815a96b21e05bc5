//go:build !sqlite_cgo

package sqlite

import (
	"database/sql"
	"errors"
)

// mattnBuilt reports whether this build has DriverMattn: only with -tags sqlite_cgo.
const mattnBuilt = false

func openMattn(string, []string) (*sql.DB, error) {
	return nil, errors.New("sqlite: this build has no mattn driver (build with -tags sqlite_cgo)")
}

func mattnFull(error) bool { return false }
