package main

import (
	"fmt"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/spf13/cobra"
)

func newPortalCmd() *cobra.Command {
	af := &apiFlags{}
	cmd := newGroupCmd("portal", "Open an app's portal for its customer",
		`The portal is the web page where one app's customer sees the webhooks sent to
them, fixes their endpoints and recovers what they missed. A portal link opens it
once; the session it starts lasts until the link's expiry or until revoked.`,
		`  herald portal link --app acme
  herald portal link --app acme --expires-in 24h --manage
  herald portal revoke --app acme`)
	af.register(cmd)
	cmd.AddCommand(newPortalLinkCmd(af), newPortalRevokeCmd(af))
	return cmd
}

func newPortalLinkCmd(af *apiFlags) *cobra.Command {
	var (
		app       appFlag
		expiresIn time.Duration
		manage    bool
		endpoints []string
	)
	cmd := &cobra.Command{
		Use:   "link --app APP",
		Short: "Print a single-use link to an app's portal",
		Long: `Mint a single-use link to the app's portal and print it. Give it to the app's
customer: it opens the portal once, read-only unless --manage, showing every
endpoint of the app or only those of --endpoint.`,
		Example: `  herald portal link --app acme
  herald portal link --app acme --expires-in 1h --manage --endpoint ep_...`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			appID, c, err := app.client(cmd, af)
			if err != nil {
				return err
			}
			in := client.PortalLinkInput{ExpiresIn: int(expiresIn / time.Second), Capabilities: []string{client.CapabilityRead}, EndpointIDs: endpoints}
			if manage {
				in.Capabilities = append(in.Capabilities, client.CapabilityManage)
			}
			l, err := c.CreatePortalLink(cmd.Context(), appID, in)
			if err != nil {
				return af.explain(err)
			}
			if af.json {
				return writeJSON(cmd.OutOrStdout(), l)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), l.URL)
			return err
		},
	}
	app.register(cmd)
	cmd.Flags().DurationVar(&expiresIn, "expires-in", time.Hour, "how long the link and its session last (1m to 168h)")
	cmd.Flags().BoolVar(&manage, "manage", false, "let the customer change endpoints, send tests, retry and replay")
	cmd.Flags().StringArrayVar(&endpoints, "endpoint", nil, "show only this endpoint (repeatable)")
	return cmd
}

func newPortalRevokeCmd(af *apiFlags) *cobra.Command {
	var app appFlag
	cmd := &cobra.Command{
		Use:   "revoke --app APP",
		Short: "End every portal session of an app and void its unused links",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			appID, c, err := app.client(cmd, af)
			if err != nil {
				return err
			}
			if err := c.RevokePortalSessions(cmd.Context(), appID); err != nil {
				return af.explain(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Revoked the portal sessions of %s.\n", appID)
			return err
		},
	}
	app.register(cmd)
	return cmd
}
