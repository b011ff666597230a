// Package password implements 'voyce-auth password': store a Postgres password that was changed elsewhere,
// or rotate it on the server, without ever losing access.
package password

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/pg"
	"github.com/voyce/voyce-auth/internal/prompt"
)

// Store is where the command finds the connection settings and keeps the password.
type Store interface {
	// Conn reads the connection settings (from .env); Password is left empty.
	Conn() (pg.Params, error)
	// Saved returns the password the password file holds for p (found false when it has no entry).
	Saved(p pg.Params) (password string, found bool, err error)
	// CheckStorable says why the password file cannot hold p's entry with password (nil when it can).
	CheckStorable(p pg.Params, password string) error
	// Save upserts the entry for p; on error the file is unchanged. changed is false when it already held
	// it; detail says what was done, without the password (e.g. "replaced at line 3").
	Save(p pg.Params, password string) (changed bool, detail string, err error)
	// PasswordFile is the password file's path, for messages.
	PasswordFile() string
	// EnvFile is the .env path, for messages.
	EnvFile() string
	// LiteralPasswordKeys lists .env keys that hold a password written out (not ${PGPASSWORD}).
	LiteralPasswordKeys() []string
}

// Options are the command's inputs.
type Options struct {
	IO       *iostreams.IOStreams
	Prompter prompt.Prompter
	Getenv   func(string) string
	Store    Store
	Context  context.Context

	OnServer      bool
	PasswordStdin bool
	Generate      bool
	Show          bool
	Timeout       time.Duration

	// AfterAlter, when set, runs after the server accepted the new password and before the second
	// connection (with --on-server); an error is handled like any failure after the ALTER. Tests inject
	// failures with it.
	AfterAlter func(ctx context.Context) error
}

// NewCmd returns the 'password' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	opts := &Options{}
	fs := cmdutil.NewFlagSet("password")
	fs.BoolVar(&opts.OnServer, "on-server", false, "set a new password on the server (native password roles), then save it")
	fs.BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the new password from stdin instead of asking")
	fs.BoolVar(&opts.Generate, "generate", false, "with --on-server: generate a random 32-character password")
	fs.BoolVar(&opts.Show, "show", false, "with --generate: print the generated password to stderr")
	fs.DurationVar(&opts.Timeout, "timeout", pg.DefaultConnectTimeout, "give up on a connection attempt after `DURATION`")
	return &cmdutil.Command{
		Name:  "password",
		Short: "Change the PostgreSQL password without losing access",
		Usage: "voyce-auth password [--on-server] [--password-stdin | --generate [--show]] [flags]",
		Long: `Change the PostgreSQL password in one step that cannot half-happen.

Without --on-server, the password was changed elsewhere (e.g. in the Databricks admin console): voyce-auth
asks for the new one, checks that it logs in, and only then saves it in the password file (.pgpass).

With --on-server, voyce-auth logs in with the current password (from .pgpass, else PGPASSWORD), sets the new
one with ALTER ROLE (sending a SCRAM-SHA-256 verifier computed here, so the cleartext never reaches the
server), checks on a second connection that it logs in, and only then saves it. If anything fails after the
change, the old password is set back and .pgpass is left as it was.

The connection settings come from .env (POSTGRES_HOST, POSTGRES_PORT, POSTGRES_DB, POSTGRES_USER,
POSTGRES_SSLMODE). Without a terminal, give the new password on stdin (--password-stdin) or use --generate.`,
		Examples: `  # The password was changed in the admin console: store the new one
  voyce-auth password

  # Rotate it on the server to a new random password
  voyce-auth password --on-server --generate

  # Headless: the new password comes from a secret manager, never from argv
  secret-tool lookup db voyce | voyce-auth password --on-server --password-stdin`,
		Flags: fs,
		Run: func(args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("password: takes no arguments (a password on the command line ends up in shell history and ps; use --password-stdin or the prompt)")
			}
			opts.IO = f.IO
			opts.Prompter = f.Prompter
			opts.Getenv = f.Getenv
			opts.Context = f.Context
			opts.Store = NewFileStore(f.EnvFile(), f.PgpassFile(), f.Getenv)
			return run(opts)
		},
	}
}

func (o *Options) getenv(k string) string {
	if o.Getenv == nil {
		return ""
	}
	return o.Getenv(k)
}

func (o *Options) ctx() context.Context {
	if o.Context == nil {
		return context.Background()
	}
	return o.Context
}

func run(opts *Options) error {
	switch {
	case opts.Generate && !opts.OnServer:
		return cmdutil.Usagef("password: --generate needs --on-server (a password changed elsewhere cannot be generated here)")
	case opts.Generate && opts.PasswordStdin:
		return cmdutil.Usagef("password: use either --generate or --password-stdin, not both")
	case opts.Show && !opts.Generate:
		return cmdutil.Usagef("password: --show only goes with --generate")
	case opts.Timeout <= 0:
		return cmdutil.Usagef("password: --timeout must be a positive duration such as 10s")
	}
	if !opts.IO.CanPrompt() && !opts.PasswordStdin && !opts.Generate {
		return cmdutil.Usagef("password: not running in a terminal, so the new password cannot be asked for: " +
			"pass it on stdin with --password-stdin (or use --on-server --generate)")
	}
	p, err := opts.Store.Conn()
	if err != nil {
		return err
	}
	p.ConnectTimeout = opts.Timeout
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%s: %w (run 'voyce-auth setup' to fix the settings)", opts.Store.EnvFile(), err)
	}
	if opts.OnServer {
		return runOnServer(opts, p)
	}
	return runElsewhere(opts, p)
}

// readStdin reads the password from stdin: everything up to EOF, without one trailing line ending.
func readStdin(in io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(in, 4097))
	if err != nil {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	if len(b) > 4096 {
		return "", errors.New("the password on stdin is longer than 4096 bytes")
	}
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	if s == "" {
		return "", errors.New("no password on stdin (--password-stdin reads it until end of input)")
	}
	return s, nil
}

// newPassword gets the new password from stdin, --generate or the prompt (asked twice when confirm).
func newPassword(opts *Options, who string, confirm bool) (pw string, generated bool, err error) {
	switch {
	case opts.Generate:
		pw, err = pg.GeneratePassword(pg.GenerateLength)
		return pw, true, err
	case opts.PasswordStdin:
		pw, err = readStdin(opts.IO.In)
		return pw, false, err
	}
	pw, err = opts.Prompter.Password("New password for " + who + ":")
	if err != nil {
		return "", false, promptErr(err)
	}
	if pw == "" {
		return "", false, errors.New("no password given; nothing was changed")
	}
	if confirm {
		again, err := opts.Prompter.Password("Repeat the new password:")
		if err != nil {
			return "", false, promptErr(err)
		}
		if again != pw {
			return "", false, errors.New("the two passwords differ; nothing was changed")
		}
	}
	return pw, false, nil
}

func promptErr(err error) error {
	if errors.Is(err, prompt.ErrInterrupted) {
		return cmdutil.ErrCancel
	}
	return err
}

// checkNew refuses a password the credential files or the clients cannot use, before anything is touched.
func checkNew(opts *Options, p pg.Params, pw string) error {
	if err := pg.CheckPassword(pw); err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	if err := opts.Store.CheckStorable(p, pw); err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	return nil
}

func tlsNote(info *pg.ServerInfo) string {
	if info == nil {
		return ""
	}
	if info.SSL {
		return " (TLS " + strings.TrimPrefix(info.SSLVersion, "TLSv") + ")"
	}
	return " (not encrypted)"
}

// runElsewhere: the password was changed elsewhere; verify it and store it.
func runElsewhere(opts *Options, p pg.Params) error {
	out := opts.IO.ErrOut
	cs := opts.IO.ColorScheme()
	fmt.Fprintf(out, "Postgres: %s (settings from %s)\n", p, opts.Store.EnvFile())
	pw, _, err := newPassword(opts, p.User, false)
	if err != nil {
		return err
	}
	if err := checkNew(opts, p, pw); err != nil {
		return err
	}
	np := p
	np.Password = pw
	info, err := pg.Verify(opts.ctx(), np)
	if err != nil {
		pr := pg.Classify(err, np)
		fmt.Fprintf(out, "%s %s\n", cs.FailureIcon(), pr.Message)
		fix := pr.Fix
		if pr.Cause == pg.CauseWrongPassword {
			fix = "Check that this is the password set for " + p.User + " (e.g. in the Databricks admin console) and run 'voyce-auth password' again"
		}
		fmt.Fprintf(out, "  Fix: %s\n", fix)
		fmt.Fprintf(out, "Nothing was changed: %s is as it was.\n", opts.Store.PasswordFile())
		return cmdutil.ErrSilent
	}
	fmt.Fprintf(out, "%s Logged in to %s as %s with the new password%s\n", cs.SuccessIcon(), p.Addr(), p.User, tlsNote(info))
	changed, detail, err := opts.Store.Save(p, pw)
	if err != nil {
		return fmt.Errorf("saving the password in %s: %w (the new password works; nothing was written)", opts.Store.PasswordFile(), err)
	}
	if changed {
		fmt.Fprintf(out, "%s Saved it in %s (entry %s, %s)\n", cs.SuccessIcon(), opts.Store.PasswordFile(), entryName(p), detail)
	} else {
		fmt.Fprintf(out, "%s %s already holds this password; nothing to change\n", cs.SuccessIcon(), opts.Store.PasswordFile())
	}
	warnPGPASSWORD(opts, pw)
	warnLiteral(opts)
	return nil
}

func entryName(p pg.Params) string {
	return fmt.Sprintf("%s:%d:%s:%s", p.Host, p.Port, p.Database, p.User)
}

// warnLiteral says when .env holds a password written out: it still holds the old one.
func warnLiteral(opts *Options) {
	keys := opts.Store.LiteralPasswordKeys()
	if len(keys) == 0 {
		return
	}
	cs := opts.IO.ColorScheme()
	fmt.Fprintf(opts.IO.ErrOut, "%s %s sets %s to a password written out, which still holds the old one.\n",
		cs.WarningIcon(), opts.Store.EnvFile(), strings.Join(keys, " and "))
	fmt.Fprintf(opts.IO.ErrOut, "  Fix: in %s write POSTGRES_PASSWORD=${PGPASSWORD} and delete any PGPASSWORD=... line (the password then comes from %s)\n",
		opts.Store.EnvFile(), opts.Store.PasswordFile())
}

// warnPGPASSWORD says when PGPASSWORD holds another password: it overrides .pgpass for psql, libpq and the
// backend (POSTGRES_PASSWORD=${PGPASSWORD}).
func warnPGPASSWORD(opts *Options, newPw string) {
	env := opts.getenv("PGPASSWORD")
	if env == "" || env == newPw {
		return
	}
	cs := opts.IO.ColorScheme()
	fmt.Fprintf(opts.IO.ErrOut, "%s PGPASSWORD is set in this shell and holds the old password; it overrides %s for psql and the backend.\n",
		cs.WarningIcon(), opts.Store.PasswordFile())
	fmt.Fprintf(opts.IO.ErrOut, "  Fix: run 'unset PGPASSWORD' and remove it from your shell profile, so the new password in %s is used\n",
		opts.Store.PasswordFile())
}

// currentPassword finds the password to log in with before the change: the .pgpass entry, else PGPASSWORD,
// else (on a terminal) a prompt.
func currentPassword(opts *Options, p pg.Params) (pw, source string, err error) {
	saved, found, err := opts.Store.Saved(p)
	if err != nil {
		return "", "", fmt.Errorf("reading %s: %w", opts.Store.PasswordFile(), err)
	}
	if found && saved != "" {
		return saved, opts.Store.PasswordFile(), nil
	}
	if env := opts.getenv("PGPASSWORD"); env != "" {
		return env, "PGPASSWORD", nil
	}
	if !opts.IO.CanPrompt() || opts.PasswordStdin {
		return "", "", fmt.Errorf("no current password: %s has no entry %s and PGPASSWORD is not set; "+
			"store it first with 'voyce-auth password', or run this in a terminal to be asked", opts.Store.PasswordFile(), entryName(p))
	}
	pw, err = opts.Prompter.Password("Current password for " + p.User + ":")
	if err != nil {
		return "", "", promptErr(err)
	}
	return pw, "the prompt", nil
}

// runOnServer rotates the password on the server.
func runOnServer(opts *Options, p pg.Params) error {
	out := opts.IO.ErrOut
	cs := opts.IO.ColorScheme()
	fmt.Fprintf(out, "Postgres: %s (settings from %s)\n", p, opts.Store.EnvFile())
	current, source, err := currentPassword(opts, p)
	if err != nil {
		return err
	}
	pw, generated, err := newPassword(opts, p.User, true)
	if err != nil {
		return err
	}
	if err := checkNew(opts, p, pw); err != nil {
		return err
	}
	if pw == current {
		return errors.New("the new password is the same as the current one; nothing was changed")
	}
	cp := p
	cp.Password = current
	saved, detail := false, ""
	res, err := pg.ChangePassword(opts.ctx(), cp, pw, pg.ChangeOptions{
		AfterAlter: opts.AfterAlter,
		Commit: func() error {
			var err error
			_, detail, err = opts.Store.Save(p, pw)
			saved = err == nil
			return err
		},
	})
	var ce *pg.ChangeError
	if err != nil && !errors.As(err, &ce) {
		return err
	}
	if err != nil && ce.Stage == pg.StageConnect {
		fmt.Fprintf(out, "%s Could not log in with the current password (from %s): %s\n", cs.FailureIcon(), source, ce.Reason())
		if ce.Problem != nil {
			fix := ce.Problem.Fix
			if ce.Problem.Cause == pg.CauseWrongPassword {
				fix = "If the password was already changed elsewhere, store it with 'voyce-auth password' (without --on-server), then rotate"
			}
			fmt.Fprintf(out, "  Fix: %s\n", fix)
		}
		fmt.Fprintln(out, "Nothing was changed.")
		return cmdutil.ErrSilent
	}
	fmt.Fprintf(out, "%s Logged in as %s with the current password (from %s)%s\n", cs.SuccessIcon(), p.User, source,
		map[bool]string{true: " over TLS", false: ", not encrypted"}[res.SSL])
	if err != nil && ce.Stage == pg.StageAlter && !res.Altered {
		fmt.Fprintf(out, "%s The server did not take the new password: %s\n", cs.FailureIcon(), ce.Reason())
		fmt.Fprintln(out, "  Fix: a role whose password is a Databricks OAuth token cannot be changed this way; use 'voyce-auth rotate'. Otherwise ask the workspace admin.")
		fmt.Fprintln(out, "Nothing was changed.")
		return cmdutil.ErrSilent
	}
	fmt.Fprintf(out, "%s Changed the password on the server (sent as a SCRAM-SHA-256 verifier, never in cleartext)\n", cs.SuccessIcon())
	if err == nil {
		fmt.Fprintf(out, "%s Logged in with the new password on a second connection\n", cs.SuccessIcon())
		fmt.Fprintf(out, "%s Saved it in %s (entry %s, %s)\n", cs.SuccessIcon(), opts.Store.PasswordFile(), entryName(p), detail)
		if generated && opts.Show {
			fmt.Fprintf(out, "New password: %s\n", pw)
		}
		warnPGPASSWORD(opts, pw)
		warnLiteral(opts)
		return nil
	}

	// Something failed after the ALTER.
	switch ce.Stage {
	case pg.StageAlter:
		fmt.Fprintf(out, "%s The change was interrupted after the server took it: %s\n", cs.FailureIcon(), ce.Reason())
	case pg.StageVerify:
		fmt.Fprintf(out, "%s The new password did not log in on a second connection: %s\n", cs.FailureIcon(), ce.Reason())
	case pg.StageCommit:
		fmt.Fprintf(out, "%s Logged in with the new password on a second connection\n", cs.SuccessIcon())
		fmt.Fprintf(out, "%s Could not save it in %s: %v\n", cs.FailureIcon(), opts.Store.PasswordFile(), ce.Err)
	default:
		fmt.Fprintf(out, "%s Failed after the change: %v\n", cs.FailureIcon(), ce.Err)
	}
	if ce.RestoreErr == nil {
		fmt.Fprintf(out, "%s Set the old password back on the server; %s was not changed. Everything is as before.\n",
			cs.SuccessIcon(), opts.Store.PasswordFile())
		if ce.Problem != nil {
			fmt.Fprintf(out, "  Fix: %s\n", ce.Problem.Fix)
		}
		return cmdutil.ErrSilent
	}
	// The server keeps the new password: make sure the person keeps it too.
	fmt.Fprintf(out, "%s Could not set the old password back: %v\n", cs.FailureIcon(), ce.RestoreErr)
	if !saved {
		if _, _, err := opts.Store.Save(p, pw); err == nil {
			fmt.Fprintf(out, "%s The server has the NEW password; saved it in %s so you keep access\n",
				cs.WarningIcon(), opts.Store.PasswordFile())
			return cmdutil.ErrSilent
		}
		// Last resort: the only copy of the password is in this process. Show it only to a person at a
		// terminal, never into a log.
		if opts.IO.IsStderrTTY() {
			fmt.Fprintf(out, "%s The server has the NEW password and it could not be saved. Keep it now: %s\n",
				cs.FailureIcon(), pw)
		} else {
			fmt.Fprintf(out, "%s The server has the NEW password and it could not be saved.\n  Fix: ask the workspace admin to reset the password of %s, then run 'voyce-auth password'\n",
				cs.FailureIcon(), p.User)
		}
	}
	return cmdutil.ErrSilent
}
