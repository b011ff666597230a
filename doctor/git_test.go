package doctor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/internal/run"
)

// gitEnv keeps the tests away from the machine's git configuration.
var gitEnv = []string{"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_AUTHOR_NAME=t",
	"GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}

func gitIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), gitEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// projectDeps returns Deps for a project folder holding a .env, using the real git.
func projectDeps(t *testing.T, withGit bool) (*Deps, string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed by these tests: apt-get install git")
	}
	dir := t.TempDir()
	if withGit {
		gitIn(t, dir, "init", "-q", "-b", "main")
	}
	writeFile(t, filepath.Join(dir, ".env"), "POSTGRES_HOST=localhost\n", 0o600)
	d := &Deps{
		Runner:     &run.Exec{Environ: append(os.Environ(), gitEnv...)},
		HomeDir:    t.TempDir(),
		EnvFile:    filepath.Join(dir, ".env"),
		PgpassFile: filepath.Join(dir, "home-pgpass"),
		ProjectDir: dir,
	}
	return d, dir
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func runCheck(t *testing.T, d *Deps, id string) Result {
	t.Helper()
	checks, err := Select(All(d), []string{id}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range Run(context.Background(), checks, Options{Timeout: 5 * time.Second}) {
		if o.ID == id {
			return o.Result
		}
	}
	t.Fatalf("check %s did not run", id)
	return Result{}
}

func TestSecretsIgnored(t *testing.T) {
	d, dir := projectDeps(t, true)
	writeFile(t, filepath.Join(dir, ".gitignore"), "node_modules/\n.pgpass", 0o644) // no final newline

	r := runCheck(t, d, "secrets-ignored")
	if r.Status != StatusFail || !strings.Contains(r.Message, ".env is not git-ignored") ||
		!strings.Contains(r.Fix, `printf '.env\nlogs/\n.env.lock\n' >> `) {
		t.Fatalf("got %+v", r)
	}

	// --fix appends, keeping every existing byte.
	all := All(d)
	out := Run(context.Background(), all, Options{})
	plans := PlanFixes(all, out)
	if len(plans) != 1 || plans[0].Change != "append .env, logs/, .env.lock to "+filepath.Join(dir, ".gitignore") {
		t.Fatalf("plans = %+v", plans)
	}
	res := ApplyFixes(context.Background(), plans, Options{})
	if res[0].Err != nil || res[0].After.Result.Status != StatusOK {
		t.Fatalf("fix = %+v", res[0])
	}
	got, _ := os.ReadFile(filepath.Join(dir, ".gitignore"))
	want := "node_modules/\n.pgpass\n# voyce-auth: credentials and rotation logs\n.env\nlogs/\n.env.lock\n"
	if string(got) != want {
		t.Errorf(".gitignore = %q, want %q", got, want)
	}
	if r := runCheck(t, d, "secrets-ignored"); r.Status != StatusOK || r.Message != ".env, .pgpass and logs/ are git-ignored" {
		t.Errorf("after fix: %+v", r)
	}
}

func TestSecretsIgnoredOnlyLogsMissingWarns(t *testing.T) {
	d, dir := projectDeps(t, true)
	writeFile(t, filepath.Join(dir, ".gitignore"), ".env\n.pgpass\n", 0o644)
	if r := runCheck(t, d, "secrets-ignored"); r.Status != StatusWarn || r.Message != "not git-ignored: logs/, .env.lock" {
		t.Errorf("got %+v", r)
	}
}

func TestSecretsChecksOutsideGit(t *testing.T) {
	d, _ := projectDeps(t, false)
	for _, id := range []string{"secrets-ignored", "secrets-tracked"} {
		if r := runCheck(t, d, id); r.Status != StatusSkip || !strings.Contains(r.Message, "not in a git repository") {
			t.Errorf("%s: %+v", id, r)
		}
	}
	d.Runner = &run.Fake{} // no git at all
	if r := runCheck(t, d, "secrets-tracked"); r.Status != StatusSkip || !strings.Contains(r.Message, "git is not installed") {
		t.Errorf("no git: %+v", r)
	}
}

func TestSecretsTracked(t *testing.T) {
	d, dir := projectDeps(t, true)
	if r := runCheck(t, d, "secrets-tracked"); r.Status != StatusOK {
		t.Fatalf("fresh repo: %+v", r)
	}
	gitIn(t, dir, "add", ".env")
	gitIn(t, dir, "commit", "-q", "-m", "oops")
	r := runCheck(t, d, "secrets-tracked")
	if r.Status != StatusFail || !strings.HasPrefix(r.Fix, "git rm --cached .env && git commit") ||
		!strings.Contains(r.Fix, "voyce-auth rotate --force") {
		t.Fatalf("tracked: %+v", r)
	}
	gitIn(t, dir, "rm", "-q", "--cached", ".env")
	gitIn(t, dir, "commit", "-q", "-m", "untrack")
	r = runCheck(t, d, "secrets-tracked")
	if r.Status != StatusWarn || !strings.Contains(r.Message, "not tracked now, but commit") {
		t.Fatalf("in history: %+v", r)
	}
}
