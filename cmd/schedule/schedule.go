// Package schedule implements 'voyce-auth schedule'.
package schedule

import (
	"fmt"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
)

// NewCmd returns the 'schedule' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	return &cmdutil.Command{
		Name:  "schedule",
		Short: "Install, inspect or remove the unattended rotation schedule",
		Usage: "voyce-auth schedule [flags]",
		Flags: cmdutil.NewFlagSet("schedule"),
		Run: func(args []string) error {
			fmt.Fprintln(f.IO.ErrOut, "voyce-auth schedule is not available yet in this build (issue #6).")
			return cmdutil.ErrSilent
		},
	}
}
