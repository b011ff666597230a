package schedule

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/templates"
)

func launchctl(args ...string) run.Cmd { return run.Cmd{Name: "launchctl", Args: args} }

func domain(s Spec) string  { return "gui/" + strconv.Itoa(s.UID) }
func service(s Spec) string { return domain(s) + "/" + templates.LaunchdLabel }

// loaded reports whether launchd knows the label, with 'launchctl print' output when it does.
func (m *Manager) loaded(ctx context.Context, s Spec) (bool, string) {
	res, err := m.run(ctx, launchctl("print", service(s)))
	if err != nil {
		return false, ""
	}
	return true, string(res.Stdout)
}

func (m *Manager) installLaunchd(ctx context.Context, s Spec, targets []Target, rep *InstallReport) error {
	t := targets[0]
	// launchd does not create the folder of StandardOutPath/StandardErrorPath.
	if err := os.MkdirAll(filepath.Join(s.ProjectDir, "logs"), 0o700); err != nil {
		return fmt.Errorf("create the log folder: %w", err)
	}
	changed, _, err := writeFile(t.Path, t.Content)
	if err != nil {
		return err
	}
	rep.Changed = changed
	rep.Commands = append(rep.Commands, launchctl("print", service(s)).String())
	isLoaded, _ := m.loaded(ctx, s)
	if isLoaded && !changed {
		return nil // installed exactly like this and running: nothing to do
	}
	rep.Changed = true
	if isLoaded {
		if err := m.bootout(ctx, s, &rep.Commands); err != nil {
			return err
		}
	}
	c := launchctl("bootstrap", domain(s), t.Path)
	rep.Commands = append(rep.Commands, c.String())
	if _, err := m.run(ctx, c); err != nil {
		return err
	}
	return nil
}

// bootout unloads the agent and waits until launchd has let go of the label. "No such process" (already
// gone) and "Operation now in progress" (still stopping) are not failures: the wait decides.
func (m *Manager) bootout(ctx context.Context, s Spec, cmds *[]string) error {
	c := launchctl("bootout", service(s))
	*cmds = append(*cmds, c.String())
	if _, err := m.run(ctx, c); err != nil {
		var se *Error
		if !errors.As(err, &se) || !(strings.Contains(se.Message, "No such process") || strings.Contains(se.Message, "Operation now in progress")) {
			return err
		}
	}
	return m.waitGone(ctx, s)
}

// waitGone polls until launchd has finished unloading the label (bootout is asynchronous).
func (m *Manager) waitGone(ctx context.Context, s Spec) error {
	for i := 0; i < bootoutAttempts; i++ {
		if gone, _ := m.loaded(ctx, s); !gone {
			return nil
		}
		if err := m.sleep(ctx, bootoutPoll); err != nil {
			return err
		}
	}
	return &Error{
		Cmd:     launchctl("bootout", service(s)).String(),
		Message: fmt.Sprintf("the label is still registered %s after bootout", time.Duration(bootoutAttempts)*bootoutPoll),
		Fix:     fmt.Sprintf("wait a few seconds and run 'voyce-auth schedule install' again; if it stays, run 'launchctl bootout %s' or log out and in", service(s)),
	}
}

func (m *Manager) removeLaunchd(ctx context.Context, s Spec, rep *RemoveReport) (bool, error) {
	p := s.PlistPath()
	_, statErr := os.Lstat(p)
	isLoaded, _ := m.loaded(ctx, s)
	if statErr != nil && !isLoaded {
		return false, nil
	}
	if isLoaded {
		if err := m.bootout(ctx, s, &rep.Commands); err != nil {
			return true, err
		}
	}
	if statErr == nil {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return true, fmt.Errorf("remove %s: %w", p, err)
		}
		rep.Files = append(rep.Files, p)
	}
	return true, nil
}

var (
	startIntervalRe = regexp.MustCompile(`<key>StartInterval</key>\s*<integer>(\d+)</integer>`)
	lastExitRe      = regexp.MustCompile(`(?m)^\s*last exit code = (.+)$`)
	stateRe         = regexp.MustCompile(`(?m)^\s*state = (.+)$`)
)

func (m *Manager) statusLaunchd(ctx context.Context, s Spec, r *StatusReport) error {
	p := s.PlistPath()
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	r.Installed = true
	r.Files = []string{p}
	if s.Interval == 0 {
		if mm := startIntervalRe.FindSubmatch(b); mm != nil {
			n, _ := strconv.Atoi(string(mm[1]))
			s.Interval = time.Duration(n) * time.Second
		}
	}
	r.compare(s, map[string][]byte{p: b})
	isLoaded, out := m.loaded(ctx, s)
	r.Enabled, r.Active = isLoaded, isLoaded
	if !isLoaded {
		r.State = "not loaded"
		r.Problems = append(r.Problems, fmt.Sprintf("the LaunchAgent is not loaded. Fix: launchctl bootstrap %s %s (or voyce-auth schedule install)", domain(s), p))
		return nil
	}
	r.State = "loaded"
	if mm := stateRe.FindStringSubmatch(out); mm != nil {
		r.State = "loaded, " + strings.TrimSpace(mm[1])
	}
	if mm := lastExitRe.FindStringSubmatch(out); mm != nil {
		code := strings.TrimSpace(mm[1])
		switch {
		case code == "0":
			r.LastResult = "success"
		case strings.Contains(code, "never exited"):
		default:
			r.LastResult = "exit code " + code
			r.Problems = append(r.Problems, fmt.Sprintf("the last run exited with %s. See: %s", code, filepath.Join(s.ProjectDir, templates.LaunchdStderrLog)))
		}
	}
	return nil
}
