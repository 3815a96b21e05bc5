package postgres

import (
	"testing"

	"github.com/heraldhq/herald/internal/crypt/crypttest"
	"github.com/heraldhq/herald/internal/store/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestPipe checks what pipelined transactions promise: relaxed durability for their own
// commit only, and all or nothing, whether they run in one step (an implicit
// transaction) or several (BEGIN and COMMIT pipelined).
func TestPipe(t *testing.T) {
	s := openURL(t, pgtest.URL(t), crypttest.NewBox(t))
	defer s.Close()
	if _, err := s.pool.Exec(bg, `CREATE TABLE pipe_test (n int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	setting := func(p *pipe, last bool) (string, error) {
		b := &pgx.Batch{}
		b.Queue(`SELECT current_setting('synchronous_commit')`)
		br := p.send(bg, b, last)
		var v string
		err := br.QueryRow().Scan(&v)
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return v, err
	}
	for _, steps := range []int{1, 2} {
		var got []string
		err := s.pipelined(bg, true, func(p *pipe) error {
			got = got[:0]
			for i := 1; i <= steps; i++ {
				v, err := setting(p, i == steps)
				got = append(got, v)
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if v != "off" {
				t.Errorf("relaxed, %d steps: synchronous_commit = %q in step %d, want off", steps, v, i+1)
			}
		}
		err = s.pipelined(bg, false, func(p *pipe) error {
			v, err := setting(p, true)
			if err == nil && v != "on" {
				t.Errorf("after a relaxed transaction of %d steps: synchronous_commit = %q, want on", steps, v)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Transactions that are not pipelined begin relaxed in one round trip, as a simple
	// query of two statements.
	for _, relaxed := range []bool{true, false} {
		var v string
		if err := s.write(bg, relaxed, func(tx pgx.Tx) error {
			return tx.QueryRow(bg, `SELECT current_setting('synchronous_commit')`).Scan(&v)
		}); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]string{true: "off", false: "on"}[relaxed]; v != want {
			t.Errorf("a transaction relaxed %v: synchronous_commit = %q, want %q", relaxed, v, want)
		}
	}
	// A failing statement undoes the transaction's earlier ones, in its step or before.
	insert := func(p *pipe, last bool, ns ...int) error {
		b := &pgx.Batch{}
		for _, n := range ns {
			b.Queue(`INSERT INTO pipe_test VALUES ($1)`, n)
		}
		return p.send(bg, b, last).Close()
	}
	if err := s.pipelined(bg, true, func(p *pipe) error { return insert(p, true, 1, 1) }); !isUnique(err, "") {
		t.Fatalf("one step inserting 1 twice: %v, want a unique violation", err)
	}
	if err := s.pipelined(bg, false, func(p *pipe) error {
		if err := insert(p, false, 2); err != nil {
			return err
		}
		return insert(p, true, 3, 3)
	}); !isUnique(err, "") {
		t.Fatalf("two steps inserting 2, then 3 twice: %v, want a unique violation", err)
	}
	if err := s.pipelined(bg, false, func(p *pipe) error { return insert(p, false, 4) }); err != nil {
		t.Fatalf("a step not marked last: %v", err) // commits after it
	}
	var n []int32
	rows, err := s.pool.Query(bg, `SELECT n FROM pipe_test ORDER BY n`)
	if err != nil {
		t.Fatal(err)
	}
	if n, err = pgx.CollectRows(rows, pgx.RowTo[int32]); err != nil || len(n) != 1 || n[0] != 4 {
		t.Fatalf("rows = %v, %v; want only 4", n, err)
	}
	var status byte
	c, err := s.pool.Acquire(bg)
	if err != nil {
		t.Fatal(err)
	}
	status = c.Conn().PgConn().TxStatus()
	c.Release()
	if status != 'I' {
		t.Fatalf("a pooled connection is left in transaction status %q", status)
	}
}
