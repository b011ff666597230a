// Package setup implements 'voyce-auth setup'.
package setup

import (
	"fmt"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
)

// NewCmd returns the 'setup' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	return &cmdutil.Command{
		Name:  "setup",
		Short: "Guided first-time setup of PostgreSQL and Databricks credentials",
		Usage: "voyce-auth setup [flags]",
		Flags: cmdutil.NewFlagSet("setup"),
		Run: func(args []string) error {
			fmt.Fprintln(f.IO.ErrOut, "voyce-auth setup is not available yet in this build (issue #4).")
			return cmdutil.ErrSilent
		},
	}
}
