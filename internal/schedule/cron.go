package schedule

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/templates"
)

// readCrontab returns the user's crontab as 'crontab -l' prints it; "" when the user has none.
func (m *Manager) readCrontab(ctx context.Context) (string, error) {
	res, err := m.run(ctx, run.Cmd{Name: "crontab", Args: []string{"-l"}})
	if err != nil {
		var se *Error
		if errors.As(err, &se) && strings.Contains(se.Message, "no crontab for") {
			return "", nil
		}
		return "", err
	}
	return string(res.Stdout), nil
}

func (m *Manager) writeCrontab(ctx context.Context, content string) (run.Cmd, error) {
	if content == "" {
		c := run.Cmd{Name: "crontab", Args: []string{"-r"}}
		_, err := m.run(ctx, c)
		return c, err
	}
	c := run.Cmd{Name: "crontab", Args: []string{"-"}, Stdin: strings.NewReader(content)}
	_, err := m.run(ctx, c)
	return c, err
}

// isManaged reports whether a crontab line is one voyce-auth wrote: the header comment, or a line ending
// in the tag.
func isManaged(line string) bool {
	l := strings.TrimRight(line, "\r\n")
	return l == templates.CronHeader || strings.HasSuffix(l, " "+templates.CronTag)
}

// splitLines splits s into lines, each keeping its "\n" (the last may have none).
func splitLines(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// applyCron puts block where the managed lines were (or at the end), keeping every other line byte for
// byte.
func applyCron(old, block string) string {
	var b strings.Builder
	inserted := false
	for _, l := range splitLines(old) {
		if isManaged(l) {
			if !inserted {
				b.WriteString(block)
				inserted = true
			}
			continue
		}
		b.WriteString(l)
	}
	if !inserted {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte('\n') // crontab refuses a file without a final newline
		}
		b.WriteString(block)
	}
	return b.String()
}

// stripCron removes the managed lines; found says whether there were any.
func stripCron(old string) (rest, managed string, found bool) {
	var b, m strings.Builder
	for _, l := range splitLines(old) {
		if isManaged(l) {
			m.WriteString(l)
			found = true
			continue
		}
		b.WriteString(l)
	}
	return b.String(), m.String(), found
}

func (m *Manager) installCron(ctx context.Context, s Spec, targets []Target, rep *InstallReport) error {
	old, err := m.readCrontab(ctx)
	if err != nil {
		return err
	}
	rep.Commands = append(rep.Commands, "crontab -l")
	updated := applyCron(old, string(targets[0].Content))
	if updated == old {
		return nil
	}
	c, err := m.writeCrontab(ctx, updated)
	rep.Commands = append(rep.Commands, c.String())
	if err != nil {
		return err
	}
	rep.Changed = true
	if w := m.cronDaemonWarning(s); w != "" {
		rep.Warnings = append(rep.Warnings, w)
	}
	return nil
}

func (m *Manager) removeCron(ctx context.Context, s Spec, rep *RemoveReport) (bool, error) {
	if _, err := m.Runner.LookPath("crontab"); err != nil {
		return false, nil // no crontab program: nothing of ours can be in a crontab
	}
	old, err := m.readCrontab(ctx)
	if err != nil {
		return false, err
	}
	rest, _, found := stripCron(old)
	if !found {
		return false, nil
	}
	c, err := m.writeCrontab(ctx, rest)
	rep.Commands = append(rep.Commands, "crontab -l", c.String())
	if err != nil {
		return true, err
	}
	rep.Files = append(rep.Files, "crontab")
	return true, nil
}

func (m *Manager) statusCron(ctx context.Context, s Spec, r *StatusReport) error {
	if _, err := m.Runner.LookPath("crontab"); err != nil {
		return nil
	}
	old, err := m.readCrontab(ctx)
	if err != nil {
		return err
	}
	_, managed, found := stripCron(old)
	if !found {
		return nil
	}
	r.Installed = true
	r.Files = []string{"crontab"}
	for _, l := range splitLines(managed) {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "#") || !strings.HasSuffix(l, templates.CronTag) {
			continue
		}
		r.Enabled = true
		if s.Interval == 0 {
			s.Interval = parseCronInterval(l)
		}
	}
	r.compare(s, map[string][]byte{"crontab": []byte(managed)})
	if !r.Enabled {
		r.Problems = append(r.Problems, "the voyce-auth crontab lines are commented out. Fix: voyce-auth schedule install --kind cron")
	}
	r.Active = r.Enabled
	r.State = "crontab lines present"
	if w := m.cronDaemonWarning(s); w != "" {
		r.Active = false
		r.State = "crontab lines present, no cron daemon found"
		r.Warnings = append(r.Warnings, w)
	}
	if r.Enabled && s.Interval > 0 && m.Clock != nil {
		r.NextRun = nextCronRun(m.now(), s.Interval)
	}
	return nil
}

// parseCronInterval reads the minute field of a managed line ("*/5", "*", "0").
func parseCronInterval(line string) time.Duration {
	f := strings.Fields(line)
	if len(f) < 5 || f[1] != "*" {
		return 0
	}
	switch {
	case f[0] == "*":
		return time.Minute
	case f[0] == "0":
		return time.Hour
	case strings.HasPrefix(f[0], "*/"):
		n, err := strconv.Atoi(f[0][2:])
		if err == nil && n > 0 {
			return time.Duration(n) * time.Minute
		}
	}
	return 0
}

// nextCronRun is the next minute after now that the */N schedule fires at.
func nextCronRun(now time.Time, every time.Duration) time.Time {
	n := int(every / time.Minute)
	if n <= 0 {
		return time.Time{}
	}
	t := now.Truncate(time.Minute).Add(time.Minute)
	for i := 0; i < 24*60; i++ {
		if t.Minute()%n == 0 && (n < 60 || t.Minute() == 0) {
			return t
		}
		t = t.Add(time.Minute)
	}
	return time.Time{}
}

// cronDaemonWarning says so when no cron daemon seems to be running (Linux only: macOS starts cron on
// demand).
func (m *Manager) cronDaemonWarning(s Spec) string {
	if s.GOOS != "linux" {
		return ""
	}
	files := m.CronPIDFiles
	if files == nil {
		files = []string{"/run/crond.pid", "/var/run/crond.pid", "/run/cron.pid", "/var/run/cron.pid"}
	}
	proc := m.ProcDir
	if proc == "" {
		proc = "/proc"
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid := strings.TrimSpace(string(b))
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(proc, pid)); err == nil {
			return ""
		}
	}
	return fmt.Sprintf("no running cron daemon found (no live pid in %s): the lines are installed but nothing runs them. Fix: sudo service cron start (Debian/Ubuntu) or sudo systemctl enable --now crond (Fedora)", strings.Join(files, ", "))
}
