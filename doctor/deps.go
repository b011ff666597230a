package doctor

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"

	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/internal/schedule"
)

// Deps are what the checks read and run. cmd/doctor fills them from the Factory; tests fill them with the
// throwaway PostgreSQL, the Databricks stand-in and temporary files.
type Deps struct {
	Runner run.Runner
	Clock  clock.Clock
	// Getenv reads the environment (PGPASSWORD, PGSSLMODE, ...).
	Getenv  func(string) string
	HomeDir string
	// WorkDir is the current folder: paths under it are shown relative to it (".env").
	WorkDir string
	// EnvFile, PgpassFile are absolute paths; ProjectDir holds .env, logs/ and .gitignore.
	EnvFile    string
	PgpassFile string
	ProjectDir string
	GOOS       string
	// Executable returns the running voyce-auth binary's path (the rotation schedule runs it).
	Executable func() (string, error)
	// HTTP talks to the Databricks workspace; its Timeout is a backstop, the run's deadline comes first.
	HTTP *http.Client
	// ScheduleStatus inspects the rotation schedule the way 'voyce-auth schedule status' does; nil skips
	// rotation-schedule.
	ScheduleStatus func(ctx context.Context) (*schedule.StatusReport, error)

	loadOnce sync.Once
	loaded   *project
}

func (d *Deps) getenv(k string) string {
	if d.Getenv == nil {
		return ""
	}
	return d.Getenv(k)
}

func (d *Deps) clock() clock.Clock {
	if d.Clock == nil {
		return clock.System{}
	}
	return d.Clock
}

func (d *Deps) projectDir() string {
	if d.ProjectDir != "" {
		return d.ProjectDir
	}
	return filepath.Dir(d.EnvFile)
}

// display shortens a path for messages and fix commands: relative under the current folder, ~/... under the
// home folder.
func (d *Deps) display(p string) string {
	if d.WorkDir != "" {
		if rel, err := filepath.Rel(d.WorkDir, p); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	if d.HomeDir != "" && d.HomeDir != "/" {
		if rel, err := filepath.Rel(d.HomeDir, p); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			return "~/" + filepath.ToSlash(rel)
		}
	}
	return p
}

// shellQuote quotes p for a fix command a person will paste.
func shellQuote(p string) string {
	if strings.HasPrefix(p, "~/") && shellSafe(p[2:]) {
		return p
	}
	if shellSafe(p) {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}

func shellSafe(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '/' || r == '=' || r == ':' || r == '@' || r == ',' ||
			r == '+' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0
}
