// Package iostreams holds the standard streams a command talks through, and what they are connected to
// (a terminal or not), so every command can be run from tests without a terminal.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"github.com/fatih/color"
	"golang.org/x/term"
)

// IOStreams are a command's stdin, stdout and stderr, with their terminal status.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	color     bool
}

// System returns the process's own streams. Colour is on only when stderr is a terminal and noColor is false.
func System(noColor bool) *IOStreams {
	s := &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		stdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		stderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
	s.color = s.stderrTTY && !noColor
	return s
}

// Test returns streams backed by buffers: stdin reads from the first, stdout and stderr write to the others.
// None of them is a terminal until SetTTY says so.
func Test() (s *IOStreams, in *bytes.Buffer, out *bytes.Buffer, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetTTY marks the streams as terminals (or not), for tests.
func (s *IOStreams) SetTTY(stdin, stdout, stderr bool) {
	s.stdinTTY, s.stdoutTTY, s.stderrTTY = stdin, stdout, stderr
}

// IsStdinTTY reports whether stdin is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether stdout is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether stderr is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// CanPrompt reports whether interactive prompts can be shown: stdin and stdout are both terminals.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stdoutTTY }

// ColorEnabled reports whether output may carry ANSI colours.
func (s *IOStreams) ColorEnabled() bool { return s.color }

// SetColorEnabled turns colour on or off.
func (s *IOStreams) SetColorEnabled(on bool) { s.color = on }

// ColorScheme returns helpers that colour text only when colour is enabled.
func (s *IOStreams) ColorScheme() *ColorScheme { return &ColorScheme{enabled: s.color} }

// ColorScheme colours text for a terminal, or returns it unchanged.
type ColorScheme struct{ enabled bool }

func (c *ColorScheme) paint(attr color.Attribute, text string) string {
	if !c.enabled {
		return text
	}
	col := color.New(attr)
	col.EnableColor()
	return col.Sprint(text)
}

// Green colours text green.
func (c *ColorScheme) Green(s string) string { return c.paint(color.FgGreen, s) }

// Yellow colours text yellow.
func (c *ColorScheme) Yellow(s string) string { return c.paint(color.FgYellow, s) }

// Red colours text red.
func (c *ColorScheme) Red(s string) string { return c.paint(color.FgRed, s) }

// Bold makes text bold.
func (c *ColorScheme) Bold(s string) string { return c.paint(color.Bold, s) }

// Gray dims text.
func (c *ColorScheme) Gray(s string) string { return c.paint(color.FgHiBlack, s) }

// SuccessIcon is a green check mark.
func (c *ColorScheme) SuccessIcon() string { return c.Green("✓") }

// WarningIcon is a yellow exclamation mark.
func (c *ColorScheme) WarningIcon() string { return c.Yellow("!") }

// FailureIcon is a red cross.
func (c *ColorScheme) FailureIcon() string { return c.Red("✗") }
