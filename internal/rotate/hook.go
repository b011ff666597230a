package rotate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/internal/run"
)

// HookResult says how the post-rotate hook went.
type HookResult struct {
	Command  string        `json:"command"`
	Shell    bool          `json:"shell"` // run through sh -c (the command needs a shell)
	OK       bool          `json:"ok"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"-"`
}

// shellChars are the characters that make a hook command need a shell.
const shellChars = "|&;<>()$`*?[]{}~!#\n"

// HookArgv splits a hook command into an argument list (quotes and backslashes as a POSIX shell reads them).
// When the command needs a shell (pipes, redirections, variables, globs, ...), it returns the shell
// invocation instead and shell = true.
func HookArgv(command, goos string) (argv []string, shell bool, err error) {
	command = strings.TrimSpace(command)
	if command == "" {
		return nil, false, errors.New("the hook command is empty")
	}
	if words, ok := splitWords(command); ok {
		return words, false, nil
	}
	if goos == "windows" {
		return []string{"cmd", "/C", command}, true, nil
	}
	return []string{"/bin/sh", "-c", command}, true, nil
}

// splitWords splits s like a shell would for a simple command; ok is false when s uses anything beyond
// words, quotes and backslashes.
func splitWords(s string) ([]string, bool) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			if i+1 >= len(s) {
				return nil, false
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, false
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '$' || s[i] == '`' {
					return nil, false
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, false
			}
			inWord = true
		case strings.IndexByte(shellChars, c) >= 0:
			return nil, false
		case c == '=' && len(words) == 0:
			// VAR=value cmd: an assignment needs a shell.
			return nil, false
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, len(words) > 0
}

// runHook runs the post-rotate hook in dir with a time limit. env is added to its environment; unset are
// removed from it (the token's variables).
func runHook(ctx context.Context, r run.Runner, command, goos, dir string, limit time.Duration, env, unset []string, now func() time.Time) *HookResult {
	hr := &HookResult{Command: command}
	argv, shell, err := HookArgv(command, goos)
	if err != nil {
		hr.Error = err.Error()
		return hr
	}
	hr.Shell = shell
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	start := now()
	res, err := r.Run(ctx, run.Cmd{Name: argv[0], Args: argv[1:], Dir: dir, Env: env, Unset: unset, Stdin: strings.NewReader("")})
	hr.Duration = now().Sub(start)
	var ee *run.ExitError
	switch {
	case err == nil:
		hr.OK = true
	case errors.Is(err, context.DeadlineExceeded):
		hr.Error = fmt.Sprintf("the hook did not finish within %s and was stopped", limit)
	case errors.As(err, &ee):
		hr.Error = fmt.Sprintf("the hook exited with status %d", ee.ExitCode)
		if line := lastLine(string(res.Stderr)); line != "" {
			hr.Error += ": " + line
		}
	case errors.Is(err, run.ErrNotFound):
		hr.Error = fmt.Sprintf("the hook's program %q was not found", argv[0])
	default:
		hr.Error = "the hook could not run: " + err.Error()
	}
	return hr
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 200 {
		l = l[:200] + "..."
	}
	return l
}
