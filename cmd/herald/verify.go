package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/webhook"
	"github.com/spf13/cobra"
)

func newVerifyCmd() *cobra.Command {
	var (
		pf      providerFlags
		ef      explainFlags
		headers []string
		request bool
	)
	cmd := &cobra.Command{
		Use:   "verify [file]",
		Short: "Check a webhook's signature",
		Long: `Check that a webhook was signed with the secret, exactly as the provider signs.

Give either a raw HTTP request (--request, e.g. one captured by a proxy or
copied from a log: request line, headers, blank line, body) or the body alone
with its headers as -H flags. Input comes from the file, or from stdin when the
file is omitted or "-". Exit status 0 means the signature is valid; 1 means it
is not, and the reason is printed.

With --explain, a signature that does not verify is diagnosed: herald tries the
usual mistakes (a body re-serialised or with a newline added, a secret decoded or
with its whsec_ prefix dropped, a clock off, a header renamed, another
provider's headers, a secret rotated out with --retired-secret) and prints one
line per cause found, with what to do. --json prints the result as JSON.`,
		Example: `  herald verify --request captured.http --secret "$OPENAI_WEBHOOK_SECRET" --provider openai --explain
  herald verify body.json --secret whsec_... \
      -H 'webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek' \
      -H 'webhook-timestamp: 1614265330' \
      -H 'webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' --tolerance 0`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p webhook.Provider
			if !ef.explain && !ef.json {
				var err error
				if p, err = pf.build(cmd); err != nil {
					return err
				}
			}
			input, err := readInput(cmd, args)
			if err != nil {
				return err
			}
			var body []byte
			h := http.Header{}
			if request {
				if h, body, err = parseRawRequest(input); err != nil {
					return fmt.Errorf("parse request: %w", err)
				}
			} else {
				body = input
			}
			for _, kv := range headers {
				name, value, ok := strings.Cut(kv, ":")
				if !ok || strings.TrimSpace(name) == "" {
					return usageError{err: fmt.Errorf("-H %q: want 'name: value'", kv), cmd: cmd}
				}
				h.Add(strings.TrimSpace(name), strings.TrimSpace(value))
			}
			if p == nil {
				return ef.run(cmd, &pf, h, body)
			}
			d, err := p.Verify(body, h)
			if err != nil {
				return verifyFailed{err: err}
			}
			printVerified(cmd.OutOrStdout(), p.Name(), d)
			return nil
		},
	}
	pf.register(cmd, "standard")
	ef.register(cmd)
	cmd.Flags().StringArrayVarP(&headers, "header", "H", nil, "a request header, 'name: value' (repeatable)")
	cmd.Flags().BoolVar(&request, "request", false, "the input is a raw HTTP request, not just the body")
	cmd.Flags().DurationVar(&pf.tolerance, "tolerance", webhook.DefaultTolerance, "accepted clock difference for signed timestamps; 0 disables the check (for old captures)")
	return cmd
}

// verifyFailed reports an invalid webhook: exit status 1 with the reason and its code.
type verifyFailed struct{ err error }

func (e verifyFailed) Error() string {
	return "not verified: " + webhook.ErrorCode(e.err) + ": " + e.err.Error()
}

func (e verifyFailed) ExitCode() int { return 1 }

// parseRawRequest splits a raw HTTP/1.x request into headers and the exact body bytes.
// Without Content-Length the body is everything after the blank line.
func parseRawRequest(raw []byte) (http.Header, []byte, error) {
	br := bufio.NewReader(bytes.NewReader(raw))
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return nil, nil, fmt.Errorf("request line: %w", err)
	}
	if f := strings.Fields(line); len(f) != 3 || !strings.HasPrefix(f[2], "HTTP/") {
		return nil, nil, fmt.Errorf("request line %q: want 'METHOD /path HTTP/1.1'", line)
	}
	mh, err := tp.ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("headers: %w", err)
	}
	h := http.Header(mh)
	if h.Get("Transfer-Encoding") != "" {
		return nil, nil, errors.New("chunked bodies are not supported; save the request with a Content-Length")
	}
	body, err := io.ReadAll(br)
	if err != nil {
		return nil, nil, err
	}
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 {
			return nil, nil, fmt.Errorf("content-length %q is not a number", cl)
		}
		if n > len(body) {
			return nil, nil, fmt.Errorf("content-length is %d but the body has %d bytes", n, len(body))
		}
		body = body[:n]
	}
	return h, body, nil
}
