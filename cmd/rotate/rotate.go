// Package rotate implements 'voyce-auth rotate'.
package rotate

import (
	"fmt"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
)

// NewCmd returns the 'rotate' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	return &cmdutil.Command{
		Name:  "rotate",
		Short: "Refresh the Databricks OAuth token when it is due (safe to run unattended)",
		Usage: "voyce-auth rotate [flags]",
		Flags: cmdutil.NewFlagSet("rotate"),
		Run: func(args []string) error {
			fmt.Fprintln(f.IO.ErrOut, "voyce-auth rotate is not available yet in this build (issue #5).")
			return cmdutil.ErrSilent
		},
	}
}
