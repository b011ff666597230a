// Package cmdutil holds what every voyce-auth command shares: the Factory of injected dependencies, the
// Command type, flag helpers and the errors that map to exit codes.
package cmdutil

import (
	"context"
	"os"
	"path/filepath"
	"runtime"

	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/prompt"
	"github.com/voyce/voyce-auth/internal/run"
)

// Globals are the flags every command accepts.
type Globals struct {
	EnvFile    string // --env-file; "" means .env in WorkDir
	PgpassFile string // --pgpass-file; "" means $PGPASSFILE, else ~/.pgpass
	NoColor    bool   // --no-color (NO_COLOR in the environment does the same)
}

// Factory carries the process's dependencies into commands. Tests build one with fakes; main builds the
// real one with New.
type Factory struct {
	IO       *iostreams.IOStreams
	Prompter prompt.Prompter
	Runner   run.Runner
	Clock    clock.Clock
	// Getenv reads the environment (os.Getenv in production).
	Getenv func(string) string
	// HomeDir is the user's home folder.
	HomeDir string
	// WorkDir is the folder the command runs in (the project folder).
	WorkDir string
	// Executable returns the absolute path of the running voyce-auth binary.
	Executable func() (string, error)
	// GOOS is the operating system the command behaves for (runtime.GOOS in production).
	GOOS string
	// Version is the build's version string.
	Version string

	// Context is cancelled when the process is interrupted (SIGINT/SIGTERM).
	Context context.Context

	Globals Globals
}

// New returns the Factory for the real process.
func New(version string) *Factory {
	home, _ := os.UserHomeDir()
	wd, _ := os.Getwd()
	return &Factory{
		Runner:     &run.Exec{},
		Clock:      clock.System{},
		Getenv:     os.Getenv,
		HomeDir:    home,
		WorkDir:    wd,
		Executable: executable,
		GOOS:       runtime.GOOS,
		Version:    version,
		Context:    context.Background(),
	}
}

func executable() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return filepath.Abs(p)
}

// EnvFile returns the absolute path of the project's .env file.
func (f *Factory) EnvFile() string {
	p := f.Globals.EnvFile
	if p == "" {
		p = ".env"
	}
	return f.abs(p)
}

// PgpassFile returns the absolute path of the password file: --pgpass-file, else $PGPASSFILE, else
// ~/.pgpass (%APPDATA%\postgresql\pgpass.conf on Windows), as libpq does.
func (f *Factory) PgpassFile() string {
	if f.Globals.PgpassFile != "" {
		return f.abs(f.Globals.PgpassFile)
	}
	if p := f.getenv("PGPASSFILE"); p != "" {
		return f.abs(p)
	}
	if f.GOOS == "windows" {
		if appdata := f.getenv("APPDATA"); appdata != "" {
			return filepath.Join(appdata, "postgresql", "pgpass.conf")
		}
	}
	return filepath.Join(f.HomeDir, ".pgpass")
}

// ProjectDir is the folder that holds the .env file; logs/ and .gitignore live there.
func (f *Factory) ProjectDir() string { return filepath.Dir(f.EnvFile()) }

func (f *Factory) getenv(k string) string {
	if f.Getenv == nil {
		return ""
	}
	return f.Getenv(k)
}

func (f *Factory) abs(p string) string {
	if p == "~" || len(p) > 1 && p[0] == '~' && (p[1] == '/' || p[1] == filepath.Separator) {
		p = filepath.Join(f.HomeDir, p[1:])
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(f.WorkDir, p)
	}
	return filepath.Clean(p)
}
