package main

import (
	"fmt"

	"github.com/heraldhq/herald/webhook"
	"github.com/spf13/cobra"
)

func newSecretCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Create webhook signing secrets",
	}
	var kind string
	newCmd := &cobra.Command{
		Use:   "new",
		Short: "Generate a new signing secret",
		Long: `Generate a new Standard Webhooks signing secret.

--type hmac (the default) prints a whsec_ secret shared by sender and receiver
(32 random bytes). --type ed25519 prints a key pair: the whsk_ signing key stays
with the sender, the whpk_ public key goes to receivers.`,
		Example: `  herald secret new
  herald secret new --type ed25519`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			switch kind {
			case "hmac":
				fmt.Fprintln(out, webhook.NewHMACSecret().Reveal())
			case "ed25519":
				key := webhook.NewEd25519Key()
				fmt.Fprintf(out, "signing key (keep private): %s\n", key.Reveal())
				fmt.Fprintf(out, "public key (for receivers): %s\n", key.Public().Reveal())
			default:
				return usageError{err: fmt.Errorf("--type %q: want hmac or ed25519", kind), cmd: cmd}
			}
			return nil
		},
	}
	newCmd.Flags().StringVar(&kind, "type", "hmac", "secret type: hmac or ed25519")
	cmd.AddCommand(newCmd)
	return cmd
}
