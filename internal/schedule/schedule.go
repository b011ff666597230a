// Package schedule installs, removes and inspects the schedule that runs 'voyce-auth rotate' unattended:
// a systemd user timer, a launchd LaunchAgent or a crontab block, rendered by package templates.
// Every scheduler command goes through a run.Runner, every wait through an injectable sleeper, and every
// file path comes from the Spec, so all of it runs under test without touching the machine.
//
// It imports package templates (a leaf package: standard library only) for the rendering, so that status
// can compare what is installed with what install would write now.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/templates"
)

// Kind is a scheduler: systemd, launchd, cron, or Auto (pick one for this machine).
type Kind = templates.Kind

// The kinds; Auto lets Detect choose.
const (
	Auto    Kind = "auto"
	Systemd      = templates.Systemd
	Launchd      = templates.Launchd
	Cron         = templates.Cron
)

// ParseKind checks a --kind value.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case "", Auto:
		return Auto, nil
	case Systemd, Launchd, Cron:
		return k, nil
	}
	return "", fmt.Errorf("kind: %q is not a scheduler; accepted: auto, systemd, launchd, cron", s)
}

// Spec says what to schedule and where.
type Spec struct {
	// Kind to install or inspect; Auto (or "") picks one, see Manager.Detect.
	Kind Kind
	// Params are the template values: binary, .env, project folder, databricks folder, interval, GOOS.
	// An Interval of 0 means the default for install and print, and "whatever is installed" for status.
	templates.Params
	// HomeDir holds ~/Library/LaunchAgents (launchd) and ~/.config (systemd, unless ConfigHome is set).
	HomeDir string
	// ConfigHome is $XDG_CONFIG_HOME; "" means HomeDir/.config.
	ConfigHome string
	// UID is the user's numeric id, for launchd's gui/UID domain.
	UID int
	// User is the login name, for the lingering check (loginctl, /var/lib/systemd/linger/USER).
	User string
}

// Manager runs the schedulers' commands.
type Manager struct {
	Runner run.Runner
	Clock  clock.Clock
	// Sleep waits d or until ctx is done (nil: a real timer). Used while launchd unloads an old copy.
	Sleep func(ctx context.Context, d time.Duration) error
	// LingerDir is systemd-logind's linger folder ("" means /var/lib/systemd/linger).
	LingerDir string
	// CronPIDFiles are where a running cron daemon leaves its pid on Linux (nil means the usual places).
	CronPIDFiles []string
	// ProcDir is /proc, to check that a cron pid is alive ("" means /proc).
	ProcDir string
	// CommandTimeout bounds each scheduler command (0 means 20s).
	CommandTimeout time.Duration
}

// LogFile is the rotation log 'voyce-auth rotate' writes, relative to the project folder.
const LogFile = "logs/oauth-rotation.log"

// Launchd waits: bootout is asynchronous, so install polls until the label is gone.
const (
	bootoutPoll     = 250 * time.Millisecond
	bootoutAttempts = 40 // 10 seconds
)

// Choice is the scheduler picked for Auto, and why.
type Choice struct {
	Kind   Kind
	Reason string

	probed bool // Detect already asked the scheduler
}

// Target is one rendered file and where install puts it. For cron, Path is "crontab" and Content is the
// managed block.
type Target struct {
	Kind    Kind
	Path    string
	Content []byte
}

// Error is a scheduler command that failed: the command, the scheduler's own words, and the fix.
type Error struct {
	Cmd     string // e.g. "systemctl --user daemon-reload"
	Message string // what the scheduler said (its stderr), one line
	Fix     string // what to do about it, one line
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s failed: %s", e.Cmd, e.Message)
	if e.Fix != "" {
		s += ". Fix: " + e.Fix
	}
	return s
}

// Detect picks the scheduler for this machine: launchd on macOS; systemd when `systemctl --user` answers;
// otherwise cron when crontab is installed. The reason says which and why.
func (m *Manager) Detect(ctx context.Context, s Spec) (Choice, error) {
	switch s.GOOS {
	case "darwin":
		return Choice{Kind: Launchd, Reason: "macOS: launchd runs LaunchAgents for the logged-in user"}, nil
	case "windows":
		return Choice{}, errors.New("kind: scheduling is not supported on Windows; run 'voyce-auth rotate' every 5 minutes from Task Scheduler")
	}
	ver, err := m.systemdVersion(ctx)
	if err == nil {
		return Choice{Kind: Systemd, Reason: fmt.Sprintf("a systemd user manager answered (systemd %s)", ver), probed: true}, nil
	}
	why := "systemctl --user did not answer"
	var se *Error
	if errors.As(err, &se) {
		why = fmt.Sprintf("systemctl --user did not answer (%s)", se.Message)
	}
	if _, lerr := m.Runner.LookPath("crontab"); lerr == nil {
		return Choice{Kind: Cron, Reason: why + "; using cron instead"}, nil
	}
	return Choice{}, fmt.Errorf("no scheduler available: %s, and crontab is not installed. Fix: install cron (sudo apt-get install cron, or your distribution's cronie), or run from a systemd login session", why)
}

// resolve fills in Auto and checks that the kind exists on this OS.
func (m *Manager) resolve(ctx context.Context, s Spec) (Spec, Choice, error) {
	if s.Kind == "" || s.Kind == Auto {
		c, err := m.Detect(ctx, s)
		if err != nil {
			return s, c, err
		}
		s.Kind = c.Kind
		return s, c, nil
	}
	if err := checkOS(s.Kind, s.GOOS); err != nil {
		return s, Choice{}, err
	}
	return s, Choice{Kind: s.Kind, Reason: "chosen with --kind"}, nil
}

func checkOS(k Kind, goos string) error {
	switch {
	case goos == "windows":
		return errors.New("kind: scheduling is not supported on Windows; run 'voyce-auth rotate' every 5 minutes from Task Scheduler")
	case k == Launchd && goos != "darwin":
		return fmt.Errorf("kind: launchd exists only on macOS; on %s use systemd or cron", goos)
	case k == Systemd && goos == "darwin":
		return errors.New("kind: systemd does not exist on macOS; use launchd or cron")
	case k != Systemd && k != Launchd && k != Cron:
		return fmt.Errorf("kind: %q is not a scheduler; accepted: auto, systemd, launchd, cron", k)
	}
	return nil
}

// SystemdDir is where the user units go: $XDG_CONFIG_HOME/systemd/user.
func (s Spec) SystemdDir() string {
	base := s.ConfigHome
	if base == "" {
		base = filepath.Join(s.HomeDir, ".config")
	}
	return filepath.Join(base, "systemd", "user")
}

// PlistPath is where the LaunchAgent goes: ~/Library/LaunchAgents/com.voyce.oauth-rotation.plist.
func (s Spec) PlistPath() string {
	return filepath.Join(s.HomeDir, "Library", "LaunchAgents", templates.PlistName)
}

// LogPath is the rotation log's absolute path.
func (s Spec) LogPath() string { return filepath.Join(s.ProjectDir, filepath.FromSlash(LogFile)) }

// Render renders the files for s.Kind (which must not be Auto) with their install paths.
func Render(s Spec) ([]Target, error) {
	if err := checkOS(s.Kind, s.GOOS); err != nil {
		return nil, err
	}
	files, err := templates.Render(s.Kind, s.Params)
	if err != nil {
		return nil, err
	}
	var out []Target
	for _, f := range files {
		t := Target{Kind: s.Kind, Content: f.Content}
		switch s.Kind {
		case Systemd:
			t.Path = filepath.Join(s.SystemdDir(), f.Name)
		case Launchd:
			t.Path = s.PlistPath()
		case Cron:
			t.Path = "crontab"
		}
		out = append(out, t)
	}
	return out, nil
}

// Print resolves Auto and renders, for review.
func (m *Manager) Print(ctx context.Context, s Spec) ([]Target, Choice, error) {
	s, c, err := m.resolve(ctx, s)
	if err != nil {
		return nil, c, err
	}
	t, err := Render(s)
	return t, c, err
}

// InstallReport says what Install did.
type InstallReport struct {
	Kind     Kind     `json:"kind"`
	Reason   string   `json:"reason"`
	Files    []string `json:"files"`    // install paths ("crontab" for cron)
	Changed  bool     `json:"changed"`  // false: it was installed exactly like this already
	Commands []string `json:"commands"` // the scheduler commands run
	Warnings []string `json:"warnings,omitempty"`
}

// Install renders and installs the schedule for s (resolving Auto). Installing twice changes nothing.
func (m *Manager) Install(ctx context.Context, s Spec) (*InstallReport, error) {
	s, c, err := m.resolve(ctx, s)
	if err != nil {
		return nil, err
	}
	targets, err := Render(s)
	if err != nil {
		return nil, err
	}
	rep := &InstallReport{Kind: s.Kind, Reason: c.Reason}
	for _, t := range targets {
		rep.Files = append(rep.Files, t.Path)
	}
	switch s.Kind {
	case Systemd:
		err = m.installSystemd(ctx, s, targets, rep, c.probed)
	case Launchd:
		err = m.installLaunchd(ctx, s, targets, rep)
	case Cron:
		err = m.installCron(ctx, s, targets, rep)
	}
	if err != nil {
		return rep, err
	}
	return rep, nil
}

// RemoveReport says what Remove did.
type RemoveReport struct {
	Kinds    []Kind   `json:"kinds"` // the kinds that were installed and are now removed
	Files    []string `json:"files"` // files deleted ("crontab" when lines were removed)
	Commands []string `json:"commands"`
}

// Remove undoes install: for Auto, every kind found installed on this OS; otherwise only s.Kind. Nothing
// installed is not an error (the report is empty).
func (m *Manager) Remove(ctx context.Context, s Spec) (*RemoveReport, error) {
	kinds, err := m.kindsToInspect(s)
	if err != nil {
		return nil, err
	}
	rep := &RemoveReport{}
	for _, k := range kinds {
		s.Kind = k
		var found bool
		switch k {
		case Systemd:
			found, err = m.removeSystemd(ctx, s, rep)
		case Launchd:
			found, err = m.removeLaunchd(ctx, s, rep)
		case Cron:
			found, err = m.removeCron(ctx, s, rep)
		}
		if found {
			rep.Kinds = append(rep.Kinds, k)
		}
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (m *Manager) kindsToInspect(s Spec) ([]Kind, error) {
	if s.Kind != "" && s.Kind != Auto {
		if err := checkOS(s.Kind, s.GOOS); err != nil {
			return nil, err
		}
		return []Kind{s.Kind}, nil
	}
	switch s.GOOS {
	case "darwin":
		return []Kind{Launchd, Cron}, nil
	case "windows":
		return nil, checkOS(Auto, "windows")
	}
	return []Kind{Systemd, Cron}, nil
}

// run runs a scheduler command with a time limit and turns a failure into *Error with the fix.
func (m *Manager) run(ctx context.Context, c run.Cmd) (run.Result, error) {
	d := m.CommandTimeout
	if d == 0 {
		d = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	res, err := m.Runner.Run(ctx, c)
	if err != nil {
		return res, &Error{Cmd: c.String(), Message: message(res, err), Fix: fixFor(c, message(res, err))}
	}
	return res, nil
}

func (m *Manager) sleep(ctx context.Context, d time.Duration) error {
	if m.Sleep != nil {
		return m.Sleep(ctx, d)
	}
	return clock.Sleep(ctx, d)
}

func (m *Manager) now() time.Time {
	if m.Clock == nil {
		return time.Time{}
	}
	return m.Clock.Now()
}

// message is the scheduler's own words: its stderr (or stdout), on one line.
func message(res run.Result, err error) string {
	if errors.Is(err, run.ErrNotFound) {
		return "not installed (not found in PATH)"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "did not answer in time"
	}
	text := strings.TrimSpace(string(res.Stderr))
	var ee *run.ExitError
	if text == "" && errors.As(err, &ee) {
		text = strings.TrimSpace(ee.Stderr)
	}
	if text == "" {
		text = strings.TrimSpace(string(res.Stdout))
	}
	if text == "" {
		text = err.Error()
	}
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	text = strings.Join(lines, "; ")
	if len(text) > 400 {
		text = text[:400] + "..."
	}
	return text
}

// fixFor maps a scheduler's message to what the person should do.
func fixFor(c run.Cmd, msg string) string {
	name := filepath.Base(c.Name)
	switch {
	case strings.Contains(msg, "not installed (not found in PATH)"):
		switch name {
		case "crontab":
			return "install cron (Debian/Ubuntu: sudo apt-get install cron; Fedora: sudo dnf install cronie), or use --kind systemd"
		case "systemctl":
			return "systemd is not installed here; use --kind cron"
		}
		return "install " + name
	case strings.Contains(msg, "System has not been booted with systemd"):
		return "systemd is not running (WSL?): add a [boot] section with systemd=true to /etc/wsl.conf, run 'wsl --shutdown' from Windows and reopen the terminal; or use --kind cron"
	case strings.Contains(msg, "Failed to connect to bus"), strings.Contains(msg, "DBUS_SESSION_BUS_ADDRESS"),
		strings.Contains(msg, "XDG_RUNTIME_DIR"):
		return "no systemd user session here (sudo/su, a container, or SSH without a login session): run it as yourself in a login session, enable lingering with 'loginctl enable-linger $USER', or use --kind cron"
	case strings.Contains(msg, "Bootstrap failed: 5:"), strings.Contains(msg, "Input/output error") && name == "launchctl":
		return "the label " + templates.LaunchdLabel + " is still registered (an old copy is still unloading): wait a few seconds and run 'voyce-auth schedule install' again, or run 'launchctl bootout gui/$(id -u)/" + templates.LaunchdLabel + "' first"
	case strings.Contains(msg, "Bootstrap failed: 125"), strings.Contains(msg, "Domain does not support specified action"),
		strings.Contains(msg, "Could not find domain"):
		return "there is no GUI login session for this user (SSH?): log in on the Mac itself and run it again, or use --kind cron"
	case strings.Contains(msg, "not allowed to use this program"), strings.Contains(msg, "cron.allow"),
		strings.Contains(msg, "cron.deny"):
		return "cron is forbidden for this user by /etc/cron.allow or /etc/cron.deny: ask an administrator, or use --kind systemd"
	case strings.Contains(msg, "did not answer in time"):
		return "the scheduler hung: check it is running (systemctl --user status / launchctl list / service cron status) and try again"
	case name == "crontab" && strings.Contains(msg, "errors in crontab file"):
		return "your existing crontab has a syntax error: fix it with 'crontab -e', then run install again"
	}
	return ""
}
