// Package prompt asks a person questions on a terminal. Commands talk to the Prompter interface; the survey
// implementation stays behind it so it can be replaced (survey is no longer maintained) and so tests can
// answer questions without a terminal.
package prompt

import (
	"errors"
	"fmt"
	"io"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
)

// ErrInterrupted is returned when the person presses Ctrl-C (or Ctrl-D) at a prompt. Callers treat it as a
// clean cancel: nothing has been written.
var ErrInterrupted = errors.New("interrupted")

// Prompter asks questions. Every method returns ErrInterrupted on Ctrl-C.
type Prompter interface {
	// Input asks for a line of text; an empty answer returns def.
	Input(message, def string) (string, error)
	// Password asks for a secret without echoing it.
	Password(message string) (string, error)
	// Confirm asks a yes/no question.
	Confirm(message string, def bool) (bool, error)
	// Select asks to choose one of options and returns its index. def is the option selected at first.
	Select(message string, options []string, def int) (int, error)
}

// Stdio is the streams survey uses: a terminal's file descriptors.
type Stdio struct {
	In  terminal.FileReader
	Out terminal.FileWriter
	Err io.Writer
}

// Survey is a Prompter backed by github.com/AlecAivazis/survey/v2.
type Survey struct {
	stdio terminal.Stdio
}

// NewSurvey returns a survey-backed prompter on the given terminal streams.
func NewSurvey(s Stdio) *Survey {
	return &Survey{stdio: terminal.Stdio{In: s.In, Out: s.Out, Err: s.Err}}
}

func (s *Survey) ask(p survey.Prompt, answer any) error {
	err := survey.AskOne(p, answer, survey.WithStdio(s.stdio.In, s.stdio.Out, s.stdio.Err))
	if errors.Is(err, terminal.InterruptErr) || errors.Is(err, io.EOF) {
		return ErrInterrupted
	}
	return err
}

// Input implements Prompter.
func (s *Survey) Input(message, def string) (string, error) {
	var answer string
	err := s.ask(&survey.Input{Message: message, Default: def}, &answer)
	return answer, err
}

// Password implements Prompter.
func (s *Survey) Password(message string) (string, error) {
	var answer string
	err := s.ask(&survey.Password{Message: message}, &answer)
	return answer, err
}

// Confirm implements Prompter.
func (s *Survey) Confirm(message string, def bool) (bool, error) {
	var answer bool
	err := s.ask(&survey.Confirm{Message: message, Default: def}, &answer)
	return answer, err
}

// Select implements Prompter.
func (s *Survey) Select(message string, options []string, def int) (int, error) {
	if def < 0 || def >= len(options) {
		def = 0
	}
	var answer int
	err := s.ask(&survey.Select{Message: message, Options: options, Default: options[def]}, &answer)
	return answer, err
}

// Scripted is a Prompter for tests: it answers from a list, in order, and fails on a question it did not
// expect. An answer of ErrInterrupted simulates Ctrl-C.
type Scripted struct {
	Answers []any // string, bool, int, or error
	Asked   []string
}

func (s *Scripted) next(message string) (any, error) {
	s.Asked = append(s.Asked, message)
	if len(s.Answers) == 0 {
		return nil, fmt.Errorf("prompt: unexpected question %q", message)
	}
	a := s.Answers[0]
	s.Answers = s.Answers[1:]
	if err, ok := a.(error); ok {
		return nil, err
	}
	return a, nil
}

// Input implements Prompter. The answer "" returns def.
func (s *Scripted) Input(message, def string) (string, error) {
	a, err := s.next(message)
	if err != nil {
		return "", err
	}
	v, ok := a.(string)
	if !ok {
		return "", fmt.Errorf("prompt: %q wants a string answer, script has %T", message, a)
	}
	if v == "" {
		return def, nil
	}
	return v, nil
}

// Password implements Prompter.
func (s *Scripted) Password(message string) (string, error) {
	a, err := s.next(message)
	if err != nil {
		return "", err
	}
	v, ok := a.(string)
	if !ok {
		return "", fmt.Errorf("prompt: %q wants a string answer, script has %T", message, a)
	}
	return v, nil
}

// Confirm implements Prompter.
func (s *Scripted) Confirm(message string, def bool) (bool, error) {
	a, err := s.next(message)
	if err != nil {
		return false, err
	}
	v, ok := a.(bool)
	if !ok {
		return false, fmt.Errorf("prompt: %q wants a bool answer, script has %T", message, a)
	}
	return v, nil
}

// Select implements Prompter.
func (s *Scripted) Select(message string, options []string, def int) (int, error) {
	a, err := s.next(message)
	if err != nil {
		return 0, err
	}
	switch v := a.(type) {
	case int:
		return v, nil
	case string:
		for i, o := range options {
			if o == v {
				return i, nil
			}
		}
		return 0, fmt.Errorf("prompt: %q has no option %q", message, v)
	}
	return 0, fmt.Errorf("prompt: %q wants an int or string answer, script has %T", message, a)
}
