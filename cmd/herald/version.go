package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print herald's version",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The SQLite driver tells a -tags sqlite_cgo build (mattn) from the default (modernc).
			fmt.Fprintf(cmd.OutOrStdout(), "herald %s %s %s/%s sqlite/%s\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH, sqlite.Drivers()[0])
			return nil
		},
	}
}

// buildVersion returns the module version herald was built from ("(devel)" for a local build),
// with the VCS revision when the build recorded one.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}
