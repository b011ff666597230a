package cmdutil

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Command is one voyce-auth subcommand.
type Command struct {
	Name     string // e.g. "setup"
	Short    string // one line for the command list
	Usage    string // e.g. "voyce-auth setup [flags]"
	Long     string // paragraphs shown by --help
	Examples string // shown by --help, already indented
	// Flags defines the command's own flags; the global flags are added to it by the root.
	Flags *flag.FlagSet
	// Run runs the command with the arguments left after flag parsing.
	Run func(args []string) error
	// Hidden commands are left out of the command list.
	Hidden bool
}

// NewFlagSet returns a FlagSet that reports errors instead of exiting and prints nothing by itself.
func NewFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// AddGlobalFlags defines --env-file, --pgpass-file and --no-color on fs.
func AddGlobalFlags(fs *flag.FlagSet, g *Globals) {
	if fs.Lookup("env-file") == nil {
		fs.StringVar(&g.EnvFile, "env-file", g.EnvFile, "`PATH` of the project's .env file (default: .env in the current folder)")
	}
	if fs.Lookup("pgpass-file") == nil {
		fs.StringVar(&g.PgpassFile, "pgpass-file", g.PgpassFile, "`PATH` of the Postgres password file (default: $PGPASSFILE, else ~/.pgpass)")
	}
	if fs.Lookup("no-color") == nil {
		fs.BoolVar(&g.NoColor, "no-color", g.NoColor, "plain output without colours (also: NO_COLOR=1)")
	}
}

// ParseFlags parses args with fs, allowing flags after positional arguments, and turns flag errors into
// one-line usage errors. It returns the positional arguments.
func ParseFlags(fs *flag.FlagSet, cmdName string, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, flag.ErrHelp
			}
			return nil, Usagef("%s: %s (see 'voyce-auth %s --help')", cmdName, FlagErrorText(err), cmdName)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if rest[0] == "--" {
			return append(positional, rest[1:]...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// FlagErrorText rewrites the flag package's error in the --flag style the help uses.
func FlagErrorText(err error) string {
	s := err.Error()
	if name, ok := strings.CutPrefix(s, "flag provided but not defined: -"); ok {
		name = strings.TrimPrefix(name, "-")
		if name == "password" || name == "p" {
			// gh, docker and aws have taught people to look for one; say why there is none and what to use.
			return "unknown flag --" + name + ": a password never goes on the command line (ps and shell " +
				"history would show it); pipe it to --password-stdin or set PGPASSWORD"
		}
		return "unknown flag --" + name
	}
	if rest, ok := strings.CutPrefix(s, "flag needs an argument: -"); ok {
		return "flag --" + strings.TrimPrefix(rest, "-") + " needs a value"
	}
	// invalid value "x" for flag -timeout: parse error  ->  --timeout: invalid value "x": parse error
	if rest, ok := strings.CutPrefix(s, "invalid value "); ok {
		if i := strings.LastIndex(rest, " for flag -"); i >= 0 {
			value := rest[:i]
			name, why, _ := strings.Cut(strings.TrimPrefix(rest[i+len(" for flag -"):], "-"), ": ")
			return fmt.Sprintf("--%s: invalid value %s: %s", name, value, why)
		}
	}
	return s
}

// PrintHelp writes the command's help: usage, description, flags and examples.
func PrintHelp(w io.Writer, c *Command) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s\n", firstNonEmpty(c.Long, c.Short), c.Usage)
	if c.Flags != nil {
		var b strings.Builder
		c.Flags.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			line := "  --" + f.Name
			if name != "" {
				line += " " + name
			}
			if len(line) < 26 {
				line += strings.Repeat(" ", 26-len(line))
			} else {
				line += "\n" + strings.Repeat(" ", 26)
			}
			b.WriteString(line + usage)
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" &&
				!strings.Contains(usage, "default") {
				fmt.Fprintf(&b, " (default %s)", f.DefValue)
			}
			b.WriteString("\n")
		})
		if b.Len() > 0 {
			fmt.Fprintf(w, "\nFlags:\n%s", b.String())
		}
	}
	if c.Examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(c.Examples, "\n"))
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
