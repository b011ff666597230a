package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/templates"
)

func systemctl(args ...string) run.Cmd {
	return run.Cmd{Name: "systemctl", Args: append([]string{"--user"}, args...)}
}

// systemdVersion asks the user manager for its version: it answers only when a user session bus exists.
func (m *Manager) systemdVersion(ctx context.Context) (string, error) {
	res, err := m.run(ctx, systemctl("show", "--property=Version", "--value"))
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(res.Stdout))
	if v == "" {
		v = "unknown version"
	}
	return v, nil
}

func (m *Manager) installSystemd(ctx context.Context, s Spec, targets []Target, rep *InstallReport, probed bool) error {
	// Ask the user manager first, so a machine without one gets the fix and no files.
	rep.Commands = append(rep.Commands, systemctl("show", "--property=Version", "--value").String())
	if !probed {
		if _, err := m.systemdVersion(ctx); err != nil {
			return err
		}
	}
	existed := false
	for _, t := range targets {
		changed, created, err := writeFile(t.Path, t.Content)
		if err != nil {
			return err
		}
		rep.Changed = rep.Changed || changed
		existed = existed || !created
	}
	var cmds []run.Cmd
	if rep.Changed {
		cmds = append(cmds, systemctl("daemon-reload"))
	}
	cmds = append(cmds, systemctl("enable", "--now", templates.TimerName))
	if rep.Changed && existed {
		// A timer that was already running keeps its old schedule until restarted.
		cmds = append(cmds, systemctl("restart", templates.TimerName))
	}
	for _, c := range cmds {
		rep.Commands = append(rep.Commands, c.String())
		if _, err := m.run(ctx, c); err != nil {
			return err
		}
	}
	if w := m.lingerWarning(ctx, s); w != "" {
		rep.Warnings = append(rep.Warnings, w)
	}
	return nil
}

func (m *Manager) removeSystemd(ctx context.Context, s Spec, rep *RemoveReport) (bool, error) {
	var present []string
	for _, name := range []string{templates.TimerName, templates.ServiceName} {
		p := filepath.Join(s.SystemdDir(), name)
		if _, err := os.Lstat(p); err == nil {
			present = append(present, p)
		}
	}
	if len(present) == 0 {
		return false, nil
	}
	c := systemctl("disable", "--now", templates.TimerName)
	rep.Commands = append(rep.Commands, c.String())
	if _, err := m.run(ctx, c); err != nil {
		var se *Error
		// A timer the manager does not know is fine to delete; a manager that does not answer is not.
		if !errors.As(err, &se) || !(strings.Contains(se.Message, "does not exist") || strings.Contains(se.Message, "not loaded")) {
			return true, err
		}
	}
	for _, p := range present {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return true, fmt.Errorf("remove %s: %w", p, err)
		}
		rep.Files = append(rep.Files, p)
	}
	c = systemctl("daemon-reload")
	rep.Commands = append(rep.Commands, c.String())
	if _, err := m.run(ctx, c); err != nil {
		return true, err
	}
	// Forget a failed last run so the unit does not linger in 'systemctl --user --failed'.
	_, _ = m.Runner.Run(ctx, systemctl("reset-failed", templates.ServiceName, templates.TimerName))
	return true, nil
}

// lingerWarning returns a warning with the fix when the user's units stop at logout.
func (m *Manager) lingerWarning(ctx context.Context, s Spec) string {
	if s.User == "" {
		return ""
	}
	on, known := m.linger(ctx, s.User)
	if on {
		return ""
	}
	what := "lingering is off"
	if !known {
		what = "lingering could not be confirmed (loginctl did not answer and no linger file)"
	}
	return fmt.Sprintf("%s for %s: the timer runs only while you are logged in. Fix: loginctl enable-linger %s (may need sudo)", what, s.User, s.User)
}

func (m *Manager) linger(ctx context.Context, user string) (on, known bool) {
	res, err := m.run(ctx, run.Cmd{Name: "loginctl", Args: []string{"show-user", user, "--property=Linger"}})
	if err == nil {
		v := strings.TrimSpace(string(res.Stdout))
		if v == "Linger=yes" {
			return true, true
		}
		if v == "Linger=no" {
			return false, true
		}
	}
	dir := m.LingerDir
	if dir == "" {
		dir = "/var/lib/systemd/linger"
	}
	if _, err := os.Stat(filepath.Join(dir, user)); err == nil {
		return true, true
	}
	return false, false
}

func (m *Manager) statusSystemd(ctx context.Context, s Spec, r *StatusReport) error {
	svc := filepath.Join(s.SystemdDir(), templates.ServiceName)
	tmr := filepath.Join(s.SystemdDir(), templates.TimerName)
	installed := map[string][]byte{}
	for _, p := range []string{svc, tmr} {
		b, err := os.ReadFile(p)
		if err == nil {
			installed[p] = b
			r.Files = append(r.Files, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("read %s: %w", p, err)
		}
	}
	if len(installed) == 0 {
		return nil
	}
	r.Installed = true
	if len(installed) == 1 {
		r.Problems = append(r.Problems, "only one of the two unit files is installed. Fix: voyce-auth schedule install --kind systemd")
	}
	if s.Interval == 0 {
		s.Interval = parseSystemdInterval(string(installed[tmr]))
	}
	r.compare(s, installed)

	res, err := m.run(ctx, systemctl("is-enabled", templates.TimerName))
	state := strings.TrimSpace(string(res.Stdout))
	if err != nil && state == "" {
		// No manager to ask: report the files and why the state is unknown.
		var se *Error
		if errors.As(err, &se) {
			r.Problems = append(r.Problems, se.Error())
		}
		return nil
	}
	r.Enabled = state == "enabled"
	res, _ = m.run(ctx, systemctl("is-active", templates.TimerName))
	active := strings.TrimSpace(string(res.Stdout))
	r.Active = active == "active"
	r.State = fmt.Sprintf("timer %s, %s", state, active)
	if !r.Enabled || !r.Active {
		r.Problems = append(r.Problems, fmt.Sprintf("the timer is %s and %s. Fix: systemctl --user enable --now %s", state, active, templates.TimerName))
	}
	if res, err := m.run(ctx, systemctl("list-timers", "--all", "--no-legend", "--no-pager", templates.TimerName)); err == nil {
		r.NextRun, r.LastRun = parseListTimers(string(res.Stdout))
	}
	if res, err := m.run(ctx, systemctl("show", templates.ServiceName, "--property=Result")); err == nil {
		r.LastResult = strings.TrimPrefix(strings.TrimSpace(string(res.Stdout)), "Result=")
		if r.LastResult != "" && r.LastResult != "success" && !r.LastRun.IsZero() {
			r.Problems = append(r.Problems, fmt.Sprintf("the last run ended with %q. See: journalctl --user -u %s -n 20", r.LastResult, templates.ServiceName))
		}
	}
	if w := m.lingerWarning(ctx, s); w != "" {
		r.Warnings = append(r.Warnings, w)
	}
	return nil
}

var (
	onActiveRe = regexp.MustCompile(`(?m)^OnUnitActiveSec=(\d+)(h|min|s)\s*$`)
	// systemctl prints timestamps like "Thu 2026-11-26 06:35:12 UTC".
	timestampRe = regexp.MustCompile(`[A-Z][a-z]{2} \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [A-Za-z0-9+\-_/]+`)
)

func parseSystemdInterval(timer string) time.Duration {
	m := onActiveRe.FindStringSubmatch(timer)
	if m == nil {
		return 0
	}
	var n int64
	fmt.Sscan(m[1], &n)
	unit := map[string]time.Duration{"h": time.Hour, "min": time.Minute, "s": time.Second}[m[2]]
	return time.Duration(n) * unit
}

// parseListTimers reads the NEXT and LAST columns of one 'systemctl list-timers --no-legend' line: a
// timestamp followed by "... left" is the next run, one followed by "... ago" the last.
func parseListTimers(out string) (next, last time.Time) {
	line := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	locs := timestampRe.FindAllStringIndex(line, -1)
	for i, loc := range locs {
		end := len(line)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		after := line[loc[1]:end]
		t, ok := parseSystemdTime(line[loc[0]:loc[1]])
		if !ok {
			continue
		}
		switch {
		case strings.Contains(after, " left"):
			next = t
		case strings.Contains(after, " ago"):
			last = t
		}
	}
	return next, last
}

func parseSystemdTime(s string) (time.Time, bool) {
	t, err := time.ParseInLocation("Mon 2006-01-02 15:04:05 MST", s, time.Local)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// compare sets Matches (and Mismatch) from the installed files and what install would render now.
func (r *StatusReport) compare(s Spec, installed map[string][]byte) {
	r.Interval = s.Interval
	if s.Interval == 0 {
		s.Interval = templates.DefaultInterval
	}
	targets, err := Render(s)
	if err != nil {
		r.Mismatch = "cannot render the current schedule: " + err.Error()
		r.Problems = append(r.Problems, r.Mismatch)
		return
	}
	r.Matches = true
	for _, t := range targets {
		got, ok := installed[t.Path]
		if !ok {
			r.Matches = false
			r.Mismatch = t.Path + " is missing"
			break
		}
		if !bytes.Equal(got, t.Content) {
			r.Matches = false
			r.Mismatch = firstDifference(t.Path, got, t.Content)
			break
		}
	}
	if !r.Matches {
		r.Problems = append(r.Problems, "the installed schedule differs from what install would write now (moved binary or project?): "+r.Mismatch+". Fix: voyce-auth schedule install")
	}
}

func firstDifference(name string, installed, want []byte) string {
	a := strings.Split(string(installed), "\n")
	b := strings.Split(string(want), "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			x, y = diffWindow(x, y)
			return fmt.Sprintf("%s line %d has %q where install would now write %q", name, i+1, x, y)
		}
	}
	return name + " differs"
}

// diffWindow cuts two differing lines down to the part that differs, with some context, marking cuts
// with "…".
func diffWindow(a, b string) (string, string) {
	const before, after = 30, 15
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	q := 0
	for q < len(a)-p && q < len(b)-p && a[len(a)-1-q] == b[len(b)-1-q] {
		q++
	}
	start := max(0, p-before)
	for start > 0 && !utf8.RuneStart(a[start]) {
		start--
	}
	cut := func(s string) string {
		end := min(len(s), len(s)-q+after)
		for end < len(s) && !utf8.RuneStart(s[end]) {
			end++
		}
		out := s[start:end]
		if start > 0 {
			out = "…" + out
		}
		if end < len(s) {
			out += "…"
		}
		return out
	}
	return cut(a), cut(b)
}
