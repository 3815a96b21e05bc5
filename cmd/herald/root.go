package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "herald",
		Short: "Send, receive and develop webhooks",
		Long: `herald is a webhook platform in one binary.

It signs and verifies Standard Webhooks (the scheme OpenAI uses) and the schemes
of Stripe, GitHub, Shopify and Slack, and sends correctly signed sample events to
a local receiver while you develop it.

The app, endpoint, message and delivery commands manage a herald server through
its REST API, at --server (default $HERALD_SERVER or http://127.0.0.1:8080) with
--api-key (default $HERALD_API_KEY).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{err: err, cmd: c}
	})
	root.AddCommand(
		newSecretCmd(),
		newSignCmd(),
		newVerifyCmd(),
		newTriggerCmd(),
		newVersionCmd(),
		newServeCmd(),
		newMigrateCmd(),
		newBenchCmd(),
		newAppCmd(),
		newEndpointCmd(),
		newMessageCmd(),
		newDeliveryCmd(),
		newSourceCmd(),
		newListenCmd(),
		newPortalCmd(),
		newEmulateCmd(),
		newOperationalEndpointCmd(),
		newStatusCmd(),
	)
	return root
}

// usageError is a flag or argument error; it names the command so the user knows where to look.
type usageError struct {
	err error
	cmd *cobra.Command
}

func (e usageError) Error() string {
	return e.err.Error() + " (see '" + e.cmd.CommandPath() + " --help')"
}

func (e usageError) ExitCode() int { return 2 }

// exactArgs is cobra.ExactArgs with errors that point at --help.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err: err, cmd: cmd}
		}
		return nil
	}
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MaximumNArgs(n)(cmd, args); err != nil {
			return usageError{err: err, cmd: cmd}
		}
		return nil
	}
}
