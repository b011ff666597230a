package setup

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	cmddoctor "github.com/voyce/voyce-auth/cmd/doctor"
	cmdschedule "github.com/voyce/voyce-auth/cmd/schedule"
	"github.com/voyce/voyce-auth/doctor"
	"github.com/voyce/voyce-auth/internal/databricks"
	"github.com/voyce/voyce-auth/wizard"
)

// realDeps wires the wizard to the real files, PostgreSQL, Databricks CLI, scheduler and doctor.
func realDeps(f *cmdutil.Factory) (wizard.Deps, error) {
	store := &wizard.Files{
		Env:    f.EnvFile(),
		Pgpass: f.PgpassFile(),
		Getenv: f.Getenv,
		// ~/.pgpass may hold a person's other databases: keep one backup. No .env backup: a .env.bak in the
		// project is not covered by the .gitignore entries and would hold the previous token.
		BackupPgpass: true,
		EnsureIgnored: func() (string, string, error) {
			return ensureIgnored(f)
		},
	}
	db := &wizard.DB{
		Client: &databricks.Client{Runner: f.Runner, GOOS: f.GOOS},
		Clock:  f.Clock,
		GOOS:   f.GOOS,
		In:     f.IO.In, Out: f.IO.Out, ErrOut: f.IO.ErrOut,
	}
	return wizard.Deps{
		Prompter:   f.Prompter,
		Store:      store,
		Postgres:   wizard.PG{},
		Databricks: db,
		InstallSchedule: func(ctx context.Context, kind string) ([]string, error) {
			return nil, installSchedule(f, kind)
		},
		QuickChecks: func(ctx context.Context, w io.Writer, databricks bool) error {
			return quickChecks(ctx, f, w, databricks)
		},
		Getenv: f.Getenv,
	}, nil
}

// quickChecks runs the doctor's quick checks; without Databricks set up, its checks are left out (a
// PostgreSQL-only setup is not a failure).
func quickChecks(ctx context.Context, f *cmdutil.Factory, w io.Writer, databricks bool) error {
	if databricks {
		return cmddoctor.QuickChecks(f)(ctx, w)
	}
	d := cmddoctor.DepsFrom(f, doctor.DefaultTimeout)
	var checks []doctor.Check
	for _, c := range doctor.QuickChecks(d) {
		if doctor.GroupOf(c) != doctor.GroupDatabricks {
			checks = append(checks, c)
		}
	}
	outcomes := doctor.Run(ctx, checks, doctor.Options{Timeout: doctor.DefaultTimeout, Clock: d.Clock})
	doctor.WriteText(w, f.IO.ColorScheme(), outcomes, false)
	if doctor.Failed(outcomes) {
		return doctor.ErrProblems
	}
	return nil
}

// installSchedule runs 'voyce-auth schedule install --kind KIND' (the schedule command prints what it did).
func installSchedule(f *cmdutil.Factory, kind string) error {
	c := cmdschedule.NewCmd(f)
	cmdutil.AddGlobalFlags(c.Flags, &f.Globals)
	pos, err := cmdutil.ParseFlags(c.Flags, c.Name, []string{"install", "--kind", kind})
	if err == nil {
		err = c.Run(pos)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, cmdutil.ErrSilent):
		return &wizard.Problem{Message: "the rotation schedule was not installed (see above)"}
	}
	return &wizard.Problem{Message: "the rotation schedule was not installed: " + err.Error()}
}

// ensureIgnored applies the doctor's secrets-ignored fix (the one place that knows how .env, .pgpass and
// logs/ are git-ignored): it appends what is missing to the project's .gitignore, never rewriting it.
// Outside a git work tree there is nothing to do.
func ensureIgnored(f *cmdutil.Factory) (path, change string, err error) {
	ctx, cancel := context.WithTimeout(f.Context, 10*time.Second)
	defer cancel()
	d := cmddoctor.DepsFrom(f, 10*time.Second)
	checks, err := doctor.Select(doctor.All(d), []string{"secrets-ignored"}, nil)
	if err != nil {
		return "", "", err
	}
	for _, c := range checks {
		fx, ok := c.(doctor.Fixer)
		if c.ID() != "secrets-ignored" || !ok {
			continue
		}
		r := c.Run(ctx)
		plan := fx.PlanFix(r)
		if plan == "" {
			return "", "", nil
		}
		if err := fx.Fix(ctx, r); err != nil {
			return "", "", err
		}
		// The plan reads "append .env, logs/ to PATH"; the change is listed under PATH.
		change = strings.Replace(plan, "append ", "appended ", 1)
		if i := strings.LastIndex(change, " to "); i > 0 {
			change = change[:i]
		}
		return filepath.Join(f.ProjectDir(), ".gitignore"), change, nil
	}
	return "", "", nil
}
