package doctor

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/schedule"
)

func TestRotationSchedule(t *testing.T) {
	for _, tc := range []struct {
		name   string
		report *schedule.StatusReport
		err    error
		status Status
		msg    string
		fix    string
	}{
		{"healthy", &schedule.StatusReport{Kind: schedule.Systemd, Installed: true, Enabled: true, Active: true, Matches: true,
			Interval: 5 * time.Minute}, nil, StatusOK, "systemd schedule installed and active, every 5 minutes", ""},
		{"lingering off", &schedule.StatusReport{Kind: schedule.Systemd, Installed: true, Enabled: true, Active: true, Matches: true,
			Interval: 5 * time.Minute, Warnings: []string{"lingering is off for dev: the timer stops when you log out. Fix: loginctl enable-linger dev"}},
			nil, StatusWarn, "systemd schedule installed, every 5 minutes, but lingering is off for dev", "loginctl enable-linger dev"},
		{"no cron daemon", &schedule.StatusReport{Kind: schedule.Cron, Installed: true, Enabled: true, Matches: true,
			Warnings: []string{"no running cron daemon found (no live pid in /run/crond.pid): the lines are installed but nothing runs them. Fix: sudo service cron start"}},
			nil, StatusWarn, "cron schedule installed, but no running cron daemon found", "sudo service cron start"},
		{"not installed", &schedule.StatusReport{Kind: schedule.Cron, Reason: "no systemd user session",
			Problems: []string{"no rotation schedule is installed: the token expires within an hour unless something rotates it. Fix: voyce-auth schedule install"}},
			nil, StatusWarn, "no rotation schedule is installed", "voyce-auth schedule install"},
		{"moved binary", &schedule.StatusReport{Kind: schedule.Systemd, Installed: true, Enabled: true, Active: true,
			Mismatch: "ExecStart differs", Problems: []string{"the installed units run /old/voyce-auth, which no longer exists. Fix: voyce-auth schedule install"}},
			nil, StatusFail, "the installed units run /old/voyce-auth, which no longer exists", "voyce-auth schedule install"},
		{"long problem", &schedule.StatusReport{Kind: schedule.Cron, Installed: true, Enabled: true, Active: true,
			Problems: []string{"the installed schedule differs from what install would write now (moved binary or project?): " +
				strings.Repeat("crontab line 2 is x, now it would be y ", 5) + ". Fix: voyce-auth schedule install"}},
			nil, StatusFail, "the installed schedule differs from what install would write now (moved binary or project?)", "voyce-auth schedule install"},
		{"stopped", &schedule.StatusReport{Kind: schedule.Systemd, Installed: true, Matches: true, State: "timer disabled, inactive"},
			nil, StatusFail, "installed but not running (timer disabled, inactive)", "voyce-auth schedule install"},
		{"error", nil, errors.New("systemctl: bus gone"), StatusFail, "cannot inspect the rotation schedule: systemctl: bus gone",
			"voyce-auth schedule status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &Deps{EnvFile: "/p/.env", ScheduleStatus: func(context.Context) (*schedule.StatusReport, error) {
				return tc.report, tc.err
			}}
			r := runCheck(t, d, "rotation-schedule")
			if len(r.Message) > 150 {
				t.Errorf("message too long for one line (%d): %q", len(r.Message), r.Message)
			}
			if r.Status != tc.status || !strings.Contains(r.Message, tc.msg) || !strings.HasPrefix(r.Fix, tc.fix) {
				t.Errorf("got %s %q fix %q; want %s %q fix %q", r.Status, r.Message, r.Fix, tc.status, tc.msg, tc.fix)
			}
		})
	}
}

func TestRotationLog(t *testing.T) {
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	d := &Deps{EnvFile: filepath.Join(dir, ".env"), Clock: clock.NewFake(now), HomeDir: t.TempDir()}
	logPath := filepath.Join(dir, "logs", "oauth-rotation.log")
	if r := runCheck(t, d, "rotation-log"); r.Status != StatusSkip || !strings.Contains(r.Message, "no rotation has run yet") {
		t.Errorf("no log: %+v", r)
	}
	ok := "2026-11-26T07:20:00Z outcome=rotated subject=dev.user@example.com expiry=2026-11-26T08:20:00Z\n"
	failed := `2026-11-26T07:50:00Z outcome=failed error="the workspace rejected the CLI's refresh token (the login has expired or was revoked)" fix="databricks auth login --host https://dbc.example.com --profile voyce" subject=dev.user@example.com` + "\n"
	busy := "2026-11-26T07:55:00Z outcome=busy\n"
	for _, tc := range []struct {
		name, log string
		status    Status
		msg, fix  string
	}{
		{"recent success", ok + busy, StatusOK, "the last rotation succeeded 40 minutes ago", ""},
		{"failure last", ok + failed + busy, StatusFail,
			"the last rotation failed 10 minutes ago: the workspace rejected the CLI's refresh token",
			"databricks auth login --host https://dbc.example.com --profile voyce"},
		{"old", "2026-11-26T03:00:00Z outcome=rotated subject=a@b.c\n", StatusWarn, "the last rotation was 5 hours ago", "voyce-auth schedule status"},
		{"hook failed", "2026-11-26T07:30:00Z outcome=rotated subject=a@b.c hook=failed hook_error=\"exit status 3\"\n", StatusWarn,
			"its hook failed: exit status 3", "Check the post-rotate hook"},
		{"nothing yet", busy + "garbage line\n", StatusSkip, "no rotation recorded", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, logPath, tc.log, 0o600)
			r := runCheck(t, d, "rotation-log")
			if r.Status != tc.status || !strings.Contains(r.Message, tc.msg) || !strings.HasPrefix(r.Fix, tc.fix) {
				t.Errorf("got %s %q fix %q; want %s %q fix %q", r.Status, r.Message, r.Fix, tc.status, tc.msg, tc.fix)
			}
		})
	}
}
