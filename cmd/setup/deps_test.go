package setup

import (
	"context"
	"strings"
	"testing"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/iostreams"
	runner "github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/wizard"
)

// TestInstallScheduleRunsScheduleInstall: the wizard's schedule step is 'voyce-auth schedule install --kind K'
// with the same Factory (here a cron install against a fake crontab).
func TestInstallScheduleRunsScheduleInstall(t *testing.T) {
	dir := t.TempDir()
	io, _, out, errOut := iostreams.Test()
	r := &runner.Fake{}
	var written string
	r.Handle("crontab", func(ctx context.Context, c runner.Cmd) (runner.Result, error) {
		if len(c.Args) > 0 && c.Args[0] == "-l" {
			return runner.Output(c, "", "no crontab for dev\n", 1)
		}
		buf := new(strings.Builder)
		if c.Stdin != nil {
			b := make([]byte, 64<<10)
			n, _ := c.Stdin.Read(b)
			buf.Write(b[:n])
		}
		written = buf.String()
		return runner.Output(c, "", "", 0)
	})
	f := &cmdutil.Factory{
		IO: io, Runner: r, Clock: clock.System{}, Getenv: func(string) string { return "" },
		HomeDir: dir, WorkDir: dir, GOOS: "linux", Context: context.Background(),
		Executable: func() (string, error) { return "/usr/local/bin/voyce-auth", nil },
	}
	if err := installSchedule(f, "cron"); err != nil {
		t.Fatalf("installSchedule: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(written, "/usr/local/bin/voyce-auth") || !strings.Contains(written, "rotate") {
		t.Errorf("crontab written:\n%s", written)
	}
	if !strings.Contains(out.String(), "Installed the rotation schedule") {
		t.Errorf("output:\n%s", out)
	}

	// A scheduler failure becomes a wizard Problem (the schedule command printed the details).
	r.HandleOutput("crontab", "", "crontab: cannot connect to cron\n", 1)
	err := installSchedule(f, "cron")
	if _, ok := err.(*wizard.Problem); !ok {
		t.Fatalf("failure = %T %v", err, err)
	}
}
