package main

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/heraldhq/herald/internal/store/postgres/pgtest"
)

func TestMigrate(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name     string
		args     []string
		postgres bool
		want     string // a regexp the output must match; empty for a failure
		err      string
	}{
		{name: "sqlite, new", args: []string{"migrate", "--data-dir", dir}, want: `^SQLite .*herald\.db: schema version [1-9]\d* \(migrated from 0\)\n$`},
		{name: "sqlite, again", args: []string{"migrate", "--data-dir", dir}, want: `^SQLite .*: schema version [1-9]\d* \(up to date\)\n$`},
		{name: "sqlite path", args: []string{"migrate", "--database", filepath.Join(dir, "other.db")}, want: `other\.db: schema version`},
		{name: "unknown scheme", args: []string{"migrate", "--database", "mysql://u:secret@h/d"}, err: "want postgres://"},
		{name: "unreachable postgres", args: []string{"migrate", "--database", "postgres://u:secret@127.0.0.1:1/d?connect_timeout=5"}, err: "connect to u@127.0.0.1:1/d"},
		{name: "postgres, new", postgres: true, want: `^PostgreSQL postgres://.*: schema version [1-9]\d* \(migrated from 0\)\n$`},
	}
	var pgURL string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.postgres {
				if pgURL == "" {
					pgURL = pgtest.URL(t)
				}
				args = []string{"migrate", "--database", pgURL}
			}
			code, out, stderr := runCLI(t, "", args...)
			if tc.err != "" {
				wantOneLineError(t, code, stderr, tc.err)
				if regexp.MustCompile(`secret`).MatchString(stderr) {
					t.Errorf("the error shows the password: %q", stderr)
				}
				return
			}
			if code != 0 || !regexp.MustCompile(tc.want).MatchString(out) {
				t.Fatalf("exit %d, out %q, err %q; want output matching %s", code, out, stderr, tc.want)
			}
		})
	}
}
