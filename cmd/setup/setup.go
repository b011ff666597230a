// Package setup implements 'voyce-auth setup'.
package setup

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"strings"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/wizard"
)

// Options are the setup command's inputs.
type Options struct {
	IO      *iostreams.IOStreams
	Context context.Context
	Getenv  func(string) string
	// Deps builds the wizard's side effects (files, Postgres, Databricks CLI, schedule, doctor).
	Deps func() (wizard.Deps, error)

	Wizard         wizard.Options
	PasswordStdin  bool
	NonInteractive bool
	Args           []string
}

// NewCmd returns the 'setup' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	opts := &Options{}
	w := &opts.Wizard
	var hook string
	fs := cmdutil.NewFlagSet("setup")
	fs.StringVar(&w.Host, "host", "", "PostgreSQL `HOST` (Lakebase: instance-<uuid>.database.cloud.databricks.com)")
	fs.StringVar(&w.Port, "port", "", "PostgreSQL `PORT` (default 5432)")
	fs.StringVar(&w.Database, "database", "", "database `NAME` (default databricks_postgres)")
	fs.StringVar(&w.User, "user", "", "PostgreSQL `USER`, on Lakebase your Databricks e-mail")
	fs.StringVar(&w.SSLMode, "sslmode", "", "`MODE`: require, verify-ca or verify-full (default require)")
	fs.BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the PostgreSQL password from stdin (one line); else PGPASSWORD is used")
	fs.BoolVar(&w.SkipVerify, "skip-verify", false, "save without connecting to PostgreSQL first")
	fs.StringVar(&w.DatabricksHost, "databricks-host", "", "Databricks workspace `URL` (https://...)")
	fs.StringVar(&w.Profile, "profile", "", "Databricks CLI `PROFILE` to log in to (default "+wizard.DefaultProfile+")")
	fs.BoolVar(&w.SkipLogin, "skip-login", false, "do not run 'databricks auth login' (the CLI must already be logged in; without a workspace, leave Databricks out)")
	fs.StringVar(&w.Schedule, "schedule", "", "install the token rotation schedule: `KIND` auto, systemd, launchd, cron or none (headless default none)")
	fs.StringVar(&hook, "post-rotate-hook", "", "`CMD` to run after each token rotation, e.g. 'systemctl --user restart voyce-backend' (\"\" removes it)")
	fs.BoolVar(&opts.NonInteractive, "non-interactive", false, "never prompt, even on a terminal (also automatic when stdin or stdout is not a terminal)")
	return &cmdutil.Command{
		Name:  "setup",
		Short: "Guided first-time setup of PostgreSQL and Databricks credentials",
		Usage: "voyce-auth setup [flags]",
		Long: `Guided setup of your PostgreSQL (Lakebase) login, Databricks OAuth and token rotation.

On a terminal it asks, with your current values as defaults, checks each answer (it connects to
PostgreSQL before saving anything) and then writes ~/.pgpass (0600), the POSTGRES_*, DATABASE_URL and
DATABRICKS_* keys in .env (0600; every other line kept) and .gitignore entries, saying exactly what
changed. Safe to run again: Enter keeps each current value. Ctrl-C changes nothing.

Without a terminal (or with --non-interactive) it takes everything from flags, the environment and
the existing .env, and writes nothing unless every check passed. The password never goes on the
command line: pipe it to --password-stdin or set PGPASSWORD.`,
		Examples: `  # Interactive, on a terminal
  voyce-auth setup

  # Headless (CI, scripts): password from stdin, CLI already logged in
  printf '%s\n' "$PG_PASSWORD" | voyce-auth setup --password-stdin \
      --host instance-1234.database.cloud.databricks.com --user dev.user@example.com \
      --databricks-host https://adb-123.4.azuredatabricks.net --skip-login --schedule none

  # PostgreSQL only, password from PGPASSWORD
  PGPASSWORD=... voyce-auth setup --non-interactive --host HOST --user dev.user@example.com --skip-login`,
		Flags: fs,
		Run: func(args []string) error {
			opts.IO, opts.Context, opts.Getenv, opts.Args = f.IO, f.Context, f.Getenv, args
			fs.Visit(func(fl *flag.Flag) {
				if fl.Name == "post-rotate-hook" {
					h := hook
					w.PostRotateHook = &h
				}
			})
			opts.Deps = func() (wizard.Deps, error) { return realDeps(f) }
			return run(opts)
		},
	}
}

func run(opts *Options) error {
	if len(opts.Args) > 0 {
		return cmdutil.Usagef("setup takes no arguments (got %q); see 'voyce-auth setup --help'", opts.Args[0])
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	w := opts.Wizard
	w.Interactive = opts.IO.CanPrompt() && !opts.NonInteractive && !opts.PasswordStdin
	switch {
	case opts.PasswordStdin:
		if opts.IO.IsStdinTTY() {
			return cmdutil.Usagef("--password-stdin reads a password piped to stdin, e.g. printf '%%s\\n' \"$PG_PASSWORD\" | voyce-auth setup --password-stdin ...")
		}
		pw, err := readPasswordLine(opts.IO.In)
		if err != nil {
			return err
		}
		w.Password, w.PasswordSource = pw, "--password-stdin"
	case getenv("PGPASSWORD") != "":
		w.Password, w.PasswordSource = getenv("PGPASSWORD"), "PGPASSWORD"
	}

	deps, err := opts.Deps()
	if err != nil {
		return err
	}
	deps.IO = opts.IO
	if deps.Getenv == nil {
		deps.Getenv = getenv
	}
	err = wizard.Run(opts.Context, w, deps)
	var ue *wizard.UsageError
	var ce *wizard.CancelledError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ue):
		return cmdutil.Usagef("%s", ue.Msg)
	case errors.As(err, &ce):
		// The wizard has said what was kept from earlier sections.
		return &cmdutil.ExitCodeError{Code: cmdutil.ExitInterrupted}
	case errors.Is(err, wizard.ErrCancelled), errors.Is(err, context.Canceled):
		return cmdutil.ErrCancel
	case errors.Is(err, wizard.ErrFailed):
		return cmdutil.ErrSilent
	}
	return err
}

// readPasswordLine reads one line (without its line ending) from r.
func readPasswordLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", cmdutil.Usagef("--password-stdin: could not read stdin")
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", cmdutil.Usagef("--password-stdin: stdin held no password (pipe one line, e.g. printf '%%s\\n' \"$PG_PASSWORD\" | ...)")
	}
	return line, nil
}
