// Package templates holds the scheduler files that run 'voyce-auth rotate' unattended: a systemd user
// service and timer, a launchd LaunchAgent and a crontab block. They are embedded in the binary and rendered
// with text/template; every value is escaped the way its format needs, and a value that cannot be written
// safely is refused with an error naming the field. Installing them is internal/schedule's job.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"
)

// Names the team already knows; status, remove and the doctor look for these.
const (
	ServiceName  = "voyce-oauth-rotation.service"
	TimerName    = "voyce-oauth-rotation.timer"
	LaunchdLabel = "com.voyce.oauth-rotation"
	PlistName    = LaunchdLabel + ".plist"
	// CronTag ends every crontab line voyce-auth manages, so they can be found again without touching
	// any other line.
	CronTag = "# voyce-auth:oauth-rotation"
	// CronHeader is the comment line written above the managed crontab lines.
	CronHeader = "# voyce-auth: Databricks OAuth token rotation (managed by 'voyce-auth schedule'; remove with 'voyce-auth schedule remove')"
)

// Log files the schedulers write the command's own output to, relative to the project folder. The rotation
// log itself (logs/oauth-rotation.log) is written by 'voyce-auth rotate'.
const (
	LaunchdStdoutLog = "logs/oauth-rotation.stdout.log"
	LaunchdStderrLog = "logs/oauth-rotation.stderr.log"
	CronLog          = "logs/oauth-rotation.cron.log"
)

// DefaultInterval is how often the schedule runs 'voyce-auth rotate', which itself does nothing unless the
// token is about to expire.
const DefaultInterval = 5 * time.Minute

// Interval bounds: a token lives one hour, so running less often than hourly cannot keep it fresh.
const (
	MinInterval = time.Minute
	MaxInterval = time.Hour
)

// cronMaxLine is below Vixie/Debian cron's MAX_COMMAND (1000), which silently truncates longer commands.
const cronMaxLine = 990

//go:embed *.tmpl
var files embed.FS

var funcs = template.FuncMap{
	"sdRaw":   systemdRaw,
	"sdQuote": systemdQuote,
	"sdArg":   systemdArg,
	"sdExec":  systemdExec,
	"xml":     xmlEscape,
	"sh":      shellQuote,
	"cron":    cronEscape,
}

var tmpl = template.Must(template.New("").Funcs(funcs).Option("missingkey=error").ParseFS(files, "*.tmpl"))

// Params is what every template needs.
type Params struct {
	Binary        string        // absolute path of the voyce-auth binary
	EnvFile       string        // absolute path of the project's .env
	ProjectDir    string        // absolute project folder: working directory, logs/ lives there
	DatabricksDir string        // folder of the databricks binary found at install time; "" when not found
	Interval      time.Duration // how often to run; 0 means DefaultInterval
	GOOS          string        // decides the default PATH (Homebrew's folders on darwin)
}

// File is one rendered file.
type File struct {
	Name    string // base name, e.g. voyce-oauth-rotation.timer; "crontab" for the cron block
	Content []byte
}

// Kind names a scheduler.
type Kind string

// The schedulers voyce-auth can install into.
const (
	Systemd Kind = "systemd"
	Launchd Kind = "launchd"
	Cron    Kind = "cron"
)

// Kinds lists every scheduler, in the order auto considers them.
var Kinds = []Kind{Launchd, Systemd, Cron}

// Render renders the files for kind. The cron block is returned as one File named "crontab" holding the
// header comment and the managed lines, each ending in a newline.
func Render(kind Kind, p Params) ([]File, error) {
	d, err := newData(kind, p)
	if err != nil {
		return nil, err
	}
	switch kind {
	case Systemd:
		svc, err := execute(ServiceName, d)
		if err != nil {
			return nil, err
		}
		tmr, err := execute(TimerName, d)
		if err != nil {
			return nil, err
		}
		return []File{{ServiceName, svc}, {TimerName, tmr}}, nil
	case Launchd:
		b, err := execute(PlistName, d)
		if err != nil {
			return nil, err
		}
		return []File{{PlistName, b}}, nil
	case Cron:
		b, err := execute("crontab", d)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if len(line) > cronMaxLine {
				return nil, fmt.Errorf("cron: the crontab line would be %d characters, cron accepts at most %d: use a shorter project or binary path", len(line), cronMaxLine)
			}
		}
		return []File{{"crontab", b}}, nil
	}
	return nil, fmt.Errorf("kind: unknown scheduler %q (accepted: systemd, launchd, cron)", kind)
}

func execute(name string, d data) ([]byte, error) {
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, name+".tmpl", d); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

type data struct {
	Params
	Label           string
	Path            string
	IntervalText    string
	SystemdInterval string
	SystemdDelay    string
	IntervalSeconds int64
	StdoutLog       string
	StderrLog       string
	CronSchedule    string
	CronHeader      string
	CronTag         string
}

// Path returns the PATH the scheduled command runs with: the databricks folder first, then the usual
// system folders (and Homebrew's on macOS), without duplicates.
func (p Params) Path() string {
	dirs := []string{p.DatabricksDir}
	if p.GOOS == "darwin" {
		dirs = append(dirs, "/opt/homebrew/bin")
	}
	dirs = append(dirs, "/usr/local/bin", "/usr/bin", "/bin")
	if p.GOOS == "darwin" {
		dirs = append(dirs, "/usr/sbin", "/sbin")
	}
	var out []string
	seen := map[string]bool{}
	for _, d := range dirs {
		if d == "" || seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	return strings.Join(out, ":")
}

// CheckInterval reports whether d is an interval the schedule accepts (for every kind; cron has its own,
// narrower rule, see CronSchedule).
func CheckInterval(d time.Duration) error {
	if d < MinInterval || d > MaxInterval || d%time.Second != 0 {
		return fmt.Errorf("interval: must be whole seconds between 1m and 1h (the token lives one hour), got %s", ShortDuration(d))
	}
	return nil
}

// CronSchedule returns the crontab time fields for d, which must be whole minutes dividing an hour, or one
// hour.
func CronSchedule(d time.Duration) (string, error) {
	if d%time.Minute == 0 {
		m := int(d / time.Minute)
		switch {
		case m == 1:
			return "* * * * *", nil
		case m > 1 && m < 60 && 60%m == 0:
			return fmt.Sprintf("*/%d * * * *", m), nil
		case m == 60:
			return "0 * * * *", nil
		}
	}
	return "", fmt.Errorf("interval: cron can only run every N minutes where N divides 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30) or every hour, got %s", ShortDuration(d))
}

func newData(kind Kind, p Params) (data, error) {
	if p.Interval == 0 {
		p.Interval = DefaultInterval
	}
	if err := CheckInterval(p.Interval); err != nil {
		return data{}, err
	}
	fields := []struct{ name, value string }{
		{"binary path", p.Binary},
		{".env path", p.EnvFile},
		{"project folder", p.ProjectDir},
	}
	for _, f := range fields {
		if err := checkValue(kind, f.name, f.value, true); err != nil {
			return data{}, err
		}
	}
	if p.DatabricksDir != "" {
		if err := checkValue(kind, "databricks folder", p.DatabricksDir, true); err != nil {
			return data{}, err
		}
		if strings.Contains(p.DatabricksDir, ":") {
			return data{}, fmt.Errorf("databricks folder: %q contains ':', which PATH cannot hold: move the databricks binary", p.DatabricksDir)
		}
	}
	if kind == Systemd && strings.Contains(p.Binary, "$") {
		// systemd expands $VAR in the arguments but not in the program path, and "$$" would be taken
		// literally there: no spelling is safe across versions.
		return data{}, fmt.Errorf("binary path: %q contains '$', which a systemd ExecStart= program path cannot hold safely: move voyce-auth to another folder", p.Binary)
	}
	if kind == Systemd && (strings.HasSuffix(p.ProjectDir, "\\") || strings.TrimRight(p.ProjectDir, " \t") != p.ProjectDir) {
		return data{}, fmt.Errorf("project folder: %q ends with a backslash or a space, which systemd's WorkingDirectory= cannot hold", p.ProjectDir)
	}
	d := data{
		Params:          p,
		Label:           LaunchdLabel,
		Path:            p.Path(),
		IntervalText:    humanDuration(p.Interval),
		SystemdInterval: systemdSpan(p.Interval),
		SystemdDelay:    systemdSpan(randomDelay(p.Interval)),
		IntervalSeconds: int64(p.Interval / time.Second),
		StdoutLog:       filepath.Join(p.ProjectDir, LaunchdStdoutLog),
		StderrLog:       filepath.Join(p.ProjectDir, LaunchdStderrLog),
		CronHeader:      CronHeader,
		CronTag:         CronTag,
	}
	if kind == Cron {
		s, err := CronSchedule(p.Interval)
		if err != nil {
			return data{}, err
		}
		d.CronSchedule = s
	}
	return d, nil
}

// randomDelay spreads the runs of many machines: a tenth of the interval, at most a minute.
func randomDelay(d time.Duration) time.Duration {
	r := (d / 10).Truncate(time.Second)
	if r > time.Minute {
		r = time.Minute
	}
	return r
}

// checkValue refuses what no format can carry: empty values, relative paths, invalid UTF-8, control
// characters (newlines above all, which would start a new directive or crontab line), and for cron a
// backslash right before '%'.
func checkValue(kind Kind, field, v string, absolute bool) error {
	if v == "" {
		return fmt.Errorf("%s: is empty", field)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s: %q is not valid UTF-8, which %s files cannot hold", field, v, kind)
	}
	for _, r := range v {
		if r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029 {
			return fmt.Errorf("%s: %q contains a newline or control character, which %s files cannot hold: rename the folder", field, v, kind)
		}
	}
	if absolute && !strings.HasPrefix(v, "/") {
		return fmt.Errorf("%s: %q must be an absolute path (starting with /)", field, v)
	}
	if kind == Cron && strings.Contains(v, `\%`) {
		return fmt.Errorf(`%s: %q contains '\%%', which a crontab line cannot hold (cron turns %% into a newline and \%% into %%): rename the folder`, field, v)
	}
	return nil
}

// systemdRaw escapes a value systemd takes verbatim apart from specifiers (WorkingDirectory=).
func systemdRaw(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// systemdQuote writes s as one double-quoted word with C escapes and '%%' for '%' (Environment=).
func systemdQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '%':
			b.WriteString("%%")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// systemdArg quotes an ExecStart= argument: as systemdQuote, and '$$' for '$' (systemd expands $VAR in
// arguments).
func systemdArg(s string) string { return strings.ReplaceAll(systemdQuote(s), "$", "$$") }

// systemdExec quotes the ExecStart= program path (no '$' expansion happens there; '$' is refused earlier).
func systemdExec(s string) string { return systemdQuote(s) }

// xmlEscape escapes s for XML character data and attribute values.
func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// shellQuote single-quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// cronEscape protects '%' in a crontab command: cron turns an unescaped '%' into a newline.
func cronEscape(s string) string { return strings.ReplaceAll(s, "%", `\%`) }

// systemdSpan formats d as a systemd time span ("5min", "90s", "1h").
func systemdSpan(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "min"
	default:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
}

func humanDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		if d == time.Hour {
			return "hour"
		}
		return strconv.FormatInt(int64(d/time.Hour), 10) + " hours"
	case d%time.Minute == 0:
		if d == time.Minute {
			return "minute"
		}
		return strconv.FormatInt(int64(d/time.Minute), 10) + " minutes"
	default:
		return strconv.FormatInt(int64(d/time.Second), 10) + " seconds"
	}
}

// ShortDuration formats d like time.Duration.String without the zero tails: "7m", "1h", "90s" -> "1m30s".
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
