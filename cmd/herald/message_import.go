package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/spf13/cobra"
)

// maxImportLine bounds one line of an import file: a message's payload may be up to the
// server's limit (256 KiB by default, configurable), plus its type and key.
const maxImportLine = 16 << 20

// importLine is one line of a JSON Lines import: a message as the batch API takes it.
type importLine struct {
	Type           string          `json:"type"`
	Payload        json.RawMessage `json:"payload"`
	IdempotencyKey string          `json:"idempotency_key"`
}

// importedMessage is what --json prints for each imported message.
type importedMessage struct {
	Line           int    `json:"line"`
	ID             string `json:"id"`
	Type           string `json:"type"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	Duplicate      bool   `json:"duplicate"`
	Deliveries     int    `json:"deliveries"`
}

func newMessageImportCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	var (
		file  string
		batch int
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "import --app APP [--file events.jsonl]",
		Short: "Publish many messages from a JSON Lines file",
		Long: `Publish many messages at once from JSON Lines: one message per line, as
{"type": "invoice.paid", "payload": {...}, "idempotency_key": "..."} (the key is
optional; blank lines are skipped). The messages go through the batch publish API,
--batch per request, in file order.

The whole file is read and checked first, so a bad line stops the import before
anything is published. Should a request fail midway, the messages of the earlier
requests stay published and the error says which lines were; with idempotency keys,
running the same import again publishes each message exactly once.

While it runs, a line on stderr counts the messages published and the rate, when
stderr is a terminal (not in scripts and CI logs) and -q is not given.`,
		Example: `  herald message import --app acme --file events.jsonl
  jq -c '.[] | {type: "invoice.paid", payload: ., idempotency_key: .id}' invoices.json | herald message import --app acme
  herald message import --app acme --file events.jsonl --json > published.json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			app, err := ap.get(cmd)
			if err != nil {
				return err
			}
			if batch < 1 || batch > 1000 {
				return usageError{err: fmt.Errorf("--batch %d: want 1 to 1000 messages per request", batch), cmd: cmd}
			}
			c, err := af.client(cmd)
			if err != nil {
				return err
			}
			in, closeIn, err := importInput(cmd, file)
			if err != nil {
				return err
			}
			defer closeIn()
			msgs, lines, err := readImport(in, file)
			if err != nil {
				return err
			}
			if len(msgs) == 0 {
				return fmt.Errorf("%s: no messages to import", importName(file))
			}
			progress := newImportProgress(cmd, len(msgs), !quiet && isTerminal(cmd.ErrOrStderr()))
			out, err := publishImport(cmd.Context(), c, app, msgs, lines, batch, progress, af.explain)
			progress.done()
			if err != nil {
				return err
			}
			duplicates, deliveries := 0, 0
			for _, m := range out {
				if m.Duplicate {
					duplicates++
				}
				deliveries += m.Deliveries
			}
			if af.json {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			fields := []field{
				{"published", fmt.Sprintf("%d messages", len(msgs)-duplicates)},
				{"requests", fmt.Sprintf("%d (up to %d messages each)", (len(msgs)+batch-1)/batch, batch)},
				{"deliveries", fmt.Sprintf("%d queued", deliveries)},
			}
			if duplicates > 0 {
				fields = append(fields, field{"duplicates", fmt.Sprintf("%d (their idempotency keys were used before: nothing new was queued)", duplicates)})
			}
			return printDetail(cmd.OutOrStdout(), fields)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the JSON Lines file (default: stdin)")
	cmd.Flags().IntVar(&batch, "batch", 500, "messages per request (1 to 1000)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "show no progress on stderr")
	return cmd
}

// publishImport publishes msgs (read from lines) in requests of batch messages, in
// order, and returns what the server answered for each; progress counts them.
func publishImport(ctx context.Context, c *client.Client, app string, msgs []client.MessageInput, lines []int, batch int,
	progress *importProgress, explain func(error) error) ([]importedMessage, error) {
	var out []importedMessage
	for start := 0; start < len(msgs); start += batch {
		end := min(start+batch, len(msgs))
		res, err := c.PublishBatch(ctx, app, msgs[start:end])
		if err != nil {
			done := "nothing was published"
			if start > 0 {
				done = fmt.Sprintf("the %d messages of lines %d-%d were published", start, lines[0], lines[start-1])
			}
			return nil, fmt.Errorf("import lines %d-%d: %w%s; %s", lines[start], lines[end-1], explain(err), batchLine(err, lines[start:end]), done)
		}
		if len(res) != end-start {
			return nil, fmt.Errorf("import lines %d-%d: the server answered %d messages for %d", lines[start], lines[end-1], len(res), end-start)
		}
		for i, r := range res {
			m := importedMessage{Line: lines[start+i], ID: r.ID, Type: r.Type, IdempotencyKey: r.IdempotencyKey, Duplicate: r.Duplicate}
			if r.Deliveries != nil {
				m.Deliveries = *r.Deliveries
			}
			out = append(out, m)
		}
		progress.update(end)
	}
	return out, nil
}

// batchIndex finds the message a batch publish error names ("messages[3].type ...").
var batchIndex = regexp.MustCompile(`messages\[(\d+)\]`)

// batchLine returns " (messages[i] is line n)" for an API error about one message of a
// batch whose messages came from lines, or "".
func batchLine(err error, lines []int) string {
	var apiErr *client.Error
	if !errors.As(err, &apiErr) {
		return ""
	}
	m := batchIndex.FindStringSubmatch(apiErr.Message)
	if m == nil {
		return ""
	}
	i, convErr := strconv.Atoi(m[1])
	if convErr != nil || i >= len(lines) {
		return ""
	}
	return fmt.Sprintf(" (messages[%d] is line %d)", i, lines[i])
}

// importInput opens --file, or stdin when it is empty or "-" (refusing a terminal).
func importInput(cmd *cobra.Command, file string) (io.Reader, func(), error) {
	if file != "" && file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, nil, fmt.Errorf("import: %w", err)
		}
		return f, func() { f.Close() }, nil
	}
	in, err := pipedStdin(cmd, "nothing to import: pass --file events.jsonl, or pipe JSON Lines on stdin")
	if err != nil {
		return nil, nil, err
	}
	return in, func() {}, nil
}

func importName(file string) string {
	if file == "" || file == "-" {
		return "stdin"
	}
	return file
}

// readImport parses JSON Lines into messages, with the line number of each, and fails
// on the first line that is not an acceptable message.
func readImport(r io.Reader, file string) ([]client.MessageInput, []int, error) {
	var (
		msgs  []client.MessageInput
		lines []int
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxImportLine)
	n := 0
	for sc.Scan() {
		n++
		b := bytes.TrimSpace(sc.Bytes())
		if n == 1 {
			b = bytes.TrimPrefix(b, []byte("\ufeff")) // a byte order mark, as some editors write
		}
		if len(b) == 0 {
			continue
		}
		m, err := parseImportLine(b)
		if err != nil {
			return nil, nil, fmt.Errorf("%s line %d: %w", importName(file), n, err)
		}
		msgs = append(msgs, m)
		lines = append(lines, n)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, nil, fmt.Errorf("%s line %d: longer than %d MiB", importName(file), n+1, maxImportLine>>20)
		}
		return nil, nil, fmt.Errorf("read %s: %w", importName(file), err)
	}
	return msgs, lines, nil
}

func parseImportLine(b []byte) (client.MessageInput, error) {
	var l importLine
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return client.MessageInput{}, fmt.Errorf("not a message object: %w", err)
	}
	if dec.More() {
		return client.MessageInput{}, errors.New("more than one JSON value: want one message per line")
	}
	switch {
	case strings.TrimSpace(l.Type) == "":
		return client.MessageInput{}, errors.New(`"type" is required`)
	case len(l.Payload) == 0 || string(l.Payload) == "null":
		return client.MessageInput{}, errors.New(`"payload" is required`)
	case l.Payload[0] != '{':
		return client.MessageInput{}, errors.New(`"payload" must be a JSON object`)
	}
	return client.MessageInput{Type: l.Type, Payload: l.Payload, IdempotencyKey: l.IdempotencyKey}, nil
}

// importProgress shows on stderr, in place, how many messages an import has published.
type importProgress struct {
	w       io.Writer // nil: show nothing
	total   int
	start   time.Time
	shown   bool
	stopped bool
}

func newImportProgress(cmd *cobra.Command, total int, show bool) *importProgress {
	p := &importProgress{total: total, start: time.Now()}
	if show {
		p.w = cmd.ErrOrStderr()
	}
	return p
}

// update shows that n messages are published.
func (p *importProgress) update(n int) {
	if p.w == nil || p.stopped {
		return
	}
	rate := ""
	if secs := time.Since(p.start).Seconds(); secs > 0 {
		rate = fmt.Sprintf(", %.0f/s", float64(n)/secs)
	}
	fmt.Fprintf(p.w, "\r\033[Kimported %d of %d messages (%d%%)%s", n, p.total, n*100/p.total, rate)
	p.shown = true
}

// done ends the progress line, if one was shown; it may be called more than once.
func (p *importProgress) done() {
	if p.shown && !p.stopped {
		fmt.Fprintln(p.w)
	}
	p.stopped = true
}
