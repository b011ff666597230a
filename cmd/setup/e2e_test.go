package setup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	// The binary under test is built from the whole command tree; importing it here makes 'go test' re-run
	// these tests whenever that code changes, instead of answering from its cache.
	_ "github.com/voyce/voyce-auth/cmd/root"
	"github.com/voyce/voyce-auth/internal/dotenv"
	"github.com/voyce/voyce-auth/internal/testutil/binary"
	"github.com/voyce/voyce-auth/internal/testutil/fakedatabricks"
	"github.com/voyce/voyce-auth/internal/testutil/pgtest"
)

// bin is the voyce-auth binary built for these tests: they run the real program, as a person or a script
// would, against the throwaway PostgreSQL and the Databricks stand-in.
var bin string

func TestMain(m *testing.M) {
	var err error
	if bin, err = binary.Build(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := pgtest.Main(m)
	binary.Cleanup()
	os.Exit(code)
}

// The team's .env before setup: lines setup must keep byte for byte.
const teamEnv = `# Voyce backend settings
export APP_ENV=development
FEATURE_FLAGS="a,b"   # comment kept
POSTGRES_PASSWORD=${PGPASSWORD}

REDIS_URL=redis://localhost:6379/0
`

type fixture struct {
	srv      *pgtest.Server
	db       *fakedatabricks.Env
	role     string
	password string
	home     string
	proj     string
	envFile  string
	pgpass   string
	environ  []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{srv: pgtest.Shared(t), db: fakedatabricks.Start(t), password: pgtest.RandomPassword()}
	fx.role = fx.srv.NewRole(t, fx.password)
	fx.home = t.TempDir()
	fx.proj = filepath.Join(fx.home, "voyce-backend")
	fx.envFile = filepath.Join(fx.proj, ".env")
	fx.pgpass = filepath.Join(fx.home, ".pgpass")
	if err := os.MkdirAll(fx.proj, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("git", "init", "-q", fx.proj).CombinedOutput(); err != nil {
		t.Fatalf("git init (install git: apt-get install git): %v %s", err, out)
	}
	if err := os.WriteFile(fx.envFile, []byte(teamEnv), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kv := range fx.db.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "PGPASSWORD", "PGPASSFILE", "PGHOST", "PGUSER", "PGSSLMODE", "XDG_CONFIG_HOME", "NO_COLOR":
			continue
		}
		fx.environ = append(fx.environ, kv)
	}
	fx.environ = append(fx.environ, "HOME="+fx.home, "NO_COLOR=1", "TERM=xterm")
	return fx
}

// args are the headless flags for the fixture's connection.
func (fx *fixture) args(extra ...string) []string {
	return append([]string{"setup", "--host", fx.srv.Host, "--port", strconv.Itoa(fx.srv.Port), "--user", fx.role,
		"--databricks-host", fx.db.Host, "--schedule", "none"}, extra...)
}

type result struct {
	stdout, stderr string
	code           int
}

func (fx *fixture) run(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = fx.proj
	cmd.Env = append(append([]string(nil), fx.environ...), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running voyce-auth: %v", err)
	}
	r := result{stdout.String(), stderr.String(), code}
	fx.noSecrets(t, r.stdout+r.stderr)
	return r
}

// noSecrets fails when text holds the password or a token.
func (fx *fixture) noSecrets(t *testing.T, text string) {
	t.Helper()
	if strings.Contains(text, fx.password) {
		t.Errorf("output holds the Postgres password")
	}
	if strings.Contains(text, "eyJ") {
		t.Errorf("output holds a token")
	}
}

// snapshot records every file under the home folder (but .git) with its mode and content hash.
func (fx *fixture) snapshot(t *testing.T) map[string]string {
	t.Helper()
	snap := map[string]string{}
	filepath.WalkDir(fx.home, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		v := fi.Mode().String()
		if fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			v += fmt.Sprintf(" %x", sha256.Sum256(data))
		}
		snap[strings.TrimPrefix(p, fx.home)] = v
		return nil
	})
	return snap
}

func sameSnapshot(t *testing.T, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed (%s -> %s)", k, v, after[k])
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s was created", k)
		}
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// psqlLogin runs real psql (libpq) with the password file as its only source of a password.
func (fx *fixture) psqlLogin(t *testing.T) (bool, string) {
	t.Helper()
	cmd := exec.Command(pgtest.PsqlPath(t), "-X", "-w", "-tA", "-h", fx.srv.Host, "-p", strconv.Itoa(fx.srv.Port),
		"-U", fx.role, "-d", fx.srv.Database, "-c", "select 1")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + fx.home, "PGSSLMODE=require", "PGCONNECT_TIMEOUT=10", "LC_ALL=C"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return err == nil && strings.TrimSpace(stdout.String()) == "1", stderr.String()
}

func (fx *fixture) setServerPassword(t *testing.T, pw string) {
	t.Helper()
	admin := fx.srv.Admin(t)
	ident := `"` + strings.ReplaceAll(fx.role, `"`, `""`) + `"`
	if _, err := admin.Exec(context.Background(), "ALTER ROLE "+ident+" PASSWORD '"+pw+"'"); err != nil {
		t.Fatalf("ALTER ROLE: %v", err)
	}
}

func TestHeadlessEndToEnd(t *testing.T) {
	fx := newFixture(t)
	r := fx.run(t, fx.password+"\n", nil, fx.args("--password-stdin", "--post-rotate-hook", "systemctl --user restart voyce-backend")...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("output:\n%s%s", r.stdout, r.stderr)

	// .env: every line of the team's file kept, in order; the new keys set; the password a reference.
	env := read(t, fx.envFile)
	if !strings.HasPrefix(env, teamEnv) {
		t.Errorf(".env does not keep the team's lines byte for byte:\n%s", env)
	}
	f := dotenv.Parse([]byte(env))
	url := "postgresql+asyncpg://" + strings.ReplaceAll(fx.role, "@", "%40") + ":${PGPASSWORD}@" + fx.srv.Host + ":" +
		strconv.Itoa(fx.srv.Port) + "/databricks_postgres?ssl=require"
	for k, want := range map[string]string{
		"POSTGRES_HOST": fx.srv.Host, "POSTGRES_PORT": strconv.Itoa(fx.srv.Port), "POSTGRES_DB": "databricks_postgres",
		"POSTGRES_USER": fx.role, "POSTGRES_PASSWORD": "${PGPASSWORD}", "DATABASE_URL": url,
		"DATABRICKS_HOST": fx.db.Host, "DATABRICKS_CONFIG_PROFILE": "voyce",
		"VOYCE_POST_ROTATE_HOOK": "systemctl --user restart voyce-backend",
	} {
		if got, _ := f.Lookup(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if tok, _ := f.Lookup("DATABRICKS_OAUTH_TOKEN"); !strings.HasPrefix(tok, "eyJ") {
		t.Errorf("DATABRICKS_OAUTH_TOKEN not written (len %d)", len(tok))
	}
	if strings.Contains(env, fx.password) {
		t.Errorf(".env holds the password")
	}
	for _, p := range []string{fx.envFile, fx.pgpass} {
		if m := mode(t, p); m != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", p, m)
		}
	}
	gi := read(t, filepath.Join(fx.proj, ".gitignore"))
	for _, want := range []string{".env\n", ".pgpass\n", "logs/\n", ".env.lock\n"} {
		if !strings.Contains(gi, want) {
			t.Errorf(".gitignore lacks %q:\n%s", want, gi)
		}
	}
	if ok, stderr := fx.psqlLogin(t); !ok {
		t.Fatalf("psql did not log in with the written .pgpass: %s", stderr)
	}
	if fx.db.CallCount("auth", "login") != 1 {
		t.Errorf("auth login ran %d times", fx.db.CallCount("auth", "login"))
	}
	for _, want := range []string{fx.pgpass, fx.envFile, "POSTGRES_HOST", "DATABRICKS_OAUTH_TOKEN", "Token for"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("output does not mention %q", want)
		}
	}

	// Same input again: byte-identical files, no new login (the CLI is logged in and the token is good).
	before := fx.snapshot(t)
	r = fx.run(t, fx.password+"\n", nil, fx.args("--password-stdin", "--post-rotate-hook", "systemctl --user restart voyce-backend")...)
	if r.code != 0 {
		t.Fatalf("re-run: exit %d\n%s", r.code, r.stderr)
	}
	sameSnapshot(t, before, fx.snapshot(t))
	if !strings.Contains(r.stderr, "nothing changed") {
		t.Errorf("re-run does not say nothing changed:\n%s", r.stderr)
	}
	if n := fx.db.CallCount("auth", "login"); n != 1 {
		t.Errorf("re-run logged in again (%d logins)", n)
	}

	// A new password (changed on the server): only its .pgpass entry changes.
	oldPgpass, oldEnv := read(t, fx.pgpass), read(t, fx.envFile)
	fx.password = pgtest.RandomPassword()
	fx.setServerPassword(t, fx.password)
	r = fx.run(t, "", []string{"PGPASSWORD=" + fx.password}, fx.args()...)
	if r.code != 0 {
		t.Fatalf("new password: exit %d\n%s", r.code, r.stderr)
	}
	if read(t, fx.envFile) != oldEnv {
		t.Errorf(".env changed with only a new password")
	}
	newPgpass := read(t, fx.pgpass)
	oldLines, newLines := strings.Split(oldPgpass, "\n"), strings.Split(newPgpass, "\n")
	if len(oldLines) != len(newLines) {
		t.Fatalf(".pgpass line count changed: %d -> %d", len(oldLines), len(newLines))
	}
	changed := 0
	for i := range oldLines {
		if oldLines[i] != newLines[i] {
			changed++
			if !strings.HasSuffix(newLines[i], ":"+fx.password) {
				t.Errorf("line %d changed but does not hold the new password", i+1)
			}
		}
	}
	if changed != 1 {
		t.Errorf("%d .pgpass lines changed, want 1", changed)
	}
	if ok, stderr := fx.psqlLogin(t); !ok {
		t.Fatalf("psql did not log in with the new password: %s", stderr)
	}
}

// TestHeadlessKeepsOtherPgpassEntries: a person's other entries survive, and the new one is found first.
func TestHeadlessKeepsOtherPgpassEntries(t *testing.T) {
	fx := newFixture(t)
	others := "# my databases\nother.example.com:5432:*:someone:other-pass\n"
	if err := os.WriteFile(fx.pgpass, []byte(others), 0o600); err != nil {
		t.Fatal(err)
	}
	r := fx.run(t, fx.password+"\n", nil, fx.args("--password-stdin", "--skip-login", "--profile", "DEFAULT")...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if got := read(t, fx.pgpass); !strings.HasPrefix(got, others) {
		t.Errorf("other entries changed:\n%s", got)
	}
	if ok, stderr := fx.psqlLogin(t); !ok {
		t.Fatalf("psql: %s", stderr)
	}
	if fx.db.CallCount("auth", "login") != 0 {
		t.Errorf("--skip-login ran auth login")
	}
}

func TestHeadlessFailuresChangeNothing(t *testing.T) {
	fx := newFixture(t)
	refused := func() string { // a port nothing listens on
		l := pgtest.SilentListener(t)
		return strconv.Itoa(l)
	}
	_ = refused
	cases := []struct {
		name  string
		stdin string
		env   []string
		args  []string
		setup func()
		code  int
		want  string
	}{
		{name: "missing host", stdin: "pw\n", args: []string{"setup", "--password-stdin", "--user", "u@example.com", "--skip-login"},
			code: 2, want: "--host is required when not running interactively"},
		{name: "missing user", stdin: "pw\n", args: []string{"setup", "--password-stdin", "--host", "h.example.com", "--skip-login"},
			code: 2, want: "--user is required when not running interactively"},
		{name: "no password", args: fx.args(), code: 2, want: "--password-stdin or set PGPASSWORD"},
		{name: "empty stdin", stdin: "", args: fx.args("--password-stdin"), code: 2, want: "--password-stdin: stdin held no password"},
		{name: "password flag does not exist", args: fx.args("--password", "x"), code: 2, want: "unknown flag --password"},
		{name: "bad port", stdin: "pw\n", args: append(fx.args("--password-stdin"), "--port", "70000"), code: 2, want: "--port"},
		{name: "http workspace", stdin: "pw\n", args: append(fx.args("--password-stdin"), "--databricks-host", "http://example.com"), code: 2, want: "--databricks-host"},
		{name: "bad schedule", stdin: "pw\n", args: append(fx.args("--password-stdin"), "--schedule", "hourly"), code: 2, want: "--schedule must be one of"},
		{name: "stray argument", args: []string{"setup", "now"}, code: 2, want: "setup takes no arguments"},
		{name: "wrong password", stdin: "wrong-password\n", args: fx.args("--password-stdin"), code: 1, want: "password"},
		{name: "nothing listening", env: []string{"PGPASSWORD=" + fx.password},
			args: append(fx.args(), "--port", "1"), code: 1, want: "Nothing was written"},
		{name: "no database", env: []string{"PGPASSWORD=" + fx.password},
			args: append(fx.args(), "--database", "nosuchdb"), code: 1, want: "Nothing was written"},
		{name: "legacy databricks CLI", env: []string{"PGPASSWORD=" + fx.password}, args: fx.args(),
			setup: func() { fx.db.Update(func(s *fakedatabricks.State) { s.Version = fakedatabricks.LegacyVersion }) },
			code:  1, want: "pip"},
		{name: "login fails", env: []string{"PGPASSWORD=" + fx.password}, args: fx.args(),
			setup: func() {
				fx.db.Update(func(s *fakedatabricks.State) { s.Version = ""; s.LoginFails = true })
				fx.db.LogOut()
			},
			code: 1, want: "Nothing was written"},
		{name: "skip-login while logged out", env: []string{"PGPASSWORD=" + fx.password}, args: fx.args("--skip-login"),
			setup: func() { fx.db.Update(func(s *fakedatabricks.State) { s.LoginFails = false }); fx.db.LogOut() },
			code:  1, want: "--skip-login"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			before := fx.snapshot(t)
			r := fx.run(t, tc.stdin, tc.env, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s", r.code, tc.code, tc.want, r.stderr)
			}
			sameSnapshot(t, before, fx.snapshot(t))
			if tc.code == 2 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("usage error is not one line:\n%s", r.stderr)
			}
		})
	}
}
