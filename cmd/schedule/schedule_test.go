package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/iostreams"
	irun "github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/internal/schedule"
)

type harness struct {
	opts      *Options
	fake      *irun.Fake
	out, errs func() string
	table     *string
}

// newHarness: a Linux machine without a systemd user session, with crontab and databricks installed.
func newHarness(t *testing.T, action string) *harness {
	t.Helper()
	root := t.TempDir()
	project := filepath.Join(root, "proj")
	os.MkdirAll(project, 0o755)
	os.WriteFile(filepath.Join(project, ".env"), []byte("DATABRICKS_HOST=https://x\n"), 0o600)
	ios, _, out, errOut := iostreams.Test()
	fake := &irun.Fake{}
	fake.HandleOutput("systemctl", "", "Failed to connect to bus: No medium found\n", 1)
	table := ""
	has := false
	fake.Handle("crontab", func(ctx context.Context, c irun.Cmd) (irun.Result, error) {
		switch c.Args[0] {
		case "-l":
			if !has {
				return irun.Output(c, "", "no crontab for dev\n", 1)
			}
			return irun.Output(c, table, "", 0)
		case "-":
			b, _ := io.ReadAll(c.Stdin)
			table, has = string(b), true
		case "-r":
			table, has = "", false
		}
		return irun.Output(c, "", "", 0)
	})
	fake.SetPath("databricks", "/opt/dbx/bin/databricks")
	h := &harness{fake: fake, out: out.String, errs: errOut.String, table: &table}
	h.opts = &Options{
		IO:      ios,
		Context: context.Background(),
		Manager: &schedule.Manager{Runner: fake, Clock: clock.NewFake(time.Date(2026, 11, 26, 6, 2, 0, 0, time.UTC)), LingerDir: root, CronPIDFiles: []string{filepath.Join(root, "crond.pid")}},
		Action:  action,
		Kind:    "auto",
		Machine: schedule.Machine{
			Runner:     fake,
			Executable: func() (string, error) { return "/usr/local/bin/voyce-auth", nil },
			Getenv:     func(k string) string { return map[string]string{"USER": "dev"}[k] },
			EnvFile:    filepath.Join(project, ".env"),
			ProjectDir: project,
			GOOS:       "linux",
			HomeDir:    filepath.Join(root, "home"),
			UID:        1000,
		},
	}
	return h
}

func TestInstallAutoFallsBackToCron(t *testing.T) {
	h := newHarness(t, "install")
	if err := run(h.opts); err != nil {
		t.Fatalf("%v\n%s", err, h.errs())
	}
	if !strings.Contains(h.errs(), "Using cron: systemctl --user did not answer (Failed to connect to bus: No medium found); using cron instead.") {
		t.Errorf("stderr does not say which and why:\n%s", h.errs())
	}
	for _, want := range []string{"✓ Installed the rotation schedule (cron every 5 minutes and once after boot/login)", "runs: /usr/local/bin/voyce-auth rotate --env-file "} {
		if !strings.Contains(h.out(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, h.out())
		}
	}
	if !strings.Contains(*h.table, "PATH='/opt/dbx/bin:/usr/local/bin:/usr/bin:/bin'") {
		t.Errorf("crontab lacks the databricks folder in PATH:\n%s", *h.table)
	}

	h2 := *h
	ios, _, out, _ := iostreams.Test()
	h2.opts.IO = ios
	if err := run(h2.opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "already installed and up to date") {
		t.Errorf("second install:\n%s", out.String())
	}
}

func TestInstallSystemdBusFailure(t *testing.T) {
	h := newHarness(t, "install")
	h.opts.Kind = "systemd"
	err := run(h.opts)
	if !errors.Is(err, cmdutil.ErrSilent) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{
		"✗ could not install the schedule: systemctl --user show --property=Version --value failed",
		"it said: Failed to connect to bus: No medium found",
		"fix: no systemd user session here",
		"--kind cron",
	} {
		if !strings.Contains(h.errs(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, h.errs())
		}
	}
}

func TestStatusJSONNotInstalled(t *testing.T) {
	h := newHarness(t, "status")
	h.opts.JSON = true
	err := run(h.opts)
	if cmdutil.ExitCode(err) != 1 {
		t.Fatalf("exit %d, want 1", cmdutil.ExitCode(err))
	}
	var r schedule.StatusReport
	if err := json.Unmarshal([]byte(h.out()), &r); err != nil {
		t.Fatalf("%v\n%s", err, h.out())
	}
	if r.Installed || r.Kind != schedule.Cron || len(r.Problems) == 0 {
		t.Errorf("%+v", r)
	}
}

func TestStatusText(t *testing.T) {
	h := newHarness(t, "install")
	h.opts.Interval = 10 * time.Minute
	if err := run(h.opts); err != nil {
		t.Fatal(err)
	}
	ios, _, out, _ := iostreams.Test()
	h.opts.IO, h.opts.Action, h.opts.Interval = ios, "status", 0
	run(h.opts)
	for _, want := range []string{"Rotation schedule: cron, every 10 minutes", "up to date: yes", "next run:   2026-11-26", "(no log yet)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
}

func TestPrint(t *testing.T) {
	h := newHarness(t, "print")
	h.opts.Kind, h.opts.Machine.GOOS = "launchd", "darwin"
	if err := run(h.opts); err != nil {
		t.Fatal(err)
	}
	want := "==> " + filepath.Join(h.opts.Machine.HomeDir, "Library", "LaunchAgents", "com.voyce.oauth-rotation.plist") + " <==\n<?xml"
	if !strings.Contains(h.out(), want) {
		t.Errorf("print:\n%s", h.out())
	}
	if len(h.fake.Calls()) != 0 {
		t.Errorf("print ran %q", h.fake.CallStrings())
	}
}

func TestRemoveNothing(t *testing.T) {
	h := newHarness(t, "remove")
	if err := run(h.opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.out(), "nothing to remove") {
		t.Errorf("%s", h.out())
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		edit func(o *Options)
		want string
	}{
		{func(o *Options) { o.Kind = "upstart" }, "schedule: --kind: "},
		{func(o *Options) { o.Interval = 2 * time.Hour }, "schedule: --interval: "},
		{func(o *Options) { o.Kind, o.Interval = "cron", 7*time.Minute }, "schedule: --interval: cron can only run every N minutes where N divides 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30) or every hour, got 7m"},
		{func(o *Options) {
			o.Machine.Executable = func() (string, error) { return "/tmp/go-build123/b001/exe/voyce-auth", nil }
		}, "temporary 'go run' build"},
		{func(o *Options) { o.Machine.ProjectDir = "/tmp/a\nb"; o.Machine.EnvFile = "/tmp/a\nb/.env" }, ".env path: "},
	} {
		h := newHarness(t, "install")
		tc.edit(h.opts)
		err := run(h.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") && !strings.Contains(tc.want, "\n") {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
		if *h.table != "" {
			t.Errorf("crontab changed on bad input: %q", *h.table)
		}
	}
}

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "an action is required"},
		{[]string{"launch"}, `unknown action "launch"`},
		{[]string{"install", "--json"}, "--json applies to status only"},
		{[]string{"status", "--interval", "10m"}, "--interval applies to install and print only"},
		{[]string{"install", "extra"}, `unexpected argument "extra"`},
	} {
		ios, _, _, _ := iostreams.Test()
		f := &cmdutil.Factory{IO: ios, Runner: &irun.Fake{}, GOOS: "linux", WorkDir: t.TempDir(),
			Executable: func() (string, error) { return "/usr/local/bin/voyce-auth", nil }}
		c := NewCmd(f)
		args, err := cmdutil.ParseFlags(c.Flags, c.Name, tc.args)
		if err == nil {
			err = c.Run(args)
		}
		var ue *cmdutil.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want usage error with %q", tc.args, err, tc.want)
		}
	}
}
