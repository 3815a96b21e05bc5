package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/webhook"
	"github.com/spf13/cobra"
)

func newSignCmd() *cobra.Command {
	var (
		pf      providerFlags
		id, typ string
		ts      string
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "sign [body-file]",
		Short: "Print the signature headers for a webhook body",
		Long: `Print the headers a sender attaches to a webhook body, signed exactly as the
chosen provider signs. The body is read from the file, or from stdin when the
file is omitted or "-". It is signed byte for byte: no trailing newline is
added or removed.`,
		Example: `  herald sign body.json --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
  echo -n '{"type":"ping"}' | herald sign --provider github --secret s3cret --type ping
  herald sign body.json --secret "$SECRET" --id msg_1 --timestamp 1614265330 --json`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := pf.build(cmd)
			if err != nil {
				return err
			}
			d := webhook.Delivery{ID: id, Type: typ}
			if ts != "" {
				unix, err := strconv.ParseInt(ts, 10, 64)
				if err != nil || unix <= 0 {
					return usageError{err: fmt.Errorf("--timestamp %q: want unix seconds", ts), cmd: cmd}
				}
				d.Timestamp = time.Unix(unix, 0)
			}
			body, err := readInput(cmd, args)
			if err != nil {
				return err
			}
			h, err := p.Sign(d, body)
			if err != nil {
				return fmt.Errorf("sign: %w", err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				m := make(map[string]string, len(h))
				for k, v := range h {
					m[strings.ToLower(k)] = strings.Join(v, ", ")
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(m)
			}
			for _, l := range sortedHeaderLines(h) {
				fmt.Fprintln(out, l)
			}
			return nil
		},
	}
	pf.register(cmd, "standard")
	cmd.Flags().StringVar(&id, "id", "", "delivery id (default: a new random id where the provider has one)")
	cmd.Flags().StringVar(&ts, "timestamp", "", "signing time in unix seconds (default: now)")
	cmd.Flags().StringVar(&typ, "type", "", "event type, for providers that send it in a header (github, shopify)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the headers as a JSON object")
	return cmd
}
