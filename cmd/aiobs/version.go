package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the aiobs version and commit",
		Long:    "version prints the module version, the VCS commit the binary was built from (when known) and the Go version.",
		Example: "  aiobs version",
		Args:    maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "aiobs %s\n", versionLine())
			return nil
		},
	}
}

// moduleVersion is the version go install stamped into the binary, or
// "(devel)" for a local build.
func moduleVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" {
		return "(devel)"
	}
	return info.Main.Version
}

func versionLine() string {
	s := moduleVersion()
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return s
	}
	var rev, modified string
	for _, kv := range info.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.modified":
			if kv.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if rev != "" {
		s += " commit " + rev + modified
	}
	return s + " " + info.GoVersion
}
