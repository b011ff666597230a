// Package rotate implements 'voyce-auth rotate'.
package rotate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/iostreams"
	engine "github.com/voyce/voyce-auth/internal/rotate"
	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/internal/token"
)

// Options are the command's inputs.
type Options struct {
	IO      *iostreams.IOStreams
	Runner  run.Runner
	Clock   clock.Clock
	Getenv  func(string) string
	GOOS    string
	Context context.Context
	// Sleep waits between retries (nil: real time).
	Sleep func(ctx context.Context, d time.Duration) error

	EnvFile    string
	PgpassFile string
	Threshold  time.Duration
	Force      bool
	DryRun     bool
	JSON       bool
	Hook       string
	PGInstance string
}

// NewCmd returns the 'rotate' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	opts := &Options{}
	fs := cmdutil.NewFlagSet("rotate")
	fs.DurationVar(&opts.Threshold, "threshold", engine.DefaultThreshold, "rotate only when the token has less than this `DURATION` left")
	fs.BoolVar(&opts.Force, "force", false, "rotate now, whatever the expiry")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "say what would be done and change nothing")
	fs.BoolVar(&opts.JSON, "json", false, "print the outcome as one JSON object")
	fs.StringVar(&opts.Hook, "hook", "", "`COMMAND` to run after an actual rotation (default: VOYCE_POST_ROTATE_HOOK from .env)")
	fs.StringVar(&opts.PGInstance, "pg-credential", "", "also renew the Lakebase database credential of `INSTANCE` into .pgpass (default: VOYCE_PG_CREDENTIAL_INSTANCE)")
	return &cmdutil.Command{
		Name:  "rotate",
		Short: "Refresh the Databricks OAuth token when it is due (safe to run unattended)",
		Usage: "voyce-auth rotate [--threshold 15m] [--force] [--dry-run] [--json] [--hook COMMAND] [--pg-credential INSTANCE]",
		Long: `Refresh DATABRICKS_OAUTH_TOKEN in .env through the Databricks CLI, when it is due.

Safe to run as often as you like (the schedule runs it every 5 minutes): while the token is valid for
longer than --threshold it does nothing and starts no process. Otherwise it takes the rotation lock, runs
'databricks auth token' (with --force-refresh on CLI v0.296+), checks the answer, writes the new token
(every other line of .env unchanged), logs one line to logs/oauth-rotation.log, and runs the post-rotate
hook. A failure changes nothing and says how to fix it. The token is never printed.

The hook runs only after an actual rotation, without a shell unless the command needs one, with
VOYCE_TOKEN_EXPIRY (RFC 3339) in its environment and never the token.

Exit status: 0 when the token is fine (rotated, still valid, or another rotation is running); 1 on failure.`,
		Examples: `  $ voyce-auth rotate
  $ voyce-auth rotate --force --hook 'systemctl --user restart voyce-backend'
  $ voyce-auth rotate --dry-run --threshold 30m
  $ voyce-auth rotate --json | jq .outcome
  $ voyce-auth rotate --pg-credential my-lakebase-instance`,
		Flags: fs,
		Run: func(args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("rotate: takes no arguments, got %q", args[0])
			}
			if opts.Threshold <= 0 || opts.Threshold > 24*time.Hour {
				return cmdutil.Usagef("rotate: --threshold %s is not accepted: give a duration between 1s and 24h, e.g. 15m", opts.Threshold)
			}
			opts.IO, opts.Runner, opts.Clock, opts.Getenv, opts.GOOS = f.IO, f.Runner, f.Clock, f.Getenv, f.GOOS
			opts.Context = f.Context
			opts.EnvFile, opts.PgpassFile = f.EnvFile(), f.PgpassFile()
			return Run(opts)
		},
	}
}

// Run runs the command.
func Run(opts *Options) error {
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	res, err := engine.Run(ctx, engine.Options{
		EnvFile: opts.EnvFile, PgpassFile: opts.PgpassFile, Threshold: opts.Threshold, Force: opts.Force,
		DryRun: opts.DryRun, Hook: opts.Hook, PGInstance: opts.PGInstance,
	}, engine.Deps{Runner: opts.Runner, Clock: opts.Clock, Sleep: opts.Sleep, Getenv: opts.Getenv, GOOS: opts.GOOS})
	if opts.JSON {
		out := struct {
			*engine.Result
			OK bool `json:"ok"`
		}{res, err == nil}
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintln(opts.IO.Out, string(b))
	} else {
		printText(opts.IO, res, err)
	}
	if err != nil {
		return cmdutil.ErrSilent
	}
	return nil
}

func printText(io *iostreams.IOStreams, r *engine.Result, err error) {
	cs := io.ColorScheme()
	w := io.Out
	b := r.Before
	before := ""
	switch {
	case b.Status == "valid":
		before = fmt.Sprintf("valid for %s more (until %s)", token.Human(b.Remaining), b.ExpiresAt.Format("15:04 UTC"))
	case b.Status != "":
		before = b.Message
	}
	if before != "" && b.Subject != "" {
		before += ", " + b.Subject
	}
	switch r.Outcome {
	case engine.StillValid:
		fmt.Fprintf(w, "%s Token %s: nothing to do (threshold %s).\n", cs.SuccessIcon(), before, token.Human(r.Threshold))
		if r.PG != nil {
			fmt.Fprintf(w, "%s Database credential for %s: %s.\n", cs.SuccessIcon(), r.PG.Instance, r.PG.Message)
		}
		return
	case engine.Busy:
		fmt.Fprintf(w, "%s %s.\n", cs.WarningIcon(), capitalize(r.Message))
		return
	case engine.DryRun:
		fmt.Fprintf(w, "Token before: %s\nDry run; it would:\n", before)
		for _, s := range r.Would {
			fmt.Fprintf(w, "  - %s\n", s)
		}
		fmt.Fprintln(w, "Nothing was changed.")
		return
	}
	if before != "" {
		fmt.Fprintf(w, "Token before: %s\n", before)
	}
	if r.Command != "" && (r.After != nil || r.Outcome == engine.Failed) {
		fmt.Fprintf(w, "Asked:        %s\n", r.Command)
	}
	switch r.Outcome {
	case engine.Rotated:
		fmt.Fprintf(w, "%s %s.\n", cs.SuccessIcon(), capitalize(r.Message))
		if r.After != nil && r.After.ExpiresAt != (time.Time{}) {
			fmt.Fprintf(w, "  Written: DATABRICKS_OAUTH_TOKEN in %s\n", r.EnvFile)
		}
		if r.PG != nil && r.PG.Outcome == engine.Rotated {
			fmt.Fprintf(w, "  Database credential for %s: valid until %s, in %s\n", r.PG.Instance, r.PG.ExpiresAt.Format("15:04 UTC"), r.PG.Entry)
		}
	case engine.SameToken:
		fmt.Fprintf(w, "%s %s.\n", cs.WarningIcon(), capitalize(r.Message))
	}
	if r.Hook != nil {
		if r.Hook.OK {
			fmt.Fprintf(w, "  Hook: %s (ok)\n", r.Hook.Command)
		}
	}
	if r.LogFile != "" {
		fmt.Fprintf(w, "  Log: %s\n", r.LogFile)
	}
	if r.LogError != "" {
		fmt.Fprintf(io.ErrOut, "%s could not write the log: %s\n", cs.WarningIcon(), r.LogError)
	}
	if err != nil {
		e := io.ErrOut
		if r.Hook != nil && !r.Hook.OK {
			fmt.Fprintf(e, "%s Hook failed: %s\n", cs.FailureIcon(), r.Hook.Error)
			fmt.Fprintf(e, "  The new token is written; fix the hook (%s).\n", r.Hook.Command)
			return
		}
		fmt.Fprintf(e, "%s Rotation failed: %s\n", cs.FailureIcon(), r.Message)
		if r.Fix != "" {
			fmt.Fprintf(e, "  Fix: %s\n", r.Fix)
		}
		if r.Outcome == engine.Failed && !errors.Is(err, engine.ErrNoEnv) {
			fmt.Fprintf(e, "  %s was not changed.\n", r.EnvFile)
		}
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
