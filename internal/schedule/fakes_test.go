package schedule

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/templates"
)

// fakeSystemd answers 'systemctl --user' like a user manager (or like a machine without one, when busErr
// is set) and 'loginctl show-user'.
type fakeSystemd struct {
	busErr  string // stderr of every systemctl call when set
	enabled bool
	active  bool
	linger  string // "yes", "no"
	listOut string // list-timers output
	result  string // service Result=
}

func (s *fakeSystemd) register(f *run.Fake) {
	f.Handle("systemctl", func(ctx context.Context, c run.Cmd) (run.Result, error) {
		if s.busErr != "" {
			return run.Output(c, "", s.busErr+"\n", 1)
		}
		args := c.Args
		if len(args) == 0 || args[0] != "--user" {
			return run.Output(c, "", "test: expected --user\n", 99)
		}
		args = args[1:]
		switch args[0] {
		case "show":
			if len(args) > 1 && args[1] == templates.ServiceName {
				return run.Output(c, "Result="+s.result+"\n", "", 0)
			}
			return run.Output(c, "252.38-1~deb12u1\n", "", 0)
		case "daemon-reload":
			return run.Output(c, "", "", 0)
		case "enable":
			s.enabled = true
			if len(args) > 1 && args[1] == "--now" {
				s.active = true
			}
			return run.Output(c, "", "Created symlink ...\n", 0)
		case "restart":
			s.active = true
			return run.Output(c, "", "", 0)
		case "disable":
			s.enabled, s.active = false, false
			return run.Output(c, "", "Removed ...\n", 0)
		case "reset-failed":
			return run.Output(c, "", "", 0)
		case "is-enabled":
			if s.enabled {
				return run.Output(c, "enabled\n", "", 0)
			}
			return run.Output(c, "disabled\n", "", 1)
		case "is-active":
			if s.active {
				return run.Output(c, "active\n", "", 0)
			}
			return run.Output(c, "inactive\n", "", 3)
		case "list-timers":
			return run.Output(c, s.listOut, "", 0)
		}
		return run.Output(c, "", "test: unexpected systemctl "+strings.Join(args, " ")+"\n", 99)
	})
	f.Handle("loginctl", func(ctx context.Context, c run.Cmd) (run.Result, error) {
		if s.linger == "" {
			return run.Output(c, "", "System has not been booted with systemd as init system (PID 1). Can't operate.\n", 1)
		}
		return run.Output(c, "Linger="+s.linger+"\n", "", 0)
	})
}

// fakeLaunchd answers launchctl. After a bootout the label stays registered for lingerPolls more
// 'print' calls (launchd unloads asynchronously); lingerPolls < 0 means forever.
type fakeLaunchd struct {
	loaded       bool
	lingerPolls  int
	pending      int
	bootstrapErr string
	printOut     string
	bootstraps   []string
}

func (l *fakeLaunchd) register(f *run.Fake) {
	f.Handle("launchctl", func(ctx context.Context, c run.Cmd) (run.Result, error) {
		switch c.Args[0] {
		case "print":
			if l.loaded {
				return run.Output(c, l.printOut, "", 0)
			}
			if l.pending != 0 {
				if l.pending > 0 {
					l.pending--
				}
				return run.Output(c, l.printOut, "", 0)
			}
			return run.Output(c, "", "Bad request.\nCould not find service \""+templates.LaunchdLabel+"\" in domain for port\n", 113)
		case "bootout":
			if !l.loaded {
				return run.Output(c, "", "Boot-out failed: 3: No such process\n", 3)
			}
			l.loaded = false
			l.pending = l.lingerPolls
			return run.Output(c, "", "", 0)
		case "bootstrap":
			if l.bootstrapErr != "" {
				return run.Output(c, "", l.bootstrapErr+"\n", 5)
			}
			if l.loaded || l.pending != 0 {
				return run.Output(c, "", "Bootstrap failed: 5: Input/output error\n", 5)
			}
			l.bootstraps = append(l.bootstraps, strings.Join(c.Args[1:], " "))
			l.loaded = true
			return run.Output(c, "", "", 0)
		}
		return run.Output(c, "", "test: unexpected launchctl "+strings.Join(c.Args, " ")+"\n", 99)
	})
}

// fakeCron holds one user's crontab in memory; has=false means "no crontab".
type fakeCron struct {
	table string
	has   bool
	fail  string // stderr for 'crontab -' when set
}

func (cr *fakeCron) register(f *run.Fake) {
	f.Handle("crontab", func(ctx context.Context, c run.Cmd) (run.Result, error) {
		switch c.Args[0] {
		case "-l":
			if !cr.has {
				return run.Output(c, "", "no crontab for dev\n", 1)
			}
			return run.Output(c, cr.table, "", 0)
		case "-":
			if cr.fail != "" {
				return run.Output(c, "", cr.fail, 1)
			}
			b, _ := io.ReadAll(c.Stdin)
			if len(b) > 0 && b[len(b)-1] != '\n' {
				return run.Output(c, "", "new crontab file is missing newline before EOF, can't install.\n", 1)
			}
			cr.table, cr.has = string(b), true
			return run.Output(c, "", "", 0)
		case "-r":
			if !cr.has {
				return run.Output(c, "", "no crontab for dev\n", 1)
			}
			cr.table, cr.has = "", false
			return run.Output(c, "", "", 0)
		}
		return run.Output(c, "", "test: unexpected crontab "+strings.Join(c.Args, " ")+"\n", 99)
	})
}

var t0 = time.Date(2026, 11, 26, 6, 32, 10, 0, time.UTC)

type env struct {
	m      *Manager
	fake   *run.Fake
	spec   Spec
	sleeps []time.Duration
	clock  *clock.Fake
}

func newEnv(t *testing.T, goos string) *env {
	t.Helper()
	root := t.TempDir()
	project := filepath.Join(root, "My Project 100% & <co>")
	if err := os.MkdirAll(project, 0o755); err != nil {
		t.Fatal(err)
	}
	e := &env{fake: &run.Fake{}, clock: clock.NewFake(t0)}
	e.m = &Manager{
		Runner:       e.fake,
		Clock:        e.clock,
		LingerDir:    filepath.Join(root, "linger"),
		CronPIDFiles: []string{filepath.Join(root, "crond.pid")},
		ProcDir:      filepath.Join(root, "proc"),
	}
	e.m.Sleep = func(ctx context.Context, d time.Duration) error {
		e.sleeps = append(e.sleeps, d)
		return nil
	}
	e.spec = Spec{
		Params: templates.Params{
			Binary:        "/home/dev/go/bin/voyce-auth",
			EnvFile:       filepath.Join(project, ".env"),
			ProjectDir:    project,
			DatabricksDir: "/opt/homebrew/bin",
			GOOS:          goos,
		},
		HomeDir: filepath.Join(root, "home"),
		UID:     501,
		User:    "dev",
	}
	return e
}

// cronDaemonRunning makes the cron daemon look alive.
func (e *env) cronDaemonRunning(t *testing.T) {
	t.Helper()
	os.WriteFile(e.m.CronPIDFiles[0], []byte("4242\n"), 0o644)
	os.MkdirAll(filepath.Join(e.m.ProcDir, "4242"), 0o755)
}

type registrar interface{ register(*run.Fake) }

// reset gives the manager a fresh fake (no recorded calls) answering with the same fake schedulers.
func (e *env) reset(rs ...registrar) {
	e.fake = &run.Fake{}
	for _, r := range rs {
		r.register(e.fake)
	}
	e.m.Runner = e.fake
	e.sleeps = nil
}
