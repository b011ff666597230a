package cmdutil

import (
	"errors"
	"fmt"
)

// Exit codes, as documented in the README.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitInterrupted = 130
)

// UsageError is a mistake in how the command was called (unknown flag, bad value, missing value). It maps to
// exit code 2 and is printed as one line.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError.
func Usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// ErrSilent means "failed, and the command has already said why": exit 1 with nothing more printed.
var ErrSilent = errors.New("silent failure")

// ErrCancel means the person cancelled (Ctrl-C at a prompt): exit 130, nothing written.
var ErrCancel = errors.New("cancelled")

// ExitCodeError asks for a specific exit code; the command has printed what it wanted to.
type ExitCodeError struct{ Code int }

func (e *ExitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	var ue *UsageError
	var ce *ExitCodeError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &ce):
		return ce.Code
	case errors.Is(err, ErrCancel):
		return ExitInterrupted
	default:
		return ExitFailure
	}
}
