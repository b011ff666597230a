package schedule

import (
	"fmt"
	"os/user"
	"path/filepath"
	"time"

	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/templates"
)

// Machine is what NewSpec reads about the running program and its user; commands and the doctor fill
// it from their injected dependencies.
type Machine struct {
	Runner     run.Runner                 // LookPath finds the databricks CLI
	Executable func() (string, error)     // the voyce-auth binary the schedule runs
	Getenv     func(string) string        // USER, LOGNAME, XDG_CONFIG_HOME
	EnvFile    string                     // absolute .env path
	ProjectDir string                     // absolute project folder
	GOOS       string                     //
	HomeDir    string                     //
	UID        int                        // numeric user id (launchd's gui/UID)
	LookupUser func() (*user.User, error) // nil means user.Current; used when USER and LOGNAME are empty
}

// NewSpec builds the Spec install would use for this binary and project: the binary from Executable,
// the databricks folder from LookPath ("" when the CLI is not found: DatabricksDir is then empty and the
// caller may warn), the login name from $USER/$LOGNAME, $XDG_CONFIG_HOME for the systemd folder.
func NewSpec(kind Kind, interval time.Duration, m Machine) (Spec, error) {
	bin, err := m.Executable()
	if err != nil {
		return Spec{}, fmt.Errorf("cannot find the path of this voyce-auth binary: %w", err)
	}
	dbxDir := ""
	if m.Runner != nil {
		if p, err := m.Runner.LookPath("databricks"); err == nil {
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
			dbxDir = filepath.Dir(p)
		}
	}
	getenv := m.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	name := getenv("USER")
	if name == "" {
		name = getenv("LOGNAME")
	}
	if name == "" {
		lookup := m.LookupUser
		if lookup == nil {
			lookup = user.Current
		}
		if u, err := lookup(); err == nil {
			name = u.Username
		}
	}
	return Spec{
		Kind: kind,
		Params: templates.Params{
			Binary:        bin,
			EnvFile:       m.EnvFile,
			ProjectDir:    m.ProjectDir,
			DatabricksDir: dbxDir,
			Interval:      interval,
			GOOS:          m.GOOS,
		},
		HomeDir:    m.HomeDir,
		ConfigHome: getenv("XDG_CONFIG_HOME"),
		UID:        m.UID,
		User:       name,
	}, nil
}
