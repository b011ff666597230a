package run

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Fake is a Runner for tests. Handlers are matched by program name (the base name of Cmd.Name); every
// call is recorded. A call with no handler fails the way a missing program does.
type Fake struct {
	mu       sync.Mutex
	handlers map[string]func(ctx context.Context, c Cmd) (Result, error)
	paths    map[string]string
	calls    []Cmd
}

// Handle registers the function that answers calls to program name.
func (f *Fake) Handle(name string, h func(ctx context.Context, c Cmd) (Result, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.handlers == nil {
		f.handlers = map[string]func(context.Context, Cmd) (Result, error){}
	}
	f.handlers[name] = h
}

// HandleOutput registers a handler that prints stdout and stderr and exits with code.
func (f *Fake) HandleOutput(name, stdout, stderr string, code int) {
	f.Handle(name, func(ctx context.Context, c Cmd) (Result, error) {
		return Output(c, stdout, stderr, code)
	})
}

// Output builds the Result (and *ExitError when code != 0) a handler returns, writing to c.Stdout and
// c.Stderr when the command is attached to them.
func Output(c Cmd, stdout, stderr string, code int) (Result, error) {
	res := Result{ExitCode: code}
	if c.Stdout != nil {
		io.WriteString(c.Stdout, stdout)
	} else {
		res.Stdout = []byte(stdout)
	}
	if c.Stderr != nil {
		io.WriteString(c.Stderr, stderr)
	} else {
		res.Stderr = []byte(stderr)
	}
	if code != 0 {
		return res, &ExitError{Cmd: c.Name, ExitCode: code, Stderr: stderr}
	}
	return res, nil
}

// SetPath makes LookPath answer path for name (without it, LookPath answers "/fake/bin/NAME" when a handler
// exists).
func (f *Fake) SetPath(name, path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.paths == nil {
		f.paths = map[string]string{}
	}
	f.paths[name] = path
}

// Calls returns the commands run so far.
func (f *Fake) Calls() []Cmd {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Cmd(nil), f.calls...)
}

// CallStrings returns the commands run so far, each as "name arg arg".
func (f *Fake) CallStrings() []string {
	var out []string
	for _, c := range f.Calls() {
		out = append(out, strings.TrimSpace(c.Name+" "+strings.Join(c.Args, " ")))
	}
	return out
}

func baseName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		return name[i+1:]
	}
	return name
}

// LookPath implements Runner.
func (f *Fake) LookPath(name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.paths[name]; ok {
		return p, nil
	}
	if _, ok := f.handlers[baseName(name)]; ok {
		return "/fake/bin/" + baseName(name), nil
	}
	return "", fmt.Errorf("exec: %q: %w", name, ErrNotFound)
}

// Run implements Runner.
func (f *Fake) Run(ctx context.Context, c Cmd) (Result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	h, ok := f.handlers[baseName(c.Name)]
	f.mu.Unlock()
	if !ok {
		return Result{ExitCode: -1}, fmt.Errorf("%s: exec: %q: %w", c.Name, c.Name, ErrNotFound)
	}
	return h(ctx, c)
}
