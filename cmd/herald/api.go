package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/spf13/cobra"
)

// Environment variables and defaults of the flags shared by the API commands.
const (
	serverEnv     = "HERALD_SERVER"
	apiKeyEnv     = "HERALD_API_KEY"
	defaultServer = "http://127.0.0.1:8080"
)

// timeLayout is how tables show times, in the local time zone.
const timeLayout = "2006-01-02 15:04:05"

// apiFlags are the persistent flags of the app, endpoint, message and delivery commands.
type apiFlags struct {
	server  string
	apiKey  string
	json    bool
	answers *answerRecorder // the API's answers, for --json
}

func (f *apiFlags) register(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.server, "server", "", "herald server URL (default $"+serverEnv+" or "+defaultServer+")")
	pf.StringVar(&f.apiKey, "api-key", "", "API key (default $"+apiKeyEnv+")")
	pf.BoolVar(&f.json, "json", false, "print the API's answer as indented JSON instead of a table")
}

// client returns a client for the server and key the flags (or the environment) name.
func (f *apiFlags) client(cmd *cobra.Command) (*client.Client, error) {
	server := f.serverURL()
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{err: fmt.Errorf("--server %q: want an http:// or https:// URL", server), cmd: cmd}
	}
	key := firstNonEmpty(f.apiKey, os.Getenv(apiKeyEnv))
	if key == "" {
		return nil, usageError{err: fmt.Errorf("an API key is required: pass --api-key or set $%s", apiKeyEnv), cmd: cmd}
	}
	f.answers = &answerRecorder{base: http.DefaultTransport}
	return client.New(server, key, &http.Client{Timeout: time.Minute, Transport: f.answers}), nil
}

// serverURL returns the server's URL: --server, else $HERALD_SERVER, else the default.
func (f *apiFlags) serverURL() string {
	return firstNonEmpty(f.server, os.Getenv(serverEnv), defaultServer)
}

// explain adds a hint to errors whose cause the user may not guess.
func (f *apiFlags) explain(err error) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w (is herald serve running at %s?)", err, f.serverURL())
	}
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
		return fmt.Errorf("%w (check --api-key or $%s)", err, apiKeyEnv)
	}
	return err
}

// newGroupCmd returns a command that only holds subcommands: without arguments it
// prints its help, and with an unknown subcommand it fails with a usage error.
func newGroupCmd(use, short, long, example string) *cobra.Command {
	return &cobra.Command{
		Use:                        use,
		Short:                      short,
		Long:                       long,
		Example:                    example,
		SuggestionsMinimumDistance: 2,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			}
			return usageError{err: errors.New(msg), cmd: cmd}
		},
	}
}

// appFlag is the --app flag of the endpoint, message and delivery commands.
type appFlag struct{ app string }

func (f *appFlag) register(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.app, "app", "", "the app's id or uid (required)")
}

// get returns the --app value, or a usage error if it is missing.
func (f *appFlag) get(cmd *cobra.Command) (string, error) {
	if f.app == "" {
		return "", usageError{err: errors.New("--app is required: the id or uid of the app"), cmd: cmd}
	}
	return f.app, nil
}

// client returns the --app value and a client of the server, or the usage error of
// whichever is missing (the app first).
func (f *appFlag) client(cmd *cobra.Command, af *apiFlags) (string, *client.Client, error) {
	return prepare(cmd, af, f.get, nil)
}

// appScope reads which app a command's records belong to: the --app of app commands,
// or "" for the server-wide records of admin commands (serverWide).
type appScope func(cmd *cobra.Command) (string, error)

// serverWide is the appScope of admin commands, whose records belong to no app.
func serverWide(*cobra.Command) (string, error) { return "", nil }

// prepare takes the steps of an API command before its call, in this order: it reads
// the scope, runs before (if not nil) to read the command's own flags, and makes a
// client. It returns the app and the client, or the first error.
func prepare(cmd *cobra.Command, af *apiFlags, scope appScope, before func(*cobra.Command) error) (string, *client.Client, error) {
	app, err := scope(cmd)
	if err != nil {
		return "", nil, err
	}
	if before != nil {
		if err := before(cmd); err != nil {
			return "", nil, err
		}
	}
	c, err := af.client(cmd)
	if err != nil {
		return "", nil, err
	}
	return app, c, nil
}

// listCmd completes cmd, a command that lists records of its scope (or of the record
// its argument names, when cmd.Args takes one) one page at a time: it adds the paging
// flags, and its RunE prepares (scope, before, client), fetches the pages with page
// and prints them as listPages does.
func listCmd[T any](af *apiFlags, scope appScope, cmd *cobra.Command, before func(*cobra.Command) error,
	page func(c *client.Client, ctx context.Context, app string, args []string, p client.ListParams) ([]*T, string, error),
	header string, row func(*T) string) *cobra.Command {
	var lf listFlags
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		app, c, err := prepare(cmd, af, scope, before)
		if err != nil {
			return err
		}
		return listPages(cmd, af, &lf, func(limit int, cursor string) ([]*T, string, error) {
			return page(c, cmd.Context(), app, args, client.ListParams{Limit: limit, Cursor: cursor})
		}, header, row)
	}
	lf.register(cmd)
	return cmd
}

// appListCmd is listCmd for the records of --app.
func appListCmd[T any](af *apiFlags, ap *appFlag, cmd *cobra.Command, before func(*cobra.Command) error,
	page func(c *client.Client, ctx context.Context, app string, args []string, p client.ListParams) ([]*T, string, error),
	header string, row func(*T) string) *cobra.Command {
	return listCmd(af, ap.get, cmd, before, page, header, row)
}

// itemCmd completes cmd, a command on the one record of its scope its one argument
// names: its RunE prepares (scope, before, client), calls call with the client, the
// app and the argument, and prints the answer with print.
func itemCmd[T any](af *apiFlags, scope appScope, cmd *cobra.Command, before func(*cobra.Command) error,
	call func(c *client.Client, cmd *cobra.Command, app, id string) (T, error),
	print func(*cobra.Command, *apiFlags, T) error) *cobra.Command {
	cmd.Args = exactArgs(1)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		app, c, err := prepare(cmd, af, scope, before)
		if err != nil {
			return err
		}
		v, err := call(c, cmd, app, args[0])
		if err != nil {
			return af.explain(err)
		}
		return print(cmd, af, v)
	}
	return cmd
}

// appItemCmd is itemCmd for a record of --app.
func appItemCmd[T any](af *apiFlags, ap *appFlag, cmd *cobra.Command,
	call func(c *client.Client, ctx context.Context, app, id string) (T, error),
	print func(*cobra.Command, *apiFlags, T) error) *cobra.Command {
	return itemCmd(af, ap.get, cmd, nil, func(c *client.Client, cmd *cobra.Command, app, id string) (T, error) {
		return call(c, cmd.Context(), app, id)
	}, print)
}

// adminItemCmd is itemCmd for the server-wide record its one argument names.
func adminItemCmd[T any](af *apiFlags, cmd *cobra.Command, call func(c *client.Client, ctx context.Context, id string) (T, error),
	print func(*cobra.Command, *apiFlags, T) error) *cobra.Command {
	return itemCmd(af, serverWide, cmd, nil, func(c *client.Client, cmd *cobra.Command, _, id string) (T, error) {
		return call(c, cmd.Context(), id)
	}, print)
}

// deleteCmd completes cmd, a command that deletes the record of its scope its one
// argument names with del, and says "deleted NOUN ID" unless --json.
func deleteCmd(af *apiFlags, scope appScope, cmd *cobra.Command, noun string,
	del func(c *client.Client, ctx context.Context, app, id string) error) *cobra.Command {
	return itemCmd(af, scope, cmd, nil, func(c *client.Client, cmd *cobra.Command, app, id string) (string, error) {
		return id, del(c, cmd.Context(), app, id)
	}, func(cmd *cobra.Command, af *apiFlags, id string) error {
		if !af.json {
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %s %s\n", noun, id)
		}
		return nil
	})
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// newTable returns a tabwriter for tab-separated rows.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// field is one line of a detail view.
type field struct{ name, value string }

// printDetail prints one resource as aligned "name  value" lines.
func printDetail(w io.Writer, fields []field) error {
	tw := newTable(w)
	for _, f := range fields {
		fmt.Fprintf(tw, "%s\t%s\n", f.name, f.value)
	}
	return tw.Flush()
}

// fmtTime shortens a time for tables; the zero time is "-".
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(timeLayout)
}

// fmtTimePtr is fmtTime for optional times.
func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return fmtTime(*t)
}

// orDash returns s, or "-" if it is empty, so that table cells are never blank.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// fmtMap formats a map as sorted k=v pairs separated by commas.
func fmtMap(m map[string]string) string {
	return joinSorted(m, "=")
}

// fmtHeaders formats headers as sorted "name: value" pairs separated by commas.
func fmtHeaders(h map[string]string) string {
	return joinSorted(h, ": ")
}

// joinSorted joins a map's entries, sorted by key, as key+sep+value; "-" if it is empty.
func joinSorted(m map[string]string, sep string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + sep + m[k]
	}
	return orDash(strings.Join(keys, ", "))
}

// truncate shortens s to n characters for a table cell, on one line.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-3]) + "..."
	}
	return orDash(s)
}

// parseKV parses repeated k=v flag values into a map; empty values are skipped, so
// that an empty --metadata value gives an empty map.
func parseKV(cmd *cobra.Command, flag string, values []string) (map[string]string, error) {
	m := make(map[string]string, len(values))
	for _, kv := range values {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageError{err: fmt.Errorf("--%s %q: want key=value", flag, kv), cmd: cmd}
		}
		m[k] = v
	}
	return m, nil
}

// parseHeaders parses repeated 'name: value' flag values into a map; empty values are skipped.
func parseHeaders(cmd *cobra.Command, flag string, values []string) (map[string]string, error) {
	m := make(map[string]string, len(values))
	for _, kv := range values {
		if kv == "" {
			continue
		}
		name, value, ok := strings.Cut(kv, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usageError{err: fmt.Errorf("--%s %q: want 'name: value'", flag, kv), cmd: cmd}
		}
		m[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return m, nil
}

// parseDuration is time.ParseDuration that also accepts a leading number of days,
// as in "7d" or "1d12h".
func parseDuration(s string) (time.Duration, error) {
	if i := strings.IndexByte(s, 'd'); i > 0 {
		days, err := strconv.ParseUint(s[:i], 10, 16)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		d := time.Duration(days) * 24 * time.Hour
		if rest := s[i+1:]; rest != "" {
			r, err := time.ParseDuration(rest)
			if err != nil || r < 0 {
				return 0, fmt.Errorf("invalid duration %q", s)
			}
			d += r
		}
		return d, nil
	}
	return time.ParseDuration(s)
}

// parseTimeFlag parses a --since or --until value: a duration meaning that long before
// now (24h, 90m, 7d) or an RFC 3339 time. The empty string is the zero time.
func parseTimeFlag(cmd *cobra.Command, flag, value string, now time.Time) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, value); err == nil {
		return t, nil
	}
	d, err := parseDuration(value)
	if err != nil || d < 0 {
		return time.Time{}, usageError{err: fmt.Errorf("--%s %q: want a duration ago (24h, 90m, 7d) or an RFC 3339 time (2026-11-26T12:00:00Z)", flag, value), cmd: cmd}
	}
	return now.Add(-d), nil
}

// timeRangeFlags are the --since and --until flags of list and replay commands.
type timeRangeFlags struct{ since, until string }

func (f *timeRangeFlags) register(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&f.since, "since", "", "only "+what+" created at or after this: a duration ago (24h, 7d) or an RFC 3339 time")
	cmd.Flags().StringVar(&f.until, "until", "", "only "+what+" created before this: a duration ago or an RFC 3339 time")
}

// parse returns the range the flags describe; unset bounds are zero.
func (f *timeRangeFlags) parse(cmd *cobra.Command) (since, until time.Time, err error) {
	now := time.Now()
	if since, err = parseTimeFlag(cmd, "since", f.since, now); err != nil {
		return
	}
	until, err = parseTimeFlag(cmd, "until", f.until, now)
	return
}

// parseInto returns a step that parses the range the flags describe into since and until.
func (f *timeRangeFlags) parseInto(since, until *time.Time) func(*cobra.Command) error {
	return func(cmd *cobra.Command) (err error) {
		*since, *until, err = f.parse(cmd)
		return err
	}
}
