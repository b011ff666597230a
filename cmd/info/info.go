// Package info implements 'voyce-auth info'.
package info

import (
	"fmt"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
)

// NewCmd returns the 'info' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	return &cmdutil.Command{
		Name:  "info",
		Short: "Print connection details for psql, DBeaver and the backend .env",
		Usage: "voyce-auth info [flags]",
		Flags: cmdutil.NewFlagSet("info"),
		Run: func(args []string) error {
			fmt.Fprintln(f.IO.ErrOut, "voyce-auth info is not available yet in this build (issue #4).")
			return cmdutil.ErrSilent
		},
	}
}
