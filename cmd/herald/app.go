package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/client"
	"github.com/spf13/cobra"
)

func newAppCmd() *cobra.Command {
	af := &apiFlags{}
	cmd := newGroupCmd("app", "Manage apps, the tenants that own endpoints and messages",
		`Manage apps on a herald server. An app is one of your customers: it owns
endpoints and the messages published to them. Creating, listing and deleting
apps needs an admin API key.`,
		`  herald app create --name Acme --uid acme
  herald app list --all
  herald app get acme --json`)
	af.register(cmd)
	cmd.AddCommand(newAppCreateCmd(af), newAppListCmd(af), newAppGetCmd(af), newAppUpdateCmd(af), newAppDeleteCmd(af))
	return cmd
}

// printApp prints an app as JSON or as a detail view whose first line is its id.
func printApp(cmd *cobra.Command, af *apiFlags, a *client.App) error {
	if af.json {
		return writeJSON(cmd.OutOrStdout(), a)
	}
	return printDetail(cmd.OutOrStdout(), []field{
		{"id", a.ID},
		{"name", a.Name},
		{"uid", orDash(a.UID)},
		{"metadata", fmtMap(a.Metadata)},
		{"created_at", fmtTime(a.CreatedAt)},
		{"updated_at", fmtTime(a.UpdatedAt)},
	})
}

func newAppCreateCmd(af *apiFlags) *cobra.Command {
	var (
		in       client.AppInput
		metadata []string
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Create an app",
		Long: `Create an app and print it; its id is on the first line. --uid is your own
id for the app (unique; letters, digits, '_', '.', '-'), usable wherever the
app's id is.`,
		Example: `  herald app create --name "Acme Inc" --uid acme --metadata plan=pro
  herald app create --name Acme --json | jq -r .id`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, c, err := prepare(cmd, af, serverWide, func(cmd *cobra.Command) (err error) {
				if in.Name == "" {
					return usageError{err: errors.New("--name is required"), cmd: cmd}
				}
				in.Metadata, err = parseKV(cmd, "metadata", metadata)
				return err
			})
			if err != nil {
				return err
			}
			a, err := c.CreateApp(cmd.Context(), in)
			if err != nil {
				return af.explain(err)
			}
			return printApp(cmd, af, a)
		},
	}
	cmd.Flags().StringVar(&in.Name, "name", "", "the app's name (required)")
	cmd.Flags().StringVar(&in.UID, "uid", "", "your own unique id for the app")
	cmd.Flags().StringArrayVar(&metadata, "metadata", nil, "a metadata entry, key=value (repeatable)")
	return cmd
}

func newAppListCmd(af *apiFlags) *cobra.Command {
	return listCmd(af, serverWide, &cobra.Command{
		Use:   "list",
		Short: "List apps, newest first",
		Long: `List apps, newest first, one page at a time (--all fetches every page).
Needs an admin API key.`,
		Example: `  herald app list
  herald app list --all --json`,
		Args: exactArgs(0),
	}, nil, func(c *client.Client, ctx context.Context, _ string, _ []string, p client.ListParams) ([]*client.App, string, error) {
		return c.ListApps(ctx, p)
	}, "ID\tNAME\tUID\tCREATED", func(a *client.App) string {
		return fmt.Sprintf("%s\t%s\t%s\t%s", a.ID, a.Name, orDash(a.UID), fmtTime(a.CreatedAt))
	})
}

func newAppGetCmd(af *apiFlags) *cobra.Command {
	return adminItemCmd(af, &cobra.Command{
		Use:     "get ID|UID",
		Short:   "Show an app",
		Long:    `Show an app, found by its id or its uid.`,
		Example: "  herald app get app_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C\n  herald app get acme --json",
	}, (*client.Client).GetApp, printApp)
}

func newAppUpdateCmd(af *apiFlags) *cobra.Command {
	var (
		name, uid string
		metadata  []string
	)
	cmd := &cobra.Command{
		Use:   "update ID|UID [--name NAME] [--uid UID] [--metadata k=v ...]",
		Short: "Change an app's name, uid or metadata",
		Long: `Change an app and print it. Only the flags given are changed; --metadata
replaces all of the metadata (--metadata '' removes it).`,
		Example: `  herald app update acme --name "Acme Corporation"
  herald app update app_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --metadata plan=enterprise --metadata region=eu`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in client.AppUpdate
			flags := cmd.Flags()
			if flags.Changed("name") {
				in.Name = &name
			}
			if flags.Changed("uid") {
				in.UID = &uid
			}
			if flags.Changed("metadata") {
				m, err := parseKV(cmd, "metadata", metadata)
				if err != nil {
					return err
				}
				in.Metadata = m
			}
			if in.Name == nil && in.UID == nil && in.Metadata == nil {
				return usageError{err: errors.New("nothing to change: pass --name, --uid or --metadata"), cmd: cmd}
			}
			c, err := af.client(cmd)
			if err != nil {
				return err
			}
			a, err := c.UpdateApp(cmd.Context(), args[0], in)
			if err != nil {
				return af.explain(err)
			}
			return printApp(cmd, af, a)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the new name")
	cmd.Flags().StringVar(&uid, "uid", "", "the new uid")
	cmd.Flags().StringArrayVar(&metadata, "metadata", nil, "a metadata entry, key=value (repeatable; replaces all metadata)")
	return cmd
}

func newAppDeleteCmd(af *apiFlags) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete ID|UID [--yes]",
		Short: "Delete an app and everything it owns",
		Long: `Delete an app with all of its endpoints, messages, deliveries, sources and API
keys. This cannot be undone. Needs an admin API key.

It shows the app and asks you to type its id or uid (as you gave it) to confirm.
Without a terminal to ask on (a script, CI) it refuses unless --yes is given.`,
		Example: `  herald app delete acme
  herald app delete app_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --yes`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := af.client(cmd)
			if err != nil {
				return err
			}
			if !yes {
				if err := confirmAppDelete(cmd, af, c, args[0]); err != nil {
					return err
				}
			}
			if err := c.DeleteApp(cmd.Context(), args[0]); err != nil {
				return af.explain(err)
			}
			if !af.json {
				fmt.Fprintf(cmd.OutOrStdout(), "deleted app %s\n", args[0])
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}

// confirmAppDelete shows the app ref names and asks the person at the terminal to
// type ref again; it fails when there is no terminal or the answer differs.
func confirmAppDelete(cmd *cobra.Command, af *apiFlags, c *client.Client, ref string) error {
	in := cmd.InOrStdin()
	if !isTerminal(in) {
		return usageError{err: fmt.Errorf("refusing to delete app %q without confirmation: standard input is not a terminal; pass --yes", ref), cmd: cmd}
	}
	a, err := c.GetApp(cmd.Context(), ref)
	if err != nil {
		return af.explain(err)
	}
	e := cmd.ErrOrStderr()
	fmt.Fprintf(e, "This deletes app %s (%q", a.ID, a.Name)
	if a.UID != "" {
		fmt.Fprintf(e, ", uid %s", a.UID)
	}
	fmt.Fprintf(e, ") with all of its endpoints, messages, deliveries, sources and API keys.\nThis cannot be undone. Type %q to confirm: ", ref)
	answer, _ := bufio.NewReader(in).ReadString('\n')
	if strings.TrimSpace(answer) != ref {
		return fmt.Errorf("app %s not deleted: the answer was not %q", ref, ref)
	}
	return nil
}
