package root

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/cmd/version"
	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/prompt"
	"github.com/voyce/voyce-auth/internal/run"
)

func newFactory(t *testing.T) (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{
		IO:       ios,
		Prompter: &prompt.Scripted{},
		Runner:   &run.Fake{},
		Clock:    clock.System{},
		Getenv:   func(string) string { return "" },
		HomeDir:  t.TempDir(),
		WorkDir:  t.TempDir(),
		GOOS:     "linux",
		Version:  "1.2.3",
	}
	return f, out, errOut
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // substring
		stderr     string // substring
		noStdout   bool
		stderrLine bool // stderr is exactly one line
	}{
		{name: "help", args: []string{"--help"}, code: 0, stdout: "Commands:\n  setup"},
		{name: "help word", args: []string{"help"}, code: 0, stdout: "Exit codes: 0 ok, 1 failure, 2 usage error, 130 interrupted."},
		{name: "no command", args: nil, code: 2, stderr: "a command is required"},
		{name: "unknown command", args: []string{"nosuch"}, code: 2, stderr: `unknown command "nosuch"`, noStdout: true, stderrLine: true},
		{name: "unknown flag", args: []string{"--bogus"}, code: 2, stderr: "unknown flag --bogus", stderrLine: true},
		{name: "unknown command flag", args: []string{"version", "--bogus"}, code: 2, stderr: "version: unknown flag --bogus", stderrLine: true},
		{name: "no password flag", args: []string{"version", "--password=hunter2"}, code: 2, stderr: "pipe it to --password-stdin or set PGPASSWORD", stderrLine: true},
		{name: "flag without value", args: []string{"version", "--env-file"}, code: 2, stderr: "flag --env-file needs a value", stderrLine: true},
		{name: "version", args: []string{"version"}, code: 0, stdout: "voyce-auth 1.2.3\n"},
		{name: "--version", args: []string{"--version"}, code: 0, stdout: "voyce-auth 1.2.3\n"},
		{name: "version extra arg", args: []string{"version", "x"}, code: 2, stderr: "takes no arguments"},
		{name: "command help", args: []string{"version", "--help"}, code: 0, stdout: "Examples:\n  $ voyce-auth version"},
		{name: "help command", args: []string{"help", "version"}, code: 0, stdout: "--env-file PATH"},
		{name: "global flag before command", args: []string{"--no-color", "version"}, code: 0, stdout: "voyce-auth 1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, out, errOut := newFactory(t)
			code := Run(f, tt.args)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			if !strings.Contains(out.String(), tt.stdout) {
				t.Errorf("stdout %q does not contain %q", out, tt.stdout)
			}
			if !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.stderr)
			}
			if tt.noStdout && out.Len() > 0 {
				t.Errorf("stdout should be empty, got %q", out)
			}
			if strings.Contains(errOut.String(), "hunter2") {
				t.Errorf("stderr echoes a value given on the command line: %q", errOut)
			}
			if tt.stderrLine && strings.Count(strings.TrimRight(errOut.String(), "\n"), "\n") != 0 {
				t.Errorf("stderr should be one line, got %q", errOut)
			}
		})
	}
}

func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	f, _, _ := newFactory(t)
	for _, c := range Commands(f) {
		if c.Name == "" || c.Short == "" || c.Usage == "" {
			t.Errorf("command %+v lacks a name, short text or usage", c)
		}
		f2, out, errOut := newFactory(t)
		if code := Run(f2, []string{c.Name, "--help"}); code != 0 {
			t.Errorf("%s --help: exit %d: %s", c.Name, code, errOut)
		}
		if !strings.Contains(out.String(), "voyce-auth "+c.Name) {
			t.Errorf("%s --help does not show its usage:\n%s", c.Name, out)
		}
	}
}

func TestGlobalFlagsResolvePaths(t *testing.T) {
	f, _, _ := newFactory(t)
	f.Getenv = func(k string) string {
		if k == "PGPASSFILE" {
			return "rel/pgpass"
		}
		return ""
	}
	if got, want := f.EnvFile(), f.WorkDir+"/.env"; got != want {
		t.Errorf("EnvFile() = %q, want %q", got, want)
	}
	if got, want := f.PgpassFile(), f.WorkDir+"/rel/pgpass"; got != want {
		t.Errorf("PgpassFile() from $PGPASSFILE = %q, want %q", got, want)
	}
	f.Globals.PgpassFile = "~/x/.pgpass"
	if got, want := f.PgpassFile(), f.HomeDir+"/x/.pgpass"; got != want {
		t.Errorf("PgpassFile() from --pgpass-file = %q, want %q", got, want)
	}
	f.Getenv = func(string) string { return "" }
	f.Globals.PgpassFile = ""
	if got, want := f.PgpassFile(), f.HomeDir+"/.pgpass"; got != want {
		t.Errorf("PgpassFile() default = %q, want %q", got, want)
	}
}

func TestNoColorEnv(t *testing.T) {
	f, _, _ := newFactory(t)
	f.IO.SetColorEnabled(true)
	f.Getenv = func(k string) string {
		if k == "NO_COLOR" {
			return "1"
		}
		return ""
	}
	Run(f, []string{"version"})
	if f.IO.ColorEnabled() {
		t.Error("NO_COLOR=1 should turn colour off")
	}
}

func TestVersionString(t *testing.T) {
	info := &debug.BuildInfo{Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"},
		{Key: "vcs.modified", Value: "true"},
	}}
	if got, want := version.String("1.0.0", info), "voyce-auth 1.0.0 (revision 0123456789ab, modified)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := version.String("1.0.0", nil), "voyce-auth 1.0.0"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestExitCodes(t *testing.T) {
	if cmdutil.ExitCode(cmdutil.ErrCancel) != 130 || cmdutil.ExitCode(cmdutil.Usagef("x")) != 2 ||
		cmdutil.ExitCode(cmdutil.ErrSilent) != 1 || cmdutil.ExitCode(nil) != 0 {
		t.Error("exit code mapping is wrong")
	}
}
