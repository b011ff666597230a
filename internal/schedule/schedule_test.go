package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/templates"
)

var ctx = context.Background()

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func wantCalls(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("commands:\n  got  %q\n  want %q", got, want)
	}
}

func TestParseKind(t *testing.T) {
	for in, want := range map[string]Kind{"": Auto, "auto": Auto, "systemd": Systemd, " Cron ": Cron, "launchd": Launchd} {
		if k, err := ParseKind(in); err != nil || k != want {
			t.Errorf("ParseKind(%q) = %q, %v", in, k, err)
		}
	}
	if _, err := ParseKind("upstart"); err == nil || !strings.HasPrefix(err.Error(), "kind: ") {
		t.Errorf("ParseKind(upstart) = %v", err)
	}
}

func TestDetect(t *testing.T) {
	t.Run("darwin", func(t *testing.T) {
		e := newEnv(t, "darwin")
		c, err := e.m.Detect(ctx, e.spec)
		if err != nil || c.Kind != Launchd || !strings.Contains(c.Reason, "macOS") {
			t.Errorf("Detect = %+v, %v", c, err)
		}
		if len(e.fake.Calls()) != 0 {
			t.Errorf("ran %q on macOS", e.fake.CallStrings())
		}
	})
	t.Run("systemd answers", func(t *testing.T) {
		e := newEnv(t, "linux")
		(&fakeSystemd{}).register(e.fake)
		(&fakeCron{}).register(e.fake)
		c, err := e.m.Detect(ctx, e.spec)
		if err != nil || c.Kind != Systemd || !strings.Contains(c.Reason, "systemd 252") {
			t.Errorf("Detect = %+v, %v", c, err)
		}
	})
	t.Run("no bus, cron", func(t *testing.T) {
		e := newEnv(t, "linux")
		(&fakeSystemd{busErr: "Failed to connect to bus: No medium found"}).register(e.fake)
		(&fakeCron{}).register(e.fake)
		c, err := e.m.Detect(ctx, e.spec)
		if err != nil || c.Kind != Cron || !strings.Contains(c.Reason, "Failed to connect to bus: No medium found") || !strings.Contains(c.Reason, "cron") {
			t.Errorf("Detect = %+v, %v", c, err)
		}
	})
	t.Run("nothing", func(t *testing.T) {
		e := newEnv(t, "linux")
		(&fakeSystemd{busErr: "System has not been booted with systemd as init system (PID 1). Can't operate."}).register(e.fake)
		_, err := e.m.Detect(ctx, e.spec)
		if err == nil || !strings.Contains(err.Error(), "install cron") || !strings.Contains(err.Error(), "System has not been booted") {
			t.Errorf("Detect error = %v", err)
		}
	})
	t.Run("wrong OS", func(t *testing.T) {
		e := newEnv(t, "linux")
		e.spec.Kind = Launchd
		if _, err := e.m.Install(ctx, e.spec); err == nil || !strings.HasPrefix(err.Error(), "kind: launchd exists only on macOS") {
			t.Errorf("Install launchd on linux: %v", err)
		}
		e.spec.GOOS, e.spec.Kind = "darwin", Systemd
		if _, err := e.m.Install(ctx, e.spec); err == nil || !strings.HasPrefix(err.Error(), "kind: ") {
			t.Errorf("Install systemd on darwin: %v", err)
		}
	})
}

func TestSystemdInstallIdempotentAndUpdate(t *testing.T) {
	e := newEnv(t, "linux")
	sd := &fakeSystemd{linger: "no"}
	sd.register(e.fake)
	rep, err := e.m.Install(ctx, e.spec)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != Systemd || !rep.Changed {
		t.Errorf("report %+v", rep)
	}
	dir := filepath.Join(e.spec.HomeDir, ".config", "systemd", "user")
	for _, name := range []string{templates.ServiceName, templates.TimerName} {
		p := filepath.Join(dir, name)
		if m := mode(t, p); m != 0o644 {
			t.Errorf("%s mode %o, want 644", name, m)
		}
	}
	svc, _ := os.ReadFile(filepath.Join(dir, templates.ServiceName))
	if !strings.Contains(string(svc), "WorkingDirectory="+strings.ReplaceAll(e.spec.ProjectDir, "%", "%%")+"\n") {
		t.Errorf("service:\n%s", svc)
	}
	wantCalls(t, e.fake.CallStrings(),
		"systemctl --user show --property=Version --value",
		"systemctl --user daemon-reload",
		"systemctl --user enable --now voyce-oauth-rotation.timer",
		"loginctl show-user dev --property=Linger")
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "loginctl enable-linger dev") {
		t.Errorf("warnings %q: want the lingering fix", rep.Warnings)
	}

	// Twice: nothing rewritten, no reload.
	sd.linger = "yes"
	e.reset(sd)
	rep, err = e.m.Install(ctx, e.spec)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed || len(rep.Warnings) != 0 {
		t.Errorf("second install: %+v", rep)
	}
	wantCalls(t, e.fake.CallStrings(),
		"systemctl --user show --property=Version --value",
		"systemctl --user enable --now voyce-oauth-rotation.timer",
		"loginctl show-user dev --property=Linger")

	// A new interval: rewritten, reloaded, the running timer restarted.
	e.reset(sd)
	e.spec.Interval = 10 * time.Minute
	rep, err = e.m.Install(ctx, e.spec)
	if err != nil || !rep.Changed {
		t.Fatalf("%+v %v", rep, err)
	}
	wantCalls(t, e.fake.CallStrings(),
		"systemctl --user show --property=Version --value",
		"systemctl --user daemon-reload",
		"systemctl --user enable --now voyce-oauth-rotation.timer",
		"systemctl --user restart voyce-oauth-rotation.timer",
		"loginctl show-user dev --property=Linger")
}

func TestSystemdBusFailure(t *testing.T) {
	for _, tc := range []struct{ stderr, fix string }{
		{"Failed to connect to bus: No medium found", "loginctl enable-linger"},
		{"Failed to connect to bus: $DBUS_SESSION_BUS_ADDRESS and $XDG_RUNTIME_DIR not defined (consider using --machine=<user>@.host --user to connect to bus of other user)", "--kind cron"},
		{"System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down", "/etc/wsl.conf"},
	} {
		e := newEnv(t, "linux")
		e.spec.Kind = Systemd
		(&fakeSystemd{busErr: tc.stderr}).register(e.fake)
		_, err := e.m.Install(ctx, e.spec)
		var se *Error
		if !errors.As(err, &se) {
			t.Fatalf("error %v: want *Error", err)
		}
		first := strings.SplitN(tc.stderr, "\n", 2)[0]
		if !strings.Contains(se.Message, first) || !strings.Contains(se.Fix, tc.fix) || strings.Contains(err.Error(), "\n") {
			t.Errorf("error %q: want the scheduler's words and a fix with %q, on one line", err, tc.fix)
		}
		if _, statErr := os.Stat(filepath.Join(e.spec.SystemdDir(), templates.TimerName)); statErr == nil {
			t.Error("unit written although the user manager did not answer")
		}
	}
}

func TestSystemdStatusAndRemove(t *testing.T) {
	e := newEnv(t, "linux")
	sd := &fakeSystemd{linger: "yes", result: "success",
		listOut: "Thu 2026-11-26 06:35:12 UTC 3min 2s left Thu 2026-11-26 06:30:05 UTC 2min 5s ago voyce-oauth-rotation.timer voyce-oauth-rotation.service\n"}
	sd.register(e.fake)
	(&fakeCron{}).register(e.fake)

	r, err := e.m.Status(ctx, e.spec)
	if err != nil {
		t.Fatal(err)
	}
	if r.Installed || r.Kind != Systemd || len(r.Problems) == 0 || !strings.Contains(r.Problems[0], "voyce-auth schedule install") {
		t.Errorf("status before install: %+v", r)
	}

	e.spec.Interval = 10 * time.Minute
	if _, err := e.m.Install(ctx, e.spec); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(e.spec.ProjectDir, "logs"), 0o700)
	os.WriteFile(e.spec.LogPath(), []byte("2026-11-26T06:00:01Z rotated ok\n2026-11-26T06:30:05Z rotated ok, expires 07:30:05Z\n\n"), 0o600)

	st := e.spec
	st.Interval = 0 // status reads the installed interval
	r, err = e.m.Status(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Interval != 10*time.Minute || r.State != "timer enabled, active" || r.LastResult != "success" {
		t.Errorf("status: %+v", r)
	}
	if want := time.Date(2026, 11, 26, 6, 35, 12, 0, time.UTC); !r.NextRun.Equal(want) {
		t.Errorf("NextRun %v, want %v", r.NextRun, want)
	}
	if want := time.Date(2026, 11, 26, 6, 30, 5, 0, time.UTC); !r.LastRun.Equal(want) {
		t.Errorf("LastRun %v, want %v", r.LastRun, want)
	}
	if r.LastLogLine != "2026-11-26T06:30:05Z rotated ok, expires 07:30:05Z" {
		t.Errorf("LastLogLine %q", r.LastLogLine)
	}
	b, _ := json.Marshal(r)
	for _, want := range []string{`"kind":"systemd"`, `"installed":true`, `"matches":true`, `"next_run":"2026-11-26T06:35:12Z"`, `"interval_seconds":600`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("json %s lacks %s", b, want)
		}
	}

	// Lingering off is a warning (fine on an always-logged-in desktop), not a problem.
	sd.linger = "no"
	r, _ = e.m.Status(ctx, st)
	if !r.OK() || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "loginctl enable-linger dev") {
		t.Errorf("lingering off: ok=%v warnings=%q problems=%q", r.OK(), r.Warnings, r.Problems)
	}
	sd.linger = "yes"

	// The binary moved: status says the installed unit is stale, and how to fix it.
	moved := st
	moved.Binary = "/usr/local/bin/voyce-auth"
	r, _ = e.m.Status(ctx, moved)
	if r.Matches || !strings.Contains(r.Mismatch, "ExecStart=") || !strings.Contains(r.Mismatch, "/home/dev/go/bin/voyce-auth") {
		t.Errorf("moved binary: matches=%v mismatch=%q", r.Matches, r.Mismatch)
	}
	if !slices.ContainsFunc(r.Problems, func(p string) bool { return strings.Contains(p, "Fix: voyce-auth schedule install") }) {
		t.Errorf("problems %q", r.Problems)
	}

	// Timer stopped: a problem with the systemctl fix.
	sd.active = false
	r, _ = e.m.Status(ctx, st)
	if r.Active || r.OK() || !slices.ContainsFunc(r.Problems, func(p string) bool { return strings.Contains(p, "systemctl --user enable --now") }) {
		t.Errorf("inactive timer: %+v", r)
	}

	e.reset(sd, &fakeCron{})
	rep, err := e.m.Remove(ctx, Spec{Kind: Auto, Params: e.spec.Params, HomeDir: e.spec.HomeDir, User: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Kinds, []Kind{Systemd}) || len(rep.Files) != 2 {
		t.Errorf("remove report %+v", rep)
	}
	calls := e.fake.CallStrings()
	wantCalls(t, calls[:3],
		"systemctl --user disable --now voyce-oauth-rotation.timer",
		"systemctl --user daemon-reload",
		"systemctl --user reset-failed voyce-oauth-rotation.service voyce-oauth-rotation.timer")
	entries, _ := os.ReadDir(e.spec.SystemdDir())
	if len(entries) != 0 {
		t.Errorf("left in the unit folder: %v", entries)
	}
	rep, err = e.m.Remove(ctx, e.spec)
	if err != nil || len(rep.Kinds) != 0 {
		t.Errorf("second remove: %+v %v", rep, err)
	}
}

func TestParseListTimersNeverRan(t *testing.T) {
	next, last := parseListTimers("Thu 2026-11-26 06:35:12 UTC 4min 10s left n/a n/a voyce-oauth-rotation.timer voyce-oauth-rotation.service\n")
	if next.IsZero() || !last.IsZero() {
		t.Errorf("next %v last %v", next, last)
	}
	next, last = parseListTimers("n/a n/a Thu 2026-11-26 06:30:05 UTC 5min ago voyce-oauth-rotation.timer voyce-oauth-rotation.service")
	if !next.IsZero() || last.IsZero() {
		t.Errorf("next %v last %v", next, last)
	}
}

func TestLaunchdInstall(t *testing.T) {
	e := newEnv(t, "darwin")
	l := &fakeLaunchd{lingerPolls: 2, printOut: "gui/501/com.voyce.oauth-rotation = {\n\tstate = not running\n\tlast exit code = 0\n}\n"}
	l.register(e.fake)
	rep, err := e.m.Install(ctx, e.spec)
	if err != nil {
		t.Fatal(err)
	}
	plist := filepath.Join(e.spec.HomeDir, "Library", "LaunchAgents", "com.voyce.oauth-rotation.plist")
	if rep.Kind != Launchd || !rep.Changed || rep.Files[0] != plist {
		t.Errorf("report %+v", rep)
	}
	if m := mode(t, plist); m != 0o644 {
		t.Errorf("plist mode %o", m)
	}
	if fi, err := os.Stat(filepath.Join(e.spec.ProjectDir, "logs")); err != nil || !fi.IsDir() {
		t.Errorf("logs folder not created: %v", err)
	}
	wantCalls(t, e.fake.CallStrings(),
		"launchctl print gui/501/com.voyce.oauth-rotation",
		"launchctl bootstrap gui/501 "+plist)

	// Twice: loaded and unchanged, nothing to do.
	e.reset(l)
	rep, err = e.m.Install(ctx, e.spec)
	if err != nil || rep.Changed {
		t.Fatalf("%+v %v", rep, err)
	}
	wantCalls(t, e.fake.CallStrings(), "launchctl print gui/501/com.voyce.oauth-rotation")

	// Changed while loaded: bootout, wait until gone (two more polls), bootstrap.
	e.reset(l)
	e.spec.Interval = 15 * time.Minute
	rep, err = e.m.Install(ctx, e.spec)
	if err != nil || !rep.Changed {
		t.Fatalf("%+v %v", rep, err)
	}
	wantCalls(t, e.fake.CallStrings(),
		"launchctl print gui/501/com.voyce.oauth-rotation",
		"launchctl bootout gui/501/com.voyce.oauth-rotation",
		"launchctl print gui/501/com.voyce.oauth-rotation",
		"launchctl print gui/501/com.voyce.oauth-rotation",
		"launchctl print gui/501/com.voyce.oauth-rotation",
		"launchctl bootstrap gui/501 "+plist)
	if len(e.sleeps) != 2 {
		t.Errorf("slept %v, want twice", e.sleeps)
	}

	r, err := e.m.Status(ctx, Spec{Params: e.spec.Params, HomeDir: e.spec.HomeDir, UID: 501})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Kind != Launchd || r.State != "loaded, not running" || r.LastResult != "success" || r.Interval != 15*time.Minute {
		t.Errorf("status %+v", r)
	}

	e.reset(l)
	rm, err := e.m.Remove(ctx, e.spec)
	if err != nil || !slices.Equal(rm.Kinds, []Kind{Launchd}) {
		t.Fatalf("%+v %v", rm, err)
	}
	if _, err := os.Stat(plist); err == nil {
		t.Error("plist still there")
	}
	if l.loaded {
		t.Error("still loaded")
	}
}

func TestLaunchdLabelStillRegistered(t *testing.T) {
	e := newEnv(t, "darwin")
	l := &fakeLaunchd{loaded: true, lingerPolls: -1}
	l.register(e.fake)
	_, err := e.m.Install(ctx, e.spec)
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(se.Message, "still registered") || !strings.Contains(se.Fix, "launchctl bootout gui/501/com.voyce.oauth-rotation") {
		t.Fatalf("error %v", err)
	}
	if len(e.sleeps) != bootoutAttempts {
		t.Errorf("slept %d times, want the bound %d", len(e.sleeps), bootoutAttempts)
	}
	if slices.ContainsFunc(e.fake.CallStrings(), func(c string) bool { return strings.HasPrefix(c, "launchctl bootstrap") }) {
		t.Error("bootstrapped while the old copy was still registered")
	}

	// launchd's own error, when it happens anyway, gets the same explanation.
	e = newEnv(t, "darwin")
	(&fakeLaunchd{bootstrapErr: "Bootstrap failed: 5: Input/output error"}).register(e.fake)
	_, err = e.m.Install(ctx, e.spec)
	if !errors.As(err, &se) || se.Message != "Bootstrap failed: 5: Input/output error" || !strings.Contains(se.Fix, "still registered") {
		t.Fatalf("error %v", err)
	}

	e = newEnv(t, "darwin")
	(&fakeLaunchd{bootstrapErr: "Bootstrap failed: 125: Domain does not support specified action"}).register(e.fake)
	_, err = e.m.Install(ctx, e.spec)
	if !errors.As(err, &se) || !strings.Contains(se.Fix, "GUI login session") {
		t.Fatalf("error %v", err)
	}
}

const otherLines = "# my jobs\r\nMAILTO=dev@example.com\n*/10 * * * * /usr/bin/backup --quiet\t# tab\n\n@daily echo '100%' > /dev/null" // no final newline

func TestCronInstallKeepsOtherLines(t *testing.T) {
	e := newEnv(t, "linux")
	e.spec.Kind = Cron
	cr := &fakeCron{table: otherLines, has: true}
	cr.register(e.fake)
	rep, err := e.m.Install(ctx, e.spec)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Changed || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "cron daemon") {
		t.Errorf("report %+v (no cron daemon in this fake: want the warning)", rep)
	}
	if !strings.HasPrefix(cr.table, otherLines+"\n"+templates.CronHeader+"\n") {
		t.Errorf("table:\n%s", cr.table)
	}
	after := cr.table

	e.cronDaemonRunning(t)
	rep, err = e.m.Install(ctx, e.spec)
	if err != nil || rep.Changed || len(rep.Warnings) != 0 {
		t.Errorf("second install: %+v %v", rep, err)
	}
	if cr.table != after {
		t.Error("second install changed the table")
	}

	r, err := e.m.Status(ctx, Spec{Params: e.spec.Params, HomeDir: e.spec.HomeDir})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Kind != Cron || r.Interval != 5*time.Minute {
		t.Errorf("status %+v", r)
	}
	if want := time.Date(2026, 11, 26, 6, 35, 0, 0, time.UTC); !r.NextRun.Equal(want) {
		t.Errorf("NextRun %v, want %v", r.NextRun, want)
	}

	// A change in place: the block stays where it was.
	cr.table = strings.Replace(cr.table, templates.CronHeader+"\n", "", 1) + "0 3 * * * /usr/bin/late\n"
	e.spec.Interval = 15 * time.Minute
	if _, err := e.m.Install(ctx, e.spec); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(cr.table, "0 3 * * * /usr/bin/late\n") || !strings.Contains(cr.table, "\n*/15 * * * * cd ") {
		t.Errorf("table after update:\n%s", cr.table)
	}

	rm, err := e.m.Remove(ctx, e.spec)
	if err != nil || !slices.Equal(rm.Kinds, []Kind{Cron}) {
		t.Fatalf("%+v %v", rm, err)
	}
	if cr.table != otherLines+"\n0 3 * * * /usr/bin/late\n" {
		t.Errorf("after remove:\n%q", cr.table)
	}
}

func TestCronRemoveLeavesNoEmptyTable(t *testing.T) {
	e := newEnv(t, "linux")
	e.spec.Kind = Cron
	cr := &fakeCron{}
	cr.register(e.fake)
	if _, err := e.m.Install(ctx, e.spec); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Remove(ctx, e.spec); err != nil {
		t.Fatal(err)
	}
	if cr.has {
		t.Errorf("a crontab is left: %q", cr.table)
	}
	wantCalls(t, e.fake.CallStrings(), "crontab -l", "crontab -", "crontab -l", "crontab -r")
}

func TestCronFailures(t *testing.T) {
	e := newEnv(t, "linux")
	e.spec.Kind = Cron
	_, err := e.m.Install(ctx, e.spec)
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(se.Fix, "apt-get install cron") {
		t.Errorf("no crontab: %v", err)
	}
	e = newEnv(t, "linux")
	e.spec.Kind = Cron
	(&fakeCron{fail: "You (dev) are not allowed to use this program (crontab)\nSee crontab(1) for more information\n"}).register(e.fake)
	_, err = e.m.Install(ctx, e.spec)
	if !errors.As(err, &se) || !strings.Contains(se.Message, "not allowed") || !strings.Contains(se.Fix, "cron.allow") {
		t.Errorf("forbidden: %v", err)
	}
	e.spec.Interval = 7 * time.Minute
	if _, err := e.m.Install(ctx, e.spec); err == nil || !strings.HasPrefix(err.Error(), "interval: cron can only") {
		t.Errorf("7m: %v", err)
	}
}

func TestApplyAndStripCron(t *testing.T) {
	block := templates.CronHeader + "\n* * * * * x " + templates.CronTag + "\n"
	for _, old := range []string{"", "a\n", "a", "a\r\nb\r\n", "a\n" + block + "b\n", "\n\n"} {
		got := applyCron(old, block)
		if !strings.Contains(got, block) || strings.Count(got, templates.CronTag) != 1 {
			t.Errorf("applyCron(%q) = %q", old, got)
		}
		if applyCron(got, block) != got {
			t.Errorf("applyCron not idempotent on %q", old)
		}
		rest, _, found := stripCron(got)
		if !found {
			t.Errorf("stripCron found nothing in %q", got)
		}
		want := strings.Replace(old, block, "", 1)
		if want != "" && !strings.HasSuffix(want, "\n") {
			want += "\n"
		}
		if rest != want {
			t.Errorf("stripCron(applyCron(%q)) = %q, want %q", old, rest, want)
		}
	}
}

func TestStatusTwoKinds(t *testing.T) {
	e := newEnv(t, "linux")
	sd := &fakeSystemd{linger: "yes"}
	sd.register(e.fake)
	cr := &fakeCron{}
	cr.register(e.fake)
	e.cronDaemonRunning(t)
	e.spec.Kind = Systemd
	e.m.Install(ctx, e.spec)
	e.spec.Kind = Cron
	e.m.Install(ctx, e.spec)
	e.spec.Kind = Auto
	r, err := e.m.Status(ctx, e.spec)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != Systemd || !slices.Equal(r.AlsoInstalled, []Kind{Cron}) || !slices.ContainsFunc(r.Problems, func(p string) bool { return strings.Contains(p, "runs twice") }) {
		t.Errorf("status %+v", r)
	}
	rep, err := e.m.Remove(ctx, e.spec)
	if err != nil || !slices.Equal(rep.Kinds, []Kind{Systemd, Cron}) {
		t.Errorf("remove %+v %v", rep, err)
	}
}

func TestWriteFileAtomic0644(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "unit")
	changed, created, err := writeFile(p, []byte("a\n"))
	if err != nil || !changed || !created {
		t.Fatalf("%v %v %v", changed, created, err)
	}
	if m := mode(t, p); m != 0o644 {
		t.Errorf("mode %o", m)
	}
	os.Chmod(p, 0o666)
	changed, _, _ = writeFile(p, []byte("a\n"))
	if !changed || mode(t, p) != 0o644 {
		t.Error("group/world-writable file not corrected")
	}
	changed, _, _ = writeFile(p, []byte("a\n"))
	if changed {
		t.Error("identical content rewritten")
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestLastLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	if lastLine(p) != "" {
		t.Error("missing file")
	}
	big := strings.Repeat("x", 70<<10) + "\nlast one\r\n"
	os.WriteFile(p, []byte(big), 0o600)
	if got := lastLine(p); got != "last one" {
		t.Errorf("lastLine = %q", got)
	}
}

func TestNewSpec(t *testing.T) {
	e := newEnv(t, "linux")
	e.fake.SetPath("databricks", "/opt/dbx/bin/databricks")
	m := Machine{
		Runner:     e.fake,
		Executable: func() (string, error) { return "/usr/local/bin/voyce-auth", nil },
		Getenv:     func(k string) string { return map[string]string{"LOGNAME": "zoë", "XDG_CONFIG_HOME": "/cfg"}[k] },
		EnvFile:    "/p/.env", ProjectDir: "/p", GOOS: "linux", HomeDir: "/home/z", UID: 1001,
	}
	s, err := NewSpec(Auto, 10*time.Minute, m)
	if err != nil {
		t.Fatal(err)
	}
	if s.DatabricksDir != "/opt/dbx/bin" || s.User != "zoë" || s.SystemdDir() != "/cfg/systemd/user" || s.UID != 1001 || s.Interval != 10*time.Minute || s.Binary != "/usr/local/bin/voyce-auth" {
		t.Errorf("%+v", s)
	}
	m.Executable = func() (string, error) { return "", errors.New("boom") }
	if _, err := NewSpec(Auto, 0, m); err == nil {
		t.Error("no error for an unknown executable")
	}
}

func TestDiffWindow(t *testing.T) {
	a := "*/5 * * * * cd '/p' && PATH='/usr/bin:/bin' exec '/tmp/bin/voyce-auth' rotate --env-file '/p/.env' >>logs/x 2>&1"
	b := strings.Replace(a, "/tmp/bin/", "/tmp/bin2/", 1)
	x, y := diffWindow(a, b)
	if x != "…'/usr/bin:/bin' exec '/tmp/bin/voyce-auth' ro…" || y != "…'/usr/bin:/bin' exec '/tmp/bin2/voyce-auth' ro…" {
		t.Errorf("%q\n%q", x, y)
	}
	if x, y := diffWindow("a", "b"); x != "a" || y != "b" {
		t.Errorf("%q %q", x, y)
	}
	if x, y := diffWindow("zoë1", "zoë2"); x != "zoë1" || y != "zoë2" {
		t.Errorf("%q %q", x, y)
	}
}
