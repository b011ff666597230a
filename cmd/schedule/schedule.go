// Package schedule implements 'voyce-auth schedule': install, remove, status and print of the schedule
// that runs 'voyce-auth rotate' unattended.
package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/schedule"
	"github.com/voyce/voyce-auth/templates"
)

// Options are the schedule command's inputs. NewCmd fills them from the Factory; tests set them directly.
type Options struct {
	IO      *iostreams.IOStreams
	Context context.Context
	Manager *schedule.Manager

	Action   string // install, remove, status, print
	Kind     string
	Interval time.Duration // 0: the default (install, print) or the installed one (status)
	JSON     bool

	// Machine is the binary (f.Executable), .env (f.EnvFile), project folder (f.ProjectDir), databricks
	// look-up (f.Runner), GOOS, home, environment, and the user id (os.Getuid in production).
	Machine schedule.Machine
}

const long = `Install, inspect or remove the schedule that runs 'voyce-auth rotate' unattended.

The schedule runs '<this binary> rotate --env-file <project>/.env' in the project folder every 5 minutes
(--interval) and once after boot/login; rotate itself does nothing unless the token is close to expiring.

  install   write and enable it: a systemd user timer (voyce-oauth-rotation.service/.timer), a launchd
            LaunchAgent (com.voyce.oauth-rotation) or a marked crontab block. --kind auto (the default)
            picks launchd on macOS, systemd when 'systemctl --user' answers, else cron, and says why.
            Installing again changes nothing; after moving the binary or the project, install again.
  remove    undo what install did (for auto: every kind found installed), nothing else.
  status    installed or not, enabled/active, next and last run, whether the installed files still match
            what install would write now, and the last line of logs/oauth-rotation.log. Exit 1 when
            something needs fixing. --json for scripts.
  print     show what install would write, without installing.`

const examples = `  $ voyce-auth schedule install                 # pick the scheduler for this machine
  $ voyce-auth schedule install --kind cron     # cron, e.g. where there is no systemd user session
  $ voyce-auth schedule install --interval 10m
  $ voyce-auth schedule status
  $ voyce-auth schedule status --json | jq .next_run
  $ voyce-auth schedule print --kind systemd    # review the unit files
  $ voyce-auth schedule remove`

// NewCmd returns the 'schedule' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	opts := &Options{}
	fs := cmdutil.NewFlagSet("schedule")
	fs.StringVar(&opts.Kind, "kind", "auto", "the scheduler `KIND`: auto (the default), systemd, launchd or cron")
	fs.DurationVar(&opts.Interval, "interval", 0, "how often to run rotate, a `DURATION` such as 10m (install, print; default 5m)")
	fs.BoolVar(&opts.JSON, "json", false, "status: print one JSON object")
	return &cmdutil.Command{
		Name:     "schedule",
		Short:    "Install, inspect or remove the unattended rotation schedule",
		Usage:    "voyce-auth schedule <install|remove|status|print> [flags]",
		Long:     long,
		Examples: examples,
		Flags:    fs,
		Run: func(args []string) error {
			if len(args) == 0 {
				return cmdutil.Usagef("schedule: an action is required: install, remove, status or print (see 'voyce-auth schedule --help')")
			}
			if len(args) > 1 {
				return cmdutil.Usagef("schedule: unexpected argument %q (see 'voyce-auth schedule --help')", args[1])
			}
			set := map[string]bool{}
			fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
			opts.Action = args[0]
			if err := checkFlags(opts.Action, set); err != nil {
				return err
			}
			opts.IO = f.IO
			opts.Context = f.Context
			opts.Manager = &schedule.Manager{Runner: f.Runner, Clock: f.Clock}
			opts.Machine = Machine(f)
			return run(opts)
		},
	}
}

// Machine describes this machine, binary and project to internal/schedule, from the Factory. The doctor's
// rotation-schedule check uses it too, so that it compares against exactly what 'schedule install' writes.
func Machine(f *cmdutil.Factory) schedule.Machine {
	return schedule.Machine{
		Runner:     f.Runner,
		Executable: f.Executable,
		Getenv:     f.Getenv,
		EnvFile:    f.EnvFile(),
		ProjectDir: f.ProjectDir(),
		GOOS:       f.GOOS,
		HomeDir:    f.HomeDir,
		UID:        os.Getuid(),
	}
}

func checkFlags(action string, set map[string]bool) error {
	switch action {
	case "install", "print":
		if set["json"] {
			return cmdutil.Usagef("schedule %s: --json applies to status only", action)
		}
	case "status", "remove":
		if set["interval"] {
			return cmdutil.Usagef("schedule %s: --interval applies to install and print only", action)
		}
		if action == "remove" && set["json"] {
			return cmdutil.Usagef("schedule remove: --json applies to status only")
		}
	default:
		return cmdutil.Usagef("schedule: unknown action %q; accepted: install, remove, status, print", action)
	}
	return nil
}

func run(opts *Options) error {
	kind, err := schedule.ParseKind(opts.Kind)
	if err != nil {
		return cmdutil.Usagef("schedule: --%s", err)
	}
	if opts.Interval != 0 {
		if err := templates.CheckInterval(opts.Interval); err != nil {
			return cmdutil.Usagef("schedule: --%s", err)
		}
		if kind == schedule.Cron {
			if _, err := templates.CronSchedule(opts.Interval); err != nil {
				return cmdutil.Usagef("schedule: --%s", err)
			}
		}
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	spec, notes, err := buildSpec(opts, kind)
	if err != nil {
		return err
	}
	switch opts.Action {
	case "install":
		return install(ctx, opts, spec, notes)
	case "remove":
		return remove(ctx, opts, spec)
	case "status":
		return status(ctx, opts, spec)
	case "print":
		return printFiles(ctx, opts, spec, notes)
	}
	return cmdutil.Usagef("schedule: unknown action %q; accepted: install, remove, status, print", opts.Action)
}

// buildSpec gathers the paths the schedule needs; notes are warnings about them (databricks not found...).
func buildSpec(opts *Options, kind schedule.Kind) (schedule.Spec, []string, error) {
	spec, err := schedule.NewSpec(kind, opts.Interval, opts.Machine)
	if err != nil {
		return spec, nil, err
	}
	var notes []string
	if opts.Action == "install" && isTemporaryBuild(spec.Binary) {
		return spec, nil, fmt.Errorf("this voyce-auth is a temporary 'go run' build (%s), which will be deleted: install it first (go install ./cmd/voyce-auth) and run 'voyce-auth schedule install' from the installed binary", spec.Binary)
	}
	if spec.DatabricksDir == "" && (opts.Action == "install" || opts.Action == "print") {
		notes = append(notes, "the databricks CLI is not in PATH, so the schedule's PATH holds only the system folders and rotate will fail until it can find it. Fix: install the CLI (https://docs.databricks.com/dev-tools/cli/install.html), then run 'voyce-auth schedule install' again")
	}
	if opts.Action == "install" {
		if _, err := os.Stat(spec.EnvFile); err != nil {
			notes = append(notes, fmt.Sprintf("%s does not exist yet: every scheduled run will fail until it does. Fix: voyce-auth setup", spec.EnvFile))
		}
	}
	return spec, notes, nil
}

func isTemporaryBuild(bin string) bool {
	return strings.Contains(filepath.ToSlash(bin), "/go-build") && strings.Contains(filepath.ToSlash(bin), "/exe/")
}

func interval(d time.Duration) time.Duration {
	if d == 0 {
		return templates.DefaultInterval
	}
	return d
}

func every(d time.Duration) string {
	d = interval(d)
	if d%time.Minute == 0 && d < time.Hour {
		if d == time.Minute {
			return "every minute"
		}
		return fmt.Sprintf("every %d minutes", d/time.Minute)
	}
	if d == time.Hour {
		return "every hour"
	}
	return "every " + d.String()
}

// printSchedulerError prints a scheduler failure as: what failed, the scheduler's words, the fix.
func printSchedulerError(opts *Options, what string, err error) error {
	cs := opts.IO.ColorScheme()
	var se *schedule.Error
	if errors.As(err, &se) {
		fmt.Fprintf(opts.IO.ErrOut, "%s %s: %s failed\n", cs.FailureIcon(), what, se.Cmd)
		fmt.Fprintf(opts.IO.ErrOut, "  it said: %s\n", se.Message)
		if se.Fix != "" {
			fmt.Fprintf(opts.IO.ErrOut, "  fix: %s\n", se.Fix)
		}
		return cmdutil.ErrSilent
	}
	return fmt.Errorf("%s: %w", what, err)
}

func install(ctx context.Context, opts *Options, spec schedule.Spec, notes []string) error {
	cs := opts.IO.ColorScheme()
	rep, err := opts.Manager.Install(ctx, spec)
	if rep != nil && rep.Reason != "" && spec.Kind == schedule.Auto {
		fmt.Fprintf(opts.IO.ErrOut, "Using %s: %s.\n", rep.Kind, rep.Reason)
	}
	if err != nil {
		if rep == nil {
			return fmt.Errorf("schedule install: %w", err)
		}
		return printSchedulerError(opts, "could not install the schedule", err)
	}
	what := fmt.Sprintf("%s %s and once after boot/login", rep.Kind, every(spec.Interval))
	if rep.Changed {
		fmt.Fprintf(opts.IO.Out, "%s Installed the rotation schedule (%s)\n", cs.SuccessIcon(), what)
	} else {
		fmt.Fprintf(opts.IO.Out, "%s The rotation schedule is already installed and up to date (%s); nothing changed\n", cs.SuccessIcon(), what)
	}
	for _, f := range rep.Files {
		if f == "crontab" {
			fmt.Fprintf(opts.IO.Out, "  crontab: lines ending in %q\n", templates.CronTag)
		} else {
			fmt.Fprintf(opts.IO.Out, "  file: %s\n", f)
		}
	}
	fmt.Fprintf(opts.IO.Out, "  runs: %s rotate --env-file %s\n", spec.Binary, spec.EnvFile)
	fmt.Fprintf(opts.IO.Out, "  in:   %s\n", spec.ProjectDir)
	for _, w := range append(notes, rep.Warnings...) {
		fmt.Fprintf(opts.IO.ErrOut, "%s %s\n", cs.WarningIcon(), w)
	}
	fmt.Fprintln(opts.IO.Out, "Check it with: voyce-auth schedule status")
	return nil
}

func remove(ctx context.Context, opts *Options, spec schedule.Spec) error {
	cs := opts.IO.ColorScheme()
	rep, err := opts.Manager.Remove(ctx, spec)
	if err != nil {
		if rep == nil {
			return fmt.Errorf("schedule remove: %w", err)
		}
		return printSchedulerError(opts, "could not remove the schedule", err)
	}
	if len(rep.Kinds) == 0 {
		fmt.Fprintln(opts.IO.Out, "No rotation schedule is installed; nothing to remove.")
		return nil
	}
	var kinds []string
	for _, k := range rep.Kinds {
		kinds = append(kinds, string(k))
	}
	fmt.Fprintf(opts.IO.Out, "%s Removed the rotation schedule (%s)\n", cs.SuccessIcon(), strings.Join(kinds, ", "))
	for _, f := range rep.Files {
		if f == "crontab" {
			fmt.Fprintf(opts.IO.Out, "  crontab: removed the lines ending in %q; every other line is unchanged\n", templates.CronTag)
		} else {
			fmt.Fprintf(opts.IO.Out, "  deleted: %s\n", f)
		}
	}
	return nil
}

func status(ctx context.Context, opts *Options, spec schedule.Spec) error {
	r, err := opts.Manager.Status(ctx, spec)
	if err != nil {
		return fmt.Errorf("schedule status: %w", err)
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		printStatus(opts, r)
	}
	if !r.OK() {
		return cmdutil.ErrSilent
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func when(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	local := t.Local()
	if _, off := local.Zone(); off == 0 {
		return local.Format("2006-01-02 15:04:05 MST")
	}
	return fmt.Sprintf("%s (%s UTC)", local.Format("2006-01-02 15:04:05 MST"), t.UTC().Format("15:04:05"))
}

func printStatus(opts *Options, r *schedule.StatusReport) {
	cs := opts.IO.ColorScheme()
	w := opts.IO.Out
	if !r.Installed {
		fmt.Fprintf(w, "%s No rotation schedule is installed.\n", cs.FailureIcon())
		if r.Kind != "" {
			fmt.Fprintf(w, "  install would use %s: %s\n", r.Kind, r.Reason)
		} else if r.Reason != "" {
			fmt.Fprintf(w, "  %s\n", r.Reason)
		}
	} else {
		icon := cs.SuccessIcon()
		if !r.OK() {
			icon = cs.WarningIcon()
		}
		fmt.Fprintf(w, "%s Rotation schedule: %s", icon, r.Kind)
		if r.Interval > 0 {
			fmt.Fprintf(w, ", %s", every(r.Interval))
		}
		fmt.Fprintln(w)
		for _, f := range r.Files {
			fmt.Fprintf(w, "  installed:  %s\n", f)
		}
		fmt.Fprintf(w, "  enabled:    %s\n", yesNo(r.Enabled))
		fmt.Fprintf(w, "  active:     %s", yesNo(r.Active))
		if r.State != "" {
			fmt.Fprintf(w, " (%s)", r.State)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  up to date: %s\n", yesNo(r.Matches))
		fmt.Fprintf(w, "  next run:   %s\n", when(r.NextRun))
		last := when(r.LastRun)
		if r.LastRun.IsZero() && r.Kind != schedule.Systemd {
			last = fmt.Sprintf("not recorded by %s (the log below shows what rotate did)", r.Kind)
		}
		fmt.Fprintf(w, "  last run:   %s", last)
		if r.LastResult != "" {
			fmt.Fprintf(w, ", %s", r.LastResult)
		}
		fmt.Fprintln(w)
	}
	line := r.LastLogLine
	if line == "" {
		line = "(no log yet)"
	}
	fmt.Fprintf(w, "  log:        %s\n", r.LogFile)
	fmt.Fprintf(w, "  last entry: %s\n", line)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "%s %s\n", cs.FailureIcon(), p)
	}
	for _, p := range r.Warnings {
		fmt.Fprintf(w, "%s %s\n", cs.WarningIcon(), p)
	}
}

func printFiles(ctx context.Context, opts *Options, spec schedule.Spec, notes []string) error {
	targets, choice, err := opts.Manager.Print(ctx, spec)
	if err != nil {
		var se *schedule.Error
		if errors.As(err, &se) {
			return printSchedulerError(opts, "could not pick a scheduler", err)
		}
		return fmt.Errorf("schedule print: %w", err)
	}
	if spec.Kind == schedule.Auto {
		fmt.Fprintf(opts.IO.ErrOut, "Using %s: %s.\n", choice.Kind, choice.Reason)
	}
	for i, t := range targets {
		if i > 0 {
			fmt.Fprintln(opts.IO.Out)
		}
		if t.Path == "crontab" {
			fmt.Fprintln(opts.IO.Out, "==> lines added to your crontab (crontab -l) <==")
		} else {
			fmt.Fprintf(opts.IO.Out, "==> %s <==\n", t.Path)
		}
		opts.IO.Out.Write(t.Content)
	}
	cs := opts.IO.ColorScheme()
	for _, n := range notes {
		fmt.Fprintf(opts.IO.ErrOut, "%s %s\n", cs.WarningIcon(), n)
	}
	return nil
}
