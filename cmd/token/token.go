// Package token implements 'voyce-auth token'.
package token

import (
	"fmt"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
)

// NewCmd returns the 'token' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	return &cmdutil.Command{
		Name:  "token",
		Short: "Show what the current Databricks OAuth token is and when it expires",
		Usage: "voyce-auth token [flags]",
		Flags: cmdutil.NewFlagSet("token"),
		Run: func(args []string) error {
			fmt.Fprintln(f.IO.ErrOut, "voyce-auth token is not available yet in this build (issue #5).")
			return cmdutil.ErrSilent
		},
	}
}
