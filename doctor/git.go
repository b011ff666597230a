package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/voyce/voyce-auth/internal/run"
)

// git runs git in the project folder. ok is false (with a skip result) when git is missing or the folder is
// not in a git work tree.
func (d *Deps) git(ctx context.Context, args ...string) (run.Result, error) {
	return d.Runner.Run(ctx, run.Cmd{Name: "git", Args: append([]string{"-C", d.projectDir()}, args...)})
}

// gitRepo reports whether the project folder is in a git work tree; when it is not (or git is missing) it
// returns the skip result to report.
func (d *Deps) gitRepo(ctx context.Context) (bool, Result) {
	if d.Runner == nil {
		return false, Skip("no command runner")
	}
	if _, err := d.Runner.LookPath("git"); err != nil {
		return false, Skip("git is not installed, so nothing can be committed by mistake")
	}
	res, err := d.git(ctx, "rev-parse", "--is-inside-work-tree")
	if ctx.Err() != nil {
		return false, Result{Status: StatusTimeout, Message: "git did not answer in time"}
	}
	if err != nil || strings.TrimSpace(string(res.Stdout)) != "true" {
		return false, Skip("%s is not in a git repository", d.display(d.projectDir()))
	}
	return true, Result{}
}

// secretPaths are the files, relative to the project folder, that must never be committed.
func (d *Deps) secretPaths() (env, pgpass, logs string) {
	return filepath.Base(d.EnvFile), ".pgpass", "logs/oauth-rotation.log"
}

// ignorePatterns maps each secret path to the .gitignore line that covers it. The .env's lock file (left
// beside it by internal/safefile so that concurrent writers agree) holds nothing secret but must not show up
// in 'git status' either.
func (d *Deps) ignorePatterns() [][2]string {
	env, pgpass, logs := d.secretPaths()
	return [][2]string{{env, env}, {pgpass, pgpass}, {logs, "logs/"}, {env + ".lock", env + ".lock"}}
}

// notIgnored returns the .gitignore lines missing for the secret paths.
func (d *Deps) notIgnored(ctx context.Context) (missing []string, err error) {
	var paths []string
	for _, p := range d.ignorePatterns() {
		paths = append(paths, p[0])
	}
	// check-ignore prints the paths that are ignored; it exits 1 when none is.
	res, err := d.git(ctx, append([]string{"check-ignore", "--no-index", "--"}, paths...)...)
	var ee *run.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode == 1) {
		return nil, err
	}
	ignored := map[string]bool{}
	for _, l := range strings.Split(string(res.Stdout), "\n") {
		ignored[strings.TrimSpace(l)] = true
	}
	for _, p := range d.ignorePatterns() {
		if !ignored[p[0]] {
			missing = append(missing, p[1])
		}
	}
	return missing, nil
}

func (d *Deps) checkSecretsIgnored(ctx context.Context) Result {
	if ok, skip := d.gitRepo(ctx); !ok {
		return skip
	}
	missing, err := d.notIgnored(ctx)
	if err != nil {
		return Fail("", "could not ask git what it ignores: %v", err)
	}
	gitignore := d.display(filepath.Join(d.projectDir(), ".gitignore"))
	if len(missing) == 0 {
		env, pgpass, _ := d.secretPaths()
		return OK("%s, %s and logs/ are git-ignored", env, pgpass)
	}
	fix := fmt.Sprintf("printf '%s\\n' >> %s   (or: voyce-auth doctor --fix --only secrets-ignored)",
		strings.Join(missing, `\n`), shellQuote(gitignore))
	env, _, _ := d.secretPaths()
	if missing[0] == env {
		return Fail(fix, "%s is not git-ignored: a 'git add .' would commit its credentials", env)
	}
	return Warn(fix, "not git-ignored: %s", strings.Join(missing, ", "))
}

func (d *Deps) planSecretsIgnored(r Result) string {
	missing, err := d.notIgnored(context.Background())
	if err != nil || len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("append %s to %s", strings.Join(missing, ", "),
		d.display(filepath.Join(d.projectDir(), ".gitignore")))
}

// fixSecretsIgnored appends the missing lines to the project's .gitignore, never rewriting what is there.
func (d *Deps) fixSecretsIgnored(ctx context.Context, r Result) error {
	missing, err := d.notIgnored(ctx)
	if err != nil || len(missing) == 0 {
		return err
	}
	return appendLines(filepath.Join(d.projectDir(), ".gitignore"),
		append([]string{"# voyce-auth: credentials and rotation logs"}, missing...))
}

// appendLines appends lines to path (created 0644 when missing), starting on a new line.
func appendLines(path string, lines []string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	var text string
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err != nil && err != io.EOF {
			return err
		}
		if last[0] != '\n' {
			text = "\n"
		}
	}
	text += strings.Join(lines, "\n") + "\n"
	if _, err := f.WriteString(text); err != nil {
		return err
	}
	return f.Close()
}

func (d *Deps) checkSecretsTracked(ctx context.Context) Result {
	if ok, skip := d.gitRepo(ctx); !ok {
		return skip
	}
	env, pgpass, _ := d.secretPaths()
	res, err := d.git(ctx, "ls-files", "--", env, pgpass)
	if err != nil {
		return Fail("", "could not ask git what it tracks: %v", err)
	}
	tracked := strings.Fields(string(res.Stdout))
	rotate := "voyce-auth password   (new Postgres password)\nvoyce-auth rotate --force   (new Databricks token)"
	if len(tracked) > 0 {
		return Fail(fmt.Sprintf("git rm --cached %s && git commit -m 'Stop tracking credentials'\nthen replace what leaked:\n%s",
			strings.Join(tracked, " "), rotate),
			"%s is tracked by git: its credentials are in the repository", strings.Join(tracked, " and "))
	}
	res, err = d.git(ctx, "log", "--all", "-1", "--format=%h", "--", env, pgpass)
	if err == nil {
		if commit := strings.TrimSpace(string(res.Stdout)); commit != "" {
			return Warn("replace what leaked:\n"+rotate,
				"%s is not tracked now, but commit %s holds a copy", env, commit)
		}
	}
	return OK("%s is not tracked by git", env)
}
