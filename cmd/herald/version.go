package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/spf13/cobra"
)

// version and commit override what the build recorded; release builds set them with
//
//	go build -ldflags "-X main.version=v1.2.0 -X main.commit=$(git rev-parse HEAD)" ./cmd/herald
//
// They are the only package-level variables of the command: the linker can set nothing else.
var version, commit string

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print herald's version and commit",
		Long: `Print herald's version, the commit it was built from, and the Go version and
platform. The version is the module version (v1.2.0 for 'go install ...@v1.2.0',
"(devel)" for a build from a checkout); the commit is the one 'go build' and
'go install' record from a git checkout ("-dirty" when it had changes). Release
builds set both with
  -ldflags "-X main.version=v1.2.0 -X main.commit=$(git rev-parse HEAD)".`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			bi, _ := debug.ReadBuildInfo()
			v, c := versionCommit(bi, version, commit)
			fmt.Fprintf(cmd.OutOrStdout(), "herald %s (commit %s) %s %s/%s sqlite/%s\n", v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH, sqlite.Drivers()[0]) // the SQLite driver tells a -tags sqlite_cgo build (mattn) from the default (modernc)
			return nil
		},
	}
}

// buildVersion returns herald's version, with the commit when it is known.
func buildVersion() string {
	bi, _ := debug.ReadBuildInfo()
	v, c := versionCommit(bi, version, commit)
	if c == "unknown" {
		return v
	}
	return v + " " + c
}

// versionCommit returns herald's version and commit: ldVersion and ldCommit when the
// linker set them, else what the build recorded in bi (nil: nothing), the commit
// shortened to 12 characters and marked -dirty when the checkout had changes.
func versionCommit(bi *debug.BuildInfo, ldVersion, ldCommit string) (v, c string) {
	v, c = ldVersion, ldCommit
	dirty := false
	if bi != nil {
		if v == "" && bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "":
				c = s.Value
			case s.Key == "vcs.modified" && ldCommit == "":
				dirty = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	if len(c) > 12 {
		c = c[:12]
	}
	switch {
	case c == "":
		c = "unknown"
	case dirty:
		c += "-dirty"
	}
	return v, c
}
