// Package doctor implements 'voyce-auth doctor'.
package doctor

import (
	"fmt"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
)

// NewCmd returns the 'doctor' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	return &cmdutil.Command{
		Name:  "doctor",
		Short: "Check every part of the setup and print the exact fix for each problem",
		Usage: "voyce-auth doctor [flags]",
		Flags: cmdutil.NewFlagSet("doctor"),
		Run: func(args []string) error {
			fmt.Fprintln(f.IO.ErrOut, "voyce-auth doctor is not available yet in this build (issue #7).")
			return cmdutil.ErrSilent
		},
	}
}
