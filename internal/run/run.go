// Package run starts external programs (databricks, systemctl, launchctl, crontab, git) for the rest of
// voyce-auth. Logic takes a Runner, so tests can replace the programs.
//
// Secrets never go in Cmd.Args: pass them through Stdin or Env.
package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Cmd describes one program to run.
type Cmd struct {
	Name string   // program name (looked up in PATH) or path
	Args []string // arguments, never a secret
	Dir  string   // working folder; "" is the current one
	Env  []string // extra KEY=value entries added to (and overriding) the process environment
	// Unset names variables removed from the inherited environment (e.g. a token a hook must not see).
	Unset []string
	Stdin io.Reader
	// Stdout and Stderr, when set, receive the output as it comes (e.g. the terminal for `databricks auth
	// login`); it is then not captured in Result.
	Stdout io.Writer
	Stderr io.Writer
}

// String renders the command for messages: the program and its arguments, shell-quoted where needed.
func (c Cmd) String() string {
	parts := []string{quote(c.Name)}
	for _, a := range c.Args {
		parts = append(parts, quote(a))
	}
	return strings.Join(parts, " ")
}

func quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '/' || r == '=' || r == ':' || r == '@' || r == ',' ||
			r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Result is what a finished program left behind.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// ExitError is returned when the program ran and exited non-zero. Result still holds its output.
type ExitError struct {
	Cmd      string
	ExitCode int
	Stderr   string
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		return fmt.Sprintf("%s exited with status %d", e.Cmd, e.ExitCode)
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return fmt.Sprintf("%s exited with status %d: %s", e.Cmd, e.ExitCode, msg)
}

// ErrNotFound is wrapped by the error returned when the program is not installed.
var ErrNotFound = exec.ErrNotFound

// Runner runs programs.
type Runner interface {
	// Run runs c to completion, or until ctx is done (the program is then killed and ctx.Err() is
	// wrapped in the error). A non-zero exit returns *ExitError along with the Result.
	Run(ctx context.Context, c Cmd) (Result, error)
	// LookPath finds a program in PATH, like exec.LookPath.
	LookPath(name string) (string, error)
}

// Exec is the real Runner, built on os/exec.
type Exec struct {
	// Environ is the base environment; nil means os.Environ().
	Environ []string
	// WaitDelay bounds how long Run waits for output pipes after the program is killed; 0 means 2s.
	WaitDelay time.Duration
}

// LookPath implements Runner.
func (e *Exec) LookPath(name string) (string, error) {
	if e.Environ != nil {
		for _, kv := range e.Environ {
			if p, ok := strings.CutPrefix(kv, "PATH="); ok {
				return lookPathIn(name, p)
			}
		}
	}
	return exec.LookPath(name)
}

func lookPathIn(name, path string) (string, error) {
	old := os.Getenv("PATH")
	if old == path {
		return exec.LookPath(name)
	}
	// exec.LookPath reads PATH from the environment; search the given list by hand instead.
	if strings.ContainsRune(name, os.PathSeparator) {
		return exec.LookPath(name)
	}
	for _, dir := range strings.Split(path, string(os.PathListSeparator)) {
		if dir == "" {
			dir = "."
		}
		p := dir + string(os.PathSeparator) + name
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}

// Run implements Runner.
func (e *Exec) Run(ctx context.Context, c Cmd) (Result, error) {
	path, err := e.LookPath(c.Name)
	if err != nil {
		return Result{ExitCode: -1}, fmt.Errorf("%s: %w", c.Name, err)
	}
	cmd := exec.CommandContext(ctx, path, c.Args...)
	cmd.Dir = c.Dir
	base := e.Environ
	if base == nil {
		base = os.Environ()
	}
	cmd.Env = unsetEnv(mergeEnv(base, c.Env), c.Unset)
	cmd.Stdin = c.Stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if c.Stdout != nil {
		cmd.Stdout = c.Stdout
	}
	if c.Stderr != nil {
		cmd.Stderr = c.Stderr
	}
	cmd.WaitDelay = e.WaitDelay
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 2 * time.Second
	}
	setProcessGroup(cmd)
	err = cmd.Run()
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("%s did not finish: %w", c.Name, ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return res, &ExitError{Cmd: c.Name, ExitCode: ee.ExitCode(), Stderr: stderr.String()}
	}
	if err != nil {
		return res, fmt.Errorf("%s: %w", c.Name, err)
	}
	return res, nil
}

// unsetEnv returns env without the variables named in names.
func unsetEnv(env, names []string) []string {
	if len(names) == 0 {
		return env
	}
	drop := map[string]bool{}
	for _, n := range names {
		drop[n] = true
	}
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	return out
}

// mergeEnv returns base with the entries of extra added, later keys replacing earlier ones.
func mergeEnv(base, extra []string) []string {
	if len(extra) == 0 {
		return base
	}
	out := make([]string, 0, len(base)+len(extra))
	override := map[string]bool{}
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		override[k] = true
	}
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !override[k] {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}
