package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/spf13/cobra"
)

// answerRecorder is an http.RoundTripper that keeps the body of the last successful
// answer, so that --json prints exactly what the API returned, not the client's
// decoding of it.
type answerRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	last []byte
}

// RoundTrip implements http.RoundTripper.
func (a *answerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := a.base.RoundTrip(r)
	if err != nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	a.mu.Lock()
	a.last = b
	a.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// take returns the last answer's body and forgets it.
func (a *answerRecorder) take() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.last
	a.last = nil
	return b
}

// rawPage is a list answer of the API with its records as they were answered.
type rawPage struct {
	Data       []json.RawMessage `json:"data"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// listFlags are the paging and output flags of list commands.
type listFlags struct {
	limit  int
	cursor string
	all    bool
	quiet  bool
}

func (f *listFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVar(&f.limit, "limit", 0, "how many per page, 1..1000 (default 50, or 1000 with --all)")
	cmd.Flags().StringVar(&f.cursor, "cursor", "", "start at this page (the cursor a previous list printed)")
	cmd.Flags().BoolVar(&f.all, "all", false, "fetch every page, not just the first")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print only the ids, one per line")
}

// listed is what a list command fetched: the records decoded, and as the API answered them.
type listed[T any] struct {
	items []*T
	raw   []json.RawMessage
	next  string // the cursor of the page after the last one fetched; "" if there is none
}

// fetch calls page for the first page, or for every page with --all.
func fetch[T any](cmd *cobra.Command, af *apiFlags, f *listFlags, page func(limit int, cursor string) ([]*T, string, error)) (*listed[T], error) {
	if cmd.Flags().Changed("limit") && (f.limit < 1 || f.limit > 1000) {
		return nil, usageError{err: fmt.Errorf("--limit %d: want 1..1000", f.limit), cmd: cmd}
	}
	if f.quiet && af.json {
		return nil, usageError{err: fmt.Errorf("--json and --quiet: choose one"), cmd: cmd}
	}
	limit := f.limit
	if f.all && limit == 0 {
		limit = 1000
	}
	out := &listed[T]{items: []*T{}, raw: []json.RawMessage{}}
	cursor := f.cursor
	for {
		batch, next, err := page(limit, cursor)
		if err != nil {
			return nil, err
		}
		var p rawPage
		if err := json.Unmarshal(af.answers.take(), &p); err != nil || len(p.Data) != len(batch) {
			return nil, fmt.Errorf("the server's list answer does not read as {\"data\": [...]} (%v)", err)
		}
		out.items = append(out.items, batch...)
		out.raw = append(out.raw, p.Data...)
		out.next = next
		if !f.all || next == "" {
			return out, nil
		}
		if err := cmd.Context().Err(); err != nil {
			return nil, err
		}
		cursor = next
	}
}

// listPages fetches the pages the list flags ask for with page and prints them: with
// --json as the API answers a list, {"data": [...], "next_cursor": "..."} (all the
// records of every page fetched, and the cursor after the last), with -q their ids
// one per line, else as a table with header and one row per record.
func listPages[T any](cmd *cobra.Command, af *apiFlags, lf *listFlags, page func(limit int, cursor string) ([]*T, string, error), header string, row func(*T) string) error {
	l, err := fetch(cmd, af, lf, page)
	if err != nil {
		return af.explain(err)
	}
	out := cmd.OutOrStdout()
	switch {
	case af.json:
		return writeJSON(out, rawPage{Data: l.raw, NextCursor: l.next})
	case lf.quiet:
		for _, r := range l.raw {
			var rec struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(r, &rec); err != nil || rec.ID == "" {
				return fmt.Errorf("a record without an id: %s", r)
			}
			if _, err := fmt.Fprintln(out, rec.ID); err != nil {
				return err
			}
		}
	default:
		tw := newTable(out)
		fmt.Fprintln(tw, header)
		for _, it := range l.items {
			fmt.Fprintln(tw, row(it))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if l.next != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "more: pass --cursor %s for the next page, or --all\n", l.next)
	}
	return nil
}

// writeAnswer prints the API's last answer as indented JSON, exactly as it came; v
// when there is none.
func writeAnswer(w io.Writer, af *apiFlags, v any) error {
	b := af.answers.take()
	if len(b) == 0 {
		return writeJSON(w, v)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(b), "", "  "); err != nil {
		return writeJSON(w, v)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}
