// Package version implements 'voyce-auth version'.
package version

import (
	"fmt"
	"runtime/debug"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
)

// NewCmd returns the 'version' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	return &cmdutil.Command{
		Name:     "version",
		Short:    "Print the version of voyce-auth",
		Usage:    "voyce-auth version",
		Flags:    cmdutil.NewFlagSet("version"),
		Examples: "  $ voyce-auth version\n  voyce-auth 0.1.0 (revision 1a2b3c4d5e6f, modified)",
		Run: func(args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("version: takes no arguments, got %q", args[0])
			}
			info, _ := debug.ReadBuildInfo()
			fmt.Fprintln(f.IO.Out, String(f.Version, info))
			return nil
		},
	}
}

// String formats the version line: the version, and the VCS revision when the build carries one.
func String(version string, info *debug.BuildInfo) string {
	s := "voyce-auth " + version
	if info == nil {
		return s
	}
	var rev, modified string
	for _, kv := range info.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.modified":
			modified = kv.Value
		}
	}
	if rev == "" {
		return s
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		return fmt.Sprintf("%s (revision %s, modified)", s, rev)
	}
	return fmt.Sprintf("%s (revision %s)", s, rev)
}
