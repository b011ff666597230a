// Package wizard is the conversation behind `voyce-auth setup`: the questions, their defaults and re-asks,
// the checks before anything is saved, and what is saved. It talks to a prompt.Prompter and to small
// interfaces for every side effect (verifying Postgres, saving files, the Databricks CLI, the schedule, the
// doctor's quick checks), so the whole flow runs in tests with prompt.Scripted and fakes.
//
// Guarantees:
//   - Nothing is written before the answers of a section are verified; each section is saved in one step
//     at its end (interactive), or everything in one step at the very end (headless), so a failed or
//     cancelled section leaves every file as it was.
//   - Ctrl-C at a prompt returns an error that Is ErrCancelled.
//   - No secret is printed, logged or put in an error.
package wizard

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/prompt"
)

// Defaults for a new setup (Lakebase's values).
const (
	DefaultPort     = 5432
	DefaultDatabase = "databricks_postgres"
	DefaultSSLMode  = "require"
	// DefaultProfile is the Databricks CLI profile setup logs in to. A profile of its own (not DEFAULT)
	// never overwrites a profile the person already uses for another workspace, and DATABRICKS_CONFIG_PROFILE
	// in .env points the backend's SDK at it.
	DefaultProfile = "voyce"
)

// Schedule kinds accepted by Options.Schedule.
var ScheduleKinds = []string{"auto", "systemd", "launchd", "cron", "none"}

// Options are the answers given up front (the headless flags). In interactive mode a value given here is
// used without asking its question.
type Options struct {
	// Interactive asks questions; otherwise everything comes from these options, the environment and the
	// existing .env.
	Interactive bool

	Host     string
	Port     string // as typed; validated 1-65535
	Database string
	User     string
	SSLMode  string

	// Password is the Postgres password read from --password-stdin or PGPASSWORD ("" when none).
	Password string
	// PasswordSource names where Password came from ("--password-stdin", "PGPASSWORD"), for messages.
	PasswordSource string
	// SkipVerify saves without connecting first.
	SkipVerify bool

	DatabricksHost string
	Profile        string
	// SkipLogin does not run `databricks auth login`; the token is still read with `databricks auth token`
	// when a workspace is configured.
	SkipLogin bool

	// Schedule is auto, systemd, launchd, cron or none; "" asks (interactive) or means none (headless).
	Schedule string
	// PostRotateHook, when not nil, is the command `rotate` runs after each rotation ("" removes it).
	PostRotateHook *string
}

// UsageError is a wrong or missing option in headless mode: one line naming the flag. Nothing was written.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

var (
	// ErrCancelled is returned when the person pressed Ctrl-C (it wraps prompt.ErrInterrupted). Nothing of
	// the section in progress was written.
	ErrCancelled = fmt.Errorf("setup cancelled: %w", prompt.ErrInterrupted)
	// ErrFailed means setup stopped and has already said why (exit 1).
	ErrFailed = errors.New("setup failed")
)

// CancelledError is returned (and Is ErrCancelled) when the person cancelled after an earlier section was
// saved; the wizard has already said what was kept.
type CancelledError struct{ Kept []string }

func (e *CancelledError) Error() string { return ErrCancelled.Error() }

// Is makes errors.Is(err, ErrCancelled) true.
func (e *CancelledError) Is(target error) bool { return target == ErrCancelled }

// Unwrap returns prompt.ErrInterrupted.
func (e *CancelledError) Unwrap() error { return prompt.ErrInterrupted }

// Deps are the wizard's side effects.
type Deps struct {
	IO       *iostreams.IOStreams
	Prompter prompt.Prompter
	Store    Store
	Postgres Postgres
	// Databricks runs the Databricks CLI and judges tokens.
	Databricks Databricks
	// InstallSchedule installs the rotation schedule of the given kind (auto picks one) and returns what it
	// did, one line per item. nil: scheduling is not available in this build.
	InstallSchedule func(ctx context.Context, kind string) ([]string, error)
	// QuickChecks runs the doctor's quick checks, printing to w; databricks is false when Databricks is not
	// set up (its checks are then left out). nil when not available.
	QuickChecks func(ctx context.Context, w io.Writer, databricks bool) error
	// Getenv reads the environment (PGPASSWORD is looked at, never printed).
	Getenv func(string) string
}

// Run runs the whole setup.
func Run(ctx context.Context, opts Options, d Deps) error {
	w := &wizard{ctx: ctx, opts: opts, d: d, out: d.IO.ErrOut, cs: d.IO.ColorScheme()}
	return w.run()
}

type wizard struct {
	ctx  context.Context
	opts Options
	d    Deps
	out  io.Writer
	cs   *iostreams.ColorScheme

	state State
	// saved lists the sections written so far ("PostgreSQL", ...), for the cancel message and summary.
	saved   []string
	summary []string
	// hasToken: a Databricks token was saved or found, so rotation makes sense.
	hasToken bool
	// problems counts failures that did not stop setup (e.g. the schedule); setup then exits 1.
	problems int
}

func (w *wizard) printf(format string, a ...any) { fmt.Fprintf(w.out, format, a...) }

func (w *wizard) getenv(k string) string {
	if w.d.Getenv == nil {
		return ""
	}
	return w.d.Getenv(k)
}

// cancelled turns a prompt interruption or a cancelled context into the cancel error.
func (w *wizard) cancelled(err error) error {
	if len(w.saved) > 0 {
		w.printf("\nCancelled. Kept what was saved above (%s); nothing else was changed.\n", joinAnd(w.saved))
		return &CancelledError{Kept: append([]string(nil), w.saved...)}
	}
	return ErrCancelled
}

func isInterrupt(err error) bool {
	return errors.Is(err, prompt.ErrInterrupted) || errors.Is(err, context.Canceled)
}

func (w *wizard) run() error {
	st, err := w.d.Store.Load()
	if err != nil {
		w.printf("%s Could not read the current setup: %v\n", w.cs.FailureIcon(), err)
		return ErrFailed
	}
	w.state = st
	w.hasToken = st.Token != ""
	err = w.flow()
	if err != nil && isInterrupt(err) && !errors.Is(err, ErrCancelled) {
		return w.cancelled(err)
	}
	return err
}

func (w *wizard) flow() error {
	if err := checkSchedule(w.opts.Schedule); err != nil {
		return err
	}
	if !w.opts.Interactive {
		return w.headless()
	}
	w.printf("%s\n", w.cs.Bold("Voyce developer setup"))
	w.printf("Files: %s and %s\n", w.d.Store.EnvFile(), w.d.Store.PgpassFile())
	if w.state.HasPostgres() {
		choice, err := w.existingMenu()
		if err != nil {
			return err
		}
		switch choice {
		case menuPassword:
			if err := w.passwordOnly(); err != nil {
				return err
			}
			return w.finish()
		case menuDatabricks:
			if err := w.databricksSection(true); err != nil {
				return err
			}
			return w.finish()
		case menuQuit:
			w.printf("Nothing was changed.\n")
			return nil
		}
	} else {
		w.printf("\nThis sets up your Lakebase (PostgreSQL) login, Databricks OAuth and rotation.\n")
		w.printf("Nothing is saved until each part has been checked; Ctrl-C stops at any time.\n")
	}
	if err := w.postgresSection(); err != nil {
		return err
	}
	if err := w.databricksSection(false); err != nil {
		return err
	}
	if err := w.rotationSection(); err != nil {
		return err
	}
	return w.finish()
}

const (
	menuPassword = iota
	menuDatabricks
	menuAll
	menuQuit
)

func (w *wizard) existingMenu() (int, error) {
	st := w.state
	w.printf("\nFound an existing setup:\n")
	w.printf("  PostgreSQL  %s\n", st.Conn.describe())
	if _, ok, _ := w.d.Store.SavedPassword(st.Conn); ok {
		w.printf("              password saved in %s\n", w.d.Store.PgpassFile())
	} else {
		w.printf("              %s no password saved in %s\n", w.cs.WarningIcon(), w.d.Store.PgpassFile())
	}
	if st.DatabricksHost != "" {
		w.printf("  Databricks  %s (profile %s)\n", st.DatabricksHost, orDefault(st.Profile, DefaultProfile))
	}
	if st.Token != "" && w.d.Databricks != nil {
		if info, err := w.d.Databricks.Inspect(st.Token, st.DatabricksHost); err == nil {
			w.printf("              token for %s, %s\n", info.Subject, w.expiryText(info))
		} else {
			w.printf("              %s token: %s\n", w.cs.WarningIcon(), problemText(err))
		}
	}
	w.printf("\n")
	return w.d.Prompter.Select("What would you like to do?", []string{
		"Update the PostgreSQL password (it was changed in the workspace)",
		"Log in to Databricks again",
		"Reconfigure everything",
		"Quit",
	}, menuAll)
}

// finish ends an interactive run: the summary, the doctor's quick checks, the next steps.
func (w *wizard) finish() error {
	if w.opts.Interactive {
		if len(w.summary) > 0 {
			w.printf("\n%s\n", w.cs.Bold("Summary"))
			for _, s := range w.summary {
				w.printf("  %s\n", s)
			}
		}
	}
	if err := w.quickChecks(); err != nil {
		return err
	}
	if w.opts.Interactive {
		w.nextSteps()
	}
	if w.problems > 0 {
		return ErrFailed
	}
	return nil
}

// nextSteps says where the password lives for each reader, and what to run next.
func (w *wizard) nextSteps() {
	w.printf("\n%s\n", w.cs.Bold("Next"))
	w.printf("  voyce-auth info     connection details for psql, DBeaver and the backend\n")
	w.printf("  voyce-auth doctor   check everything, with the fix for each problem\n")
	w.printf("  The backend takes the password from $PGPASSWORD (.env holds only the reference ${PGPASSWORD});\n")
	w.printf("  psql and voyce-auth find it in the password file (.pgpass).\n")
}

func (w *wizard) quickChecks() error {
	if w.d.QuickChecks == nil {
		return nil
	}
	w.printf("\n%s\n", w.cs.Bold("Checking the result (voyce-auth doctor, quick checks)"))
	if err := w.d.QuickChecks(w.ctx, w.out, w.hasToken); err != nil {
		if isInterrupt(err) {
			return err
		}
		w.printf("%s The settings are saved, but the checks above found problems: fix them, then run 'voyce-auth doctor'.\n", w.cs.WarningIcon())
		return ErrFailed
	}
	return nil
}

// save writes one section's changes and prints, file by file, what changed.
func (w *wizard) save(section string, ch Changes) error {
	changes, err := w.d.Store.Save(ch)
	if err != nil {
		w.printf("%s Could not save the %s settings: %s\n", w.cs.FailureIcon(), section, problemText(err))
		return ErrFailed
	}
	w.saved = append(w.saved, section)
	w.printChanges(changes)
	return nil
}

func (w *wizard) printChanges(changes []FileChange) {
	any := false
	for _, c := range changes {
		if len(c.Changes) > 0 {
			any = true
		}
	}
	if !any {
		w.printf("%s Files already up to date; nothing changed.\n", w.cs.SuccessIcon())
		return
	}
	w.printf("%s Saved:\n", w.cs.SuccessIcon())
	for _, c := range changes {
		if len(c.Changes) == 0 {
			continue
		}
		w.printf("  %s\n", c.Path)
		for _, line := range c.Changes {
			w.printf("    - %s\n", line)
		}
	}
}

// quit stops at the person's request.
func (w *wizard) quit() error {
	if len(w.saved) > 0 {
		w.printf("Stopped. Kept what was saved above (%s); nothing else was changed.\n", joinAnd(w.saved))
	} else {
		w.printf("Stopped; nothing was changed.\n")
	}
	return ErrFailed
}

// spacer prints the blank line that goes before a question whose answer may be long: survey miscounts a
// typed answer that wraps past the terminal's width and then erases the line above the question; a blank
// line keeps the text above intact.
func (w *wizard) spacer() {
	if w.d.IO.IsStdoutTTY() {
		w.printf("\n")
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := ""
	for i, v := range s {
		switch {
		case i == 0:
			out = v
		case i == len(s)-1:
			out += " and " + v
		default:
			out += ", " + v
		}
	}
	return out
}
