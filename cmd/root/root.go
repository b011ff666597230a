// Package root dispatches voyce-auth's command line to its commands and maps their errors to exit codes.
package root

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/cmd/doctor"
	"github.com/voyce/voyce-auth/cmd/info"
	"github.com/voyce/voyce-auth/cmd/password"
	"github.com/voyce/voyce-auth/cmd/rotate"
	"github.com/voyce/voyce-auth/cmd/schedule"
	"github.com/voyce/voyce-auth/cmd/setup"
	"github.com/voyce/voyce-auth/cmd/token"
	"github.com/voyce/voyce-auth/cmd/version"
	"github.com/voyce/voyce-auth/internal/prompt"
)

// Commands returns every command, in the order the help lists them.
func Commands(f *cmdutil.Factory) []*cmdutil.Command {
	return []*cmdutil.Command{
		setup.NewCmd(f),
		doctor.NewCmd(f),
		password.NewCmd(f),
		token.NewCmd(f),
		rotate.NewCmd(f),
		schedule.NewCmd(f),
		info.NewCmd(f),
		version.NewCmd(f),
	}
}

const summary = `voyce-auth connects a developer to the Voyce platform's PostgreSQL (Lakebase) and Databricks OAuth,
and keeps the connection working.`

// Run runs the command line args (without the program name) and returns the exit code.
func Run(f *cmdutil.Factory, args []string) int {
	err := dispatch(f, args)
	if err == nil {
		return cmdutil.ExitOK
	}
	code := cmdutil.ExitCode(err)
	var ce *cmdutil.ExitCodeError
	switch {
	case errors.Is(err, cmdutil.ErrSilent), errors.As(err, &ce):
	case errors.Is(err, cmdutil.ErrCancel), errors.Is(err, prompt.ErrInterrupted):
		fmt.Fprintln(f.IO.ErrOut, "Cancelled; nothing was changed.")
		code = cmdutil.ExitInterrupted
	default:
		fmt.Fprintln(f.IO.ErrOut, "error: "+oneLine(err.Error()))
	}
	return code
}

func oneLine(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\n", " "))
}

func dispatch(f *cmdutil.Factory, args []string) error {
	if f.Getenv != nil && f.Getenv("NO_COLOR") != "" {
		f.Globals.NoColor = true
	}
	// Global flags may come before the command name.
	pre := cmdutil.NewFlagSet("voyce-auth")
	cmdutil.AddGlobalFlags(pre, &f.Globals)
	showVersion := pre.Bool("version", false, "print the version")
	pre.Bool("help", false, "show help")
	pre.Bool("h", false, "show help")
	if err := pre.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printRootHelp(f.IO.Out, Commands(f))
			return nil
		}
		return cmdutil.Usagef("%s (see 'voyce-auth --help')", cmdutil.FlagErrorText(err))
	}
	applyColor(f)
	commands := Commands(f)
	rest := pre.Args()
	if *showVersion {
		return version.NewCmd(f).Run(nil)
	}
	if pre.Lookup("help").Value.String() == "true" || pre.Lookup("h").Value.String() == "true" {
		printRootHelp(f.IO.Out, commands)
		return nil
	}
	if len(rest) == 0 {
		printRootHelp(f.IO.ErrOut, commands)
		return cmdutil.Usagef("a command is required: %s", names(commands))
	}
	name := rest[0]
	if name == "help" {
		if len(rest) > 1 {
			if c := find(commands, rest[1]); c != nil {
				cmdutil.PrintHelp(f.IO.Out, withGlobals(c, f))
				return nil
			}
			return cmdutil.Usagef("unknown command %q; commands are: %s", rest[1], names(commands))
		}
		printRootHelp(f.IO.Out, commands)
		return nil
	}
	c := find(commands, name)
	if c == nil {
		return cmdutil.Usagef("unknown command %q; commands are: %s (see 'voyce-auth --help')", name, names(commands))
	}
	withGlobals(c, f)
	positional, err := cmdutil.ParseFlags(c.Flags, c.Name, rest[1:])
	if errors.Is(err, flag.ErrHelp) {
		cmdutil.PrintHelp(f.IO.Out, c)
		return nil
	}
	if err != nil {
		return err
	}
	applyColor(f)
	return c.Run(positional)
}

func applyColor(f *cmdutil.Factory) {
	if f.Globals.NoColor {
		f.IO.SetColorEnabled(false)
	}
}

func withGlobals(c *cmdutil.Command, f *cmdutil.Factory) *cmdutil.Command {
	if c.Flags == nil {
		c.Flags = cmdutil.NewFlagSet(c.Name)
	}
	cmdutil.AddGlobalFlags(c.Flags, &f.Globals)
	return c
}

func find(commands []*cmdutil.Command, name string) *cmdutil.Command {
	for _, c := range commands {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func names(commands []*cmdutil.Command) string {
	var n []string
	for _, c := range commands {
		if !c.Hidden {
			n = append(n, c.Name)
		}
	}
	return strings.Join(n, ", ")
}

func printRootHelp(w io.Writer, commands []*cmdutil.Command) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  voyce-auth <command> [flags]\n\nCommands:\n", summary)
	for _, c := range commands {
		if !c.Hidden {
			fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Short)
		}
	}
	fmt.Fprint(w, `
Flags for every command:
  --env-file PATH       the project's .env file (default: .env in the current folder)
  --pgpass-file PATH    the Postgres password file (default: $PGPASSFILE, else ~/.pgpass)
  --no-color            plain output without colours (also: NO_COLOR=1)
  --version             print the version

Exit codes: 0 ok, 1 failure, 2 usage error, 130 interrupted.
Run 'voyce-auth <command> --help' for a command's flags and examples.
`)
}
