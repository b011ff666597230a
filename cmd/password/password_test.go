package password

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/pg"
	"github.com/voyce/voyce-auth/internal/pg/scram"
	"github.com/voyce/voyce-auth/internal/prompt"
	"github.com/voyce/voyce-auth/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fixture: a fresh role on the shared server, a project .env and a .pgpass holding the role's password
// between two other lines.
type fixture struct {
	srv              *pgtest.Server
	role             string
	oldPw            string
	dir, env, pgpass string
	environ          map[string]string
	stderr           *bytes.Buffer
	stdin            *bytes.Buffer
	opts             *Options
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := pgtest.Shared(t)
	f := &fixture{srv: srv, oldPw: pgtest.RandomPassword(), dir: t.TempDir(), environ: map[string]string{}}
	f.role = srv.NewRole(t, f.oldPw)
	// Every statement of this role is logged, so the log check below is meaningful.
	if _, err := srv.Admin(t).Exec(ctx(t), "ALTER ROLE "+pgx.Identifier{f.role}.Sanitize()+" SET log_statement = 'all'"); err != nil {
		t.Fatal(err)
	}
	f.env = filepath.Join(f.dir, ".env")
	f.pgpass = filepath.Join(f.dir, "pgpass")
	writeFile(t, f.env, fmt.Sprintf("# project settings\nPOSTGRES_HOST=%s\nPOSTGRES_PORT=%d\nPOSTGRES_DB=%s\n"+
		"POSTGRES_USER=%s\nPOSTGRES_PASSWORD=${PGPASSWORD}\nPOSTGRES_SSLMODE=require\n", srv.Host, srv.Port, srv.Database, f.role))
	writeFile(t, f.pgpass, fmt.Sprintf("# keep me\nother.example.com:5432:*:someone:other-secret\n%s:%d:%s:%s:%s\n*:*:*:*:wildcard-never-used\n",
		srv.Host, srv.Port, srv.Database, f.role, f.oldPw))
	io, in, _, errOut := iostreams.Test()
	f.stdin, f.stderr = in, errOut
	f.opts = &Options{
		IO: io, Prompter: &prompt.Scripted{}, Getenv: func(k string) string { return f.environ[k] },
		Store:   NewFileStore(f.env, f.pgpass, func(k string) string { return f.environ[k] }),
		Context: context.Background(), Timeout: 10 * time.Second,
	}
	return f
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// psql logs in as the fixture's role with the password from passfile only (PGPASSWORD removed).
func (f *fixture) psql(t *testing.T, passfile string) error {
	t.Helper()
	cmd := exec.Command(pgtest.PsqlPath(t), "-X", "-At", "-w", "-h", f.srv.Host, "-p", strconv.Itoa(f.srv.Port),
		"-U", f.role, "-d", f.srv.Database, "-c", "SELECT current_user")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "PGPASSFILE="+passfile, "PGSSLMODE=require")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if strings.TrimSpace(string(out)) != f.role {
		return fmt.Errorf("psql logged in as %q", out)
	}
	return nil
}

// psqlWith logs in with password through a throwaway passfile.
func (f *fixture) psqlWith(t *testing.T, password string) error {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pgpass")
	writeFile(t, p, fmt.Sprintf("%s:%d:%s:%s:%s\n", f.srv.Host, f.srv.Port, f.srv.Database, f.role, password))
	return f.psql(t, p)
}

func (f *fixture) stored(t *testing.T) string {
	t.Helper()
	var v string
	if err := f.srv.Admin(t).QueryRow(ctx(t), "SELECT rolpassword FROM pg_authid WHERE rolname = $1", f.role).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// setOnServer changes the role's password as an admin would in the console.
func (f *fixture) setOnServer(t *testing.T, pw string) {
	t.Helper()
	if err := pg.SetPassword(ctx(t), f.srv.Admin(t), f.role, pw); err != nil {
		t.Fatal(err)
	}
}

// noLeaks checks that no password shows up in the command's output or the server log.
func (f *fixture) noLeaks(t *testing.T, passwords ...string) {
	t.Helper()
	log := f.srv.Log(t)
	for _, pw := range passwords {
		if strings.Contains(f.stderr.String(), pw) {
			t.Error("the command's output contains a password")
		}
		if strings.Contains(log, pw) {
			t.Error("the server log contains a password")
		}
	}
}

func TestElsewhereStoresVerifiedPassword(t *testing.T) {
	f := newFixture(t)
	newPw := pgtest.RandomPassword()
	f.setOnServer(t, newPw)
	before := readFile(t, f.pgpass)
	f.opts.PasswordStdin = true
	f.stdin.WriteString(newPw + "\n")
	if err := run(f.opts); err != nil {
		t.Fatalf("run: %v\n%s", err, f.stderr)
	}
	if err := f.psql(t, f.pgpass); err != nil {
		t.Fatalf("psql with the updated .pgpass: %v", err)
	}
	if err := f.psqlWith(t, f.oldPw); err == nil {
		t.Fatal("the old password still logs in")
	}
	after := readFile(t, f.pgpass)
	want := bytes.Replace(before, []byte(f.oldPw), []byte(newPw), 1)
	if !bytes.Equal(after, want) {
		t.Fatalf("only the entry's password should change:\n%s", bytes.ReplaceAll(after, []byte(newPw), []byte("<NEW>")))
	}
	if fi, _ := os.Stat(f.pgpass); fi.Mode().Perm() != 0o600 {
		t.Fatalf(".pgpass mode %v", fi.Mode().Perm())
	}
	if !strings.Contains(f.stderr.String(), "Saved it in") || strings.Contains(f.stderr.String(), "PGPASSWORD") {
		t.Fatalf("output:\n%s", f.stderr)
	}
	f.noLeaks(t, newPw, f.oldPw)
}

func TestElsewhereWrongPasswordChangesNothing(t *testing.T) {
	f := newFixture(t)
	before := readFile(t, f.pgpass)
	f.opts.PasswordStdin = true
	f.stdin.WriteString("Not-" + pgtest.RandomPassword())
	err := run(f.opts)
	if !errors.Is(err, cmdutil.ErrSilent) {
		t.Fatalf("err = %v", err)
	}
	if !bytes.Equal(readFile(t, f.pgpass), before) {
		t.Fatal(".pgpass changed")
	}
	if !strings.Contains(f.stderr.String(), "password authentication failed") || !strings.Contains(f.stderr.String(), "Nothing was changed") {
		t.Fatalf("output:\n%s", f.stderr)
	}
}

func TestElsewhereWarnsAboutPGPASSWORD(t *testing.T) {
	f := newFixture(t)
	newPw := pgtest.RandomPassword()
	f.setOnServer(t, newPw)
	f.environ["PGPASSWORD"] = f.oldPw
	f.opts.PasswordStdin = true
	f.stdin.WriteString(newPw)
	if err := run(f.opts); err != nil {
		t.Fatalf("run: %v\n%s", err, f.stderr)
	}
	if !strings.Contains(f.stderr.String(), "PGPASSWORD is set") || !strings.Contains(f.stderr.String(), "unset PGPASSWORD") {
		t.Fatalf("no PGPASSWORD warning:\n%s", f.stderr)
	}
	f.noLeaks(t, newPw, f.oldPw)
}

func TestElsewhereInteractive(t *testing.T) {
	f := newFixture(t)
	newPw := pgtest.RandomPassword()
	f.setOnServer(t, newPw)
	f.opts.IO.SetTTY(true, true, true)
	sp := &prompt.Scripted{Answers: []any{newPw}}
	f.opts.Prompter = sp
	if err := run(f.opts); err != nil {
		t.Fatalf("run: %v\n%s", err, f.stderr)
	}
	if len(sp.Asked) != 1 {
		t.Fatalf("asked %q", sp.Asked)
	}
	if err := f.psql(t, f.pgpass); err != nil {
		t.Fatal(err)
	}
}

func TestOnServerRotates(t *testing.T) {
	f := newFixture(t)
	newPw := pgtest.RandomPassword()
	before := readFile(t, f.pgpass)
	f.opts.OnServer, f.opts.PasswordStdin = true, true
	f.stdin.WriteString(newPw + "\r\n")
	if err := run(f.opts); err != nil {
		t.Fatalf("run: %v\n%s", err, f.stderr)
	}
	if err := f.psql(t, f.pgpass); err != nil {
		t.Fatalf("psql with the updated .pgpass: %v", err)
	}
	if err := f.psqlWith(t, f.oldPw); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("the old password should be refused, got %v", err)
	}
	if got, want := readFile(t, f.pgpass), bytes.Replace(before, []byte(f.oldPw), []byte(newPw), 1); !bytes.Equal(got, want) {
		t.Fatal("only the entry's password should change")
	}
	v := f.stored(t)
	if !strings.HasPrefix(v, "SCRAM-SHA-256$") || !scram.Matches(v, newPw) {
		t.Fatal("pg_authid does not hold a SCRAM-SHA-256 verifier of the new password")
	}
	if !strings.Contains(f.srv.Log(t), `ALTER ROLE "`+f.role+`" PASSWORD 'SCRAM-SHA-256$`) {
		t.Fatal("the ALTER ROLE statement is not in the server log; the leak check would prove nothing")
	}
	f.noLeaks(t, newPw, f.oldPw)
	for _, want := range []string{"current password (from " + f.pgpass, "SCRAM-SHA-256 verifier", "second connection", "Saved it in"} {
		if !strings.Contains(f.stderr.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, f.stderr)
		}
	}
}

func TestOnServerGenerate(t *testing.T) {
	for _, show := range []bool{false, true} {
		t.Run(fmt.Sprintf("show=%v", show), func(t *testing.T) {
			f := newFixture(t)
			f.opts.OnServer, f.opts.Generate, f.opts.Show = true, true, show
			if err := run(f.opts); err != nil {
				t.Fatalf("run: %v\n%s", err, f.stderr)
			}
			if err := f.psql(t, f.pgpass); err != nil {
				t.Fatal(err)
			}
			var newPw string
			for _, line := range strings.Split(string(readFile(t, f.pgpass)), "\n") {
				if strings.Contains(line, f.role) {
					newPw = line[strings.LastIndex(line, ":")+1:]
				}
			}
			if len(newPw) < 32 || strings.Trim(newPw, pg.GenerateAlphabet) != "" {
				t.Fatalf("generated password has length %d or unexpected characters", len(newPw))
			}
			if shown := strings.Contains(f.stderr.String(), newPw); shown != show {
				t.Fatalf("password shown = %v with --show=%v", shown, show)
			}
			f.stderr.Reset()
			f.noLeaks(t, newPw, f.oldPw)
		})
	}
}

func TestOnServerInteractiveConfirms(t *testing.T) {
	f := newFixture(t)
	f.opts.OnServer = true
	f.opts.IO.SetTTY(true, true, true)
	before := f.stored(t)
	f.opts.Prompter = &prompt.Scripted{Answers: []any{"First-" + pgtest.RandomPassword(), "Second-" + pgtest.RandomPassword()}}
	if err := run(f.opts); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Fatalf("err = %v", err)
	}
	if f.stored(t) != before {
		t.Fatal("the server password changed")
	}
	newPw := pgtest.RandomPassword()
	f.opts.Prompter = &prompt.Scripted{Answers: []any{newPw, newPw}}
	if err := run(f.opts); err != nil {
		t.Fatalf("run: %v\n%s", err, f.stderr)
	}
	if err := f.psql(t, f.pgpass); err != nil {
		t.Fatal(err)
	}
	// Ctrl-C at the prompt is a clean cancel.
	f.opts.Prompter = &prompt.Scripted{Answers: []any{prompt.ErrInterrupted}}
	if err := run(f.opts); !errors.Is(err, cmdutil.ErrCancel) {
		t.Fatalf("err = %v", err)
	}
}

func TestOnServerFailureAfterAlterRestores(t *testing.T) {
	f := newFixture(t)
	newPw := pgtest.RandomPassword()
	before := readFile(t, f.pgpass)
	fiBefore, _ := os.Stat(f.pgpass)
	f.opts.OnServer, f.opts.PasswordStdin = true, true
	f.stdin.WriteString(newPw)
	altered := false
	f.opts.AfterAlter = func(ctx context.Context) error {
		altered = true
		return errors.New("injected failure")
	}
	err := run(f.opts)
	if !errors.Is(err, cmdutil.ErrSilent) || !altered {
		t.Fatalf("err = %v, hook called %v\n%s", err, altered, f.stderr)
	}
	if !bytes.Equal(readFile(t, f.pgpass), before) {
		t.Fatal(".pgpass is not byte-identical")
	}
	if fi, _ := os.Stat(f.pgpass); !fi.ModTime().Equal(fiBefore.ModTime()) || fi.Mode() != fiBefore.Mode() {
		t.Fatal(".pgpass was rewritten")
	}
	if err := f.psql(t, f.pgpass); err != nil {
		t.Fatalf("the old password (from .pgpass) no longer logs in: %v", err)
	}
	if err := f.psqlWith(t, newPw); err == nil {
		t.Fatal("the new password logs in after the restore")
	}
	if !strings.Contains(f.stderr.String(), "Set the old password back") {
		t.Fatalf("output:\n%s", f.stderr)
	}
	f.noLeaks(t, newPw, f.oldPw)
}

func TestOnServerWrongCurrentPasswordChangesNothing(t *testing.T) {
	f := newFixture(t)
	wrong := "Wrong-" + pgtest.RandomPassword()
	writeFile(t, f.pgpass, fmt.Sprintf("%s:%d:%s:%s:%s\n", f.srv.Host, f.srv.Port, f.srv.Database, f.role, wrong))
	before, storedBefore := readFile(t, f.pgpass), f.stored(t)
	newPw := pgtest.RandomPassword()
	f.opts.OnServer, f.opts.PasswordStdin = true, true
	f.stdin.WriteString(newPw)
	if err := run(f.opts); !errors.Is(err, cmdutil.ErrSilent) {
		t.Fatalf("err = %v\n%s", err, f.stderr)
	}
	if !bytes.Equal(readFile(t, f.pgpass), before) || f.stored(t) != storedBefore {
		t.Fatal("something changed")
	}
	if err := f.psqlWith(t, f.oldPw); err != nil {
		t.Fatalf("the real password stopped working: %v", err)
	}
	if !strings.Contains(f.stderr.String(), "Nothing was changed") {
		t.Fatalf("output:\n%s", f.stderr)
	}
	f.noLeaks(t, newPw, f.oldPw, wrong)
}

func TestOnServerCurrentFromPGPASSWORD(t *testing.T) {
	f := newFixture(t)
	writeFile(t, f.pgpass, "")
	f.environ["PGPASSWORD"] = f.oldPw
	newPw := pgtest.RandomPassword()
	f.opts.OnServer, f.opts.PasswordStdin = true, true
	f.stdin.WriteString(newPw)
	if err := run(f.opts); err != nil {
		t.Fatalf("run: %v\n%s", err, f.stderr)
	}
	if err := f.psql(t, f.pgpass); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.stderr.String(), "from PGPASSWORD") || !strings.Contains(f.stderr.String(), "unset PGPASSWORD") {
		t.Fatalf("output:\n%s", f.stderr)
	}
}

func TestRefusesUnstorablePasswordsBeforeTouchingAnything(t *testing.T) {
	for _, onServer := range []bool{false, true} {
		for _, bad := range []string{" leading space", "trailing space ", "tab\tinside", "two\nlines\n", "nb\u00a0space"} {
			t.Run(fmt.Sprintf("onServer=%v/%q", onServer, bad), func(t *testing.T) {
				f := newFixture(t)
				before, storedBefore := readFile(t, f.pgpass), f.stored(t)
				f.opts.OnServer, f.opts.PasswordStdin = onServer, true
				f.stdin.WriteString(bad)
				err := run(f.opts)
				if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
					t.Fatalf("err = %v", err)
				}
				if strings.Contains(err.Error(), bad) {
					t.Fatal("the error repeats the password")
				}
				if !bytes.Equal(readFile(t, f.pgpass), before) || f.stored(t) != storedBefore {
					t.Fatal("something changed")
				}
			})
		}
	}
}

func TestUsageErrors(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		edit func(o *Options)
		want string
	}{
		{func(o *Options) { o.Generate = true }, "--generate needs --on-server"},
		{func(o *Options) { o.OnServer, o.Generate, o.PasswordStdin = true, true, true }, "either --generate or --password-stdin"},
		{func(o *Options) { o.Show = true }, "--show only goes with --generate"},
		{func(o *Options) {}, "--password-stdin"}, // headless without a way to get the password
	}
	for _, c := range cases {
		o := *f.opts
		c.edit(&o)
		err := run(&o)
		var ue *cmdutil.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want usage error with %q, got %v", c.want, err)
		}
	}
}

func TestWarnsAboutLiteralPasswordInEnv(t *testing.T) {
	f := newFixture(t)
	env := strings.Replace(string(readFile(t, f.env)), "POSTGRES_PASSWORD=${PGPASSWORD}", "POSTGRES_PASSWORD="+f.oldPw, 1)
	writeFile(t, f.env, env)
	newPw := pgtest.RandomPassword()
	f.opts.OnServer, f.opts.PasswordStdin = true, true
	f.stdin.WriteString(newPw)
	if err := run(f.opts); err != nil {
		t.Fatalf("run: %v\n%s", err, f.stderr)
	}
	if !strings.Contains(f.stderr.String(), "sets POSTGRES_PASSWORD to a password written out") {
		t.Fatalf("no warning:\n%s", f.stderr)
	}
	if string(readFile(t, f.env)) != env {
		t.Fatal(".env was changed")
	}
	f.noLeaks(t, newPw, f.oldPw)
}

func TestNewCmdRefusesPasswordArgument(t *testing.T) {
	io, _, _, _ := iostreams.Test()
	c := NewCmd(&cmdutil.Factory{IO: io, Getenv: func(string) string { return "" }, WorkDir: t.TempDir(), HomeDir: t.TempDir()})
	err := c.Run([]string{"hunter2"})
	var ue *cmdutil.UsageError
	if !errors.As(err, &ue) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Fatalf("exit code %d", cmdutil.ExitCode(err))
	}
}
