// Package password implements 'voyce-auth password'.
package password

import (
	"fmt"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
)

// NewCmd returns the 'password' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	return &cmdutil.Command{
		Name:  "password",
		Short: "Change the PostgreSQL password without losing access",
		Usage: "voyce-auth password [flags]",
		Flags: cmdutil.NewFlagSet("password"),
		Run: func(args []string) error {
			fmt.Fprintln(f.IO.ErrOut, "voyce-auth password is not available yet in this build (issue #8).")
			return cmdutil.ErrSilent
		},
	}
}
