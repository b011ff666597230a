// Package doctor implements 'voyce-auth doctor'.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	schedulecmd "github.com/voyce/voyce-auth/cmd/schedule"
	"github.com/voyce/voyce-auth/doctor"
	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/prompt"
	"github.com/voyce/voyce-auth/internal/schedule"
)

// Options are the doctor command's inputs.
type Options struct {
	IO       *iostreams.IOStreams
	Prompter prompt.Prompter
	Context  context.Context
	Deps     *doctor.Deps
	// Checks builds the checks from Deps; nil means doctor.All.
	Checks func(*doctor.Deps) []doctor.Check
	// Width is the terminal's width for the streamed lines (0: 80).
	Width int

	Timeout time.Duration
	Verbose bool
	JSON    bool
	List    bool
	Fix     bool
	Yes     bool
	Only    []string
	Skip    []string
}

// listFlag collects comma-separated ids from one or more uses of a flag.
type listFlag struct{ ids *[]string }

func (l listFlag) String() string {
	if l.ids == nil {
		return ""
	}
	return strings.Join(*l.ids, ",")
}

func (l listFlag) Set(v string) error {
	for _, id := range strings.Split(v, ",") {
		if id = strings.TrimSpace(id); id != "" {
			*l.ids = append(*l.ids, id)
		}
	}
	return nil
}

// durationFlag is a time.Duration flag whose error says what is accepted.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(v string) error {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		return errors.New("must be a positive duration such as 5s or 800ms")
	}
	*f.d = d
	return nil
}

// NewCmd returns the 'doctor' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	opts := &Options{Timeout: doctor.DefaultTimeout}
	fs := cmdutil.NewFlagSet("doctor")
	fs.Var(durationFlag{&opts.Timeout}, "timeout", "time limit for the whole run, a `DURATION` such as 5s or 800ms (default 5s)")
	fs.BoolVar(&opts.Verbose, "v", false, "show details and each check's duration")
	fs.BoolVar(&opts.Verbose, "verbose", false, "same as -v")
	fs.BoolVar(&opts.JSON, "json", false, "print one JSON document instead of the report")
	fs.BoolVar(&opts.List, "list", false, "list the checks' ids and exit")
	fs.Var(listFlag{&opts.Only}, "only", "run only these checks (and what they need): `ids`, comma-separated")
	fs.Var(listFlag{&opts.Skip}, "skip", "leave out these checks: `ids`, comma-separated")
	fs.BoolVar(&opts.Fix, "fix", false, "repair what can be repaired (file modes, .gitignore), after showing the change")
	fs.BoolVar(&opts.Yes, "yes", false, "with --fix: apply without asking (needed when not on a terminal)")
	return &cmdutil.Command{
		Name:  "doctor",
		Short: "Check every part of the setup and print the exact fix for each problem",
		Usage: "voyce-auth doctor [flags]",
		Long: `Check every part of the setup and print the exact fix for each problem.

All checks start at once and the whole run ends within --timeout (default 5s): a check that does not answer
in time is reported as such, never waited for. Warnings (!) do not fail the run; failures (✗) do.
Exit status: 0 nothing failed, 1 something failed, 2 usage error.`,
		Examples: `  $ voyce-auth doctor                    # every check
  $ voyce-auth doctor -v                 # with details and durations
  $ voyce-auth doctor --only pg-login    # one check (and what it needs)
  $ voyce-auth doctor --json | jq '.checks[] | select(.status != "ok")'
  $ voyce-auth doctor --fix              # repair file modes and .gitignore, asking first
  $ voyce-auth doctor --fix --yes        # the same, without asking (scripts)`,
		Flags: fs,
		Run: func(args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("doctor: unexpected argument %q (see 'voyce-auth doctor --help')", args[0])
			}
			opts.IO = f.IO
			opts.Prompter = f.Prompter
			opts.Context = f.Context
			opts.Deps = DepsFrom(f, opts.Timeout)
			if f.IO.IsStderrTTY() {
				if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil {
					opts.Width = w
				}
			}
			return run(opts)
		},
	}
}

// DepsFrom builds the checks' dependencies from the Factory. timeout bounds the HTTP client as a backstop.
func DepsFrom(f *cmdutil.Factory, timeout time.Duration) *doctor.Deps {
	if timeout <= 0 {
		timeout = doctor.DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: timeout}
	return &doctor.Deps{
		Runner:     f.Runner,
		Clock:      f.Clock,
		Getenv:     f.Getenv,
		HomeDir:    f.HomeDir,
		WorkDir:    f.WorkDir,
		EnvFile:    f.EnvFile(),
		PgpassFile: f.PgpassFile(),
		ProjectDir: f.ProjectDir(),
		GOOS:       f.GOOS,
		Executable: f.Executable,
		HTTP: &http.Client{
			Timeout: timeout,
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           dialer.DialContext,
				TLSHandshakeTimeout:   timeout,
				ResponseHeaderTimeout: timeout,
			},
		},
		ScheduleStatus: func(ctx context.Context) (*schedule.StatusReport, error) {
			return scheduleStatus(ctx, f)
		},
	}
}

// scheduleStatus inspects the installed schedule with the values 'voyce-auth schedule status' uses.
func scheduleStatus(ctx context.Context, f *cmdutil.Factory) (*schedule.StatusReport, error) {
	spec, err := schedule.NewSpec(schedule.Auto, 0, schedulecmd.Machine(f))
	if err != nil {
		return nil, err
	}
	m := &schedule.Manager{Runner: f.Runner, Clock: f.Clock}
	return m.Status(ctx, spec)
}

func run(opts *Options) error {
	if opts.Timeout <= 0 {
		return cmdutil.Usagef("doctor: --timeout must be a positive duration such as 5s or 800ms")
	}
	if opts.Fix && opts.JSON {
		return cmdutil.Usagef("doctor: --fix and --json cannot be combined; run --fix on its own")
	}
	if opts.Fix && !opts.Yes && !opts.IO.CanPrompt() {
		return cmdutil.Usagef("doctor: --fix needs --yes when not run in a terminal (nothing was changed)")
	}
	build := opts.Checks
	if build == nil {
		build = doctor.All
	}
	all := build(opts.Deps)
	if opts.List {
		doctor.WriteList(opts.IO.Out, all)
		return nil
	}
	checks, err := doctor.Select(all, opts.Only, opts.Skip)
	if err != nil {
		return cmdutil.Usagef("doctor: %v", err)
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	cs := opts.IO.ColorScheme()
	runOpts := doctor.Options{Timeout: opts.Timeout, Clock: opts.Deps.Clock}

	stream := opts.IO.IsStderrTTY() && !opts.JSON
	streamed := 0
	if stream {
		width := opts.Width
		if width <= 0 {
			width = 80
		}
		fmt.Fprintf(opts.IO.ErrOut, "Running %d checks (at most %s)…\n", len(checks), opts.Timeout)
		streamed = 1
		runOpts.OnResult = func(o doctor.Outcome) {
			fmt.Fprintln(opts.IO.ErrOut, doctor.StreamLine(cs, o, width))
			streamed++
		}
	}
	outcomes := doctor.Run(ctx, checks, runOpts)
	if stream && opts.IO.IsStdoutTTY() {
		// The report below repeats every line in a stable order: replace the streamed lines with it.
		fmt.Fprintf(opts.IO.ErrOut, "\x1b[%dA\x1b[J", streamed)
	} else if stream {
		fmt.Fprintln(opts.IO.ErrOut)
	}

	if opts.JSON {
		if err := doctor.WriteJSON(opts.IO.Out, outcomes); err != nil {
			return err
		}
		return exitFor(outcomes)
	}
	doctor.WriteText(opts.IO.Out, cs, outcomes, opts.Verbose)
	if opts.Fix {
		outcomes, err = fix(ctx, opts, checks, outcomes, runOpts)
		if err != nil {
			return err
		}
	} else if _, err := os.Stat(opts.Deps.EnvFile); err != nil && selected(checks, "env-file") {
		fmt.Fprintf(opts.IO.ErrOut, "\nNew here? Start with 'voyce-auth setup' in your project folder: it writes .env and the "+
			"password file, and offers the rotation schedule. Then run 'voyce-auth doctor' again.\n")
	} else if plans := doctor.PlanFixes(checks, outcomes); len(plans) > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "\nRun 'voyce-auth doctor --fix' to repair %s (it shows the change and asks first).\n",
			plural(len(plans), "of these"))
	}
	return exitFor(outcomes)
}

func selected(checks []doctor.Check, id string) bool {
	for _, c := range checks {
		if c.ID() == id {
			return true
		}
	}
	return false
}

func plural(n int, what string) string {
	if n == 1 {
		return "one " + what
	}
	return fmt.Sprintf("%d %s", n, what)
}

// fix shows the planned changes, asks (unless --yes), applies them and reports each re-checked result.
func fix(ctx context.Context, opts *Options, checks []doctor.Check, outcomes []doctor.Outcome,
	runOpts doctor.Options) ([]doctor.Outcome, error) {
	w := opts.IO.Out
	cs := opts.IO.ColorScheme()
	plans := doctor.PlanFixes(checks, outcomes)
	if len(plans) == 0 {
		fmt.Fprintln(w, "\nNothing here that --fix can change; follow the fix lines above.")
		return outcomes, nil
	}
	fmt.Fprintln(w, "\n--fix will:")
	for _, p := range plans {
		fmt.Fprintf(w, "  • %s  (%s)\n", p.Change, p.Outcome.ID)
	}
	if !opts.Yes {
		okay, err := opts.Prompter.Confirm("Apply these changes?", false)
		if errors.Is(err, prompt.ErrInterrupted) {
			return nil, cmdutil.ErrCancel
		}
		if err != nil {
			return nil, err
		}
		if !okay {
			fmt.Fprintln(w, "Nothing was changed.")
			return outcomes, nil
		}
	}
	runOpts.OnResult = nil
	fixed := map[string]bool{}
	for _, fr := range doctor.ApplyFixes(ctx, plans, runOpts) {
		if fr.Err != nil {
			fmt.Fprintf(w, "  %s %s: could not %s: %v\n", cs.FailureIcon(), fr.ID, fr.Change, fr.Err)
			continue
		}
		fixed[fr.ID] = true
		fmt.Fprintf(w, "  %s %s: %s\n", doctor.Mark(cs, fr.After.Result.Status), fr.ID, fr.After.Result.Message)
	}
	// A fix can settle other checks too (a 0600 .pgpass is also a password source again): check everything
	// again and say what changed.
	again := doctor.Run(ctx, checks, runOpts)
	before := map[string]doctor.Status{}
	for _, o := range outcomes {
		before[o.ID] = o.Result.Status
	}
	for _, o := range again {
		if !fixed[o.ID] && before[o.ID] != o.Result.Status {
			fmt.Fprintf(w, "  %s %s: %s\n", doctor.Mark(cs, o.Result.Status), o.ID, o.Result.Message)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, doctor.SummaryLine(cs, doctor.Summarize(again)))
	return again, nil
}

func exitFor(outcomes []doctor.Outcome) error {
	if doctor.Failed(outcomes) {
		return cmdutil.ErrSilent
	}
	return nil
}

// QuickChecks returns the function the setup wizard calls at its end: it runs the doctor's quick checks
// (doctor.QuickIDs) with the Factory's dependencies and writes the report to w; the error is
// doctor.ErrProblems when something failed.
func QuickChecks(f *cmdutil.Factory) func(ctx context.Context, w io.Writer) error {
	return func(ctx context.Context, w io.Writer) error {
		return doctor.RunQuick(ctx, DepsFrom(f, doctor.DefaultTimeout), w, f.IO.ColorScheme(), doctor.DefaultTimeout)
	}
}
