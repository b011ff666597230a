package rotate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/internal/safefile"
	"github.com/voyce/voyce-auth/internal/testutil/fakedatabricks"
)

var t0 = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

type fixture struct {
	t       *testing.T
	env     *fakedatabricks.Env
	clk     *clock.Fake
	dir     string
	envFile string
	token   string // the token in .env at the start
	before  []byte
	slept   []time.Duration
	secrets []string
}

const envTemplate = `# Voyce backend settings
export POSTGRES_HOST=instance-0b6c.database.cloud.databricks.com
POSTGRES_USER=dev.user@example.com
POSTGRES_PASSWORD=${PGPASSWORD}
DATABASE_URL=postgresql+asyncpg://dev.user%%40example.com:${PGPASSWORD}@instance-0b6c.database.cloud.databricks.com:5432/databricks_postgres?ssl=require
DATABRICKS_HOST=%s
DATABRICKS_OAUTH_TOKEN=%s
DATABRICKS_CONFIG_PROFILE=DEFAULT
FEATURE_X='a b'   # keep me
`

// setup writes a .env whose token has left minutes left (at t0) and lines around it.
func setup(t *testing.T, left time.Duration) *fixture {
	t.Helper()
	f := &fixture{t: t, env: fakedatabricks.Start(t), clk: clock.NewFake(t0), dir: t.TempDir()}
	f.env.Update(func(s *fakedatabricks.State) { s.Now = t0 })
	f.envFile = filepath.Join(f.dir, ".env")
	f.token = f.env.MintToken(fakedatabricks.DefaultUser, t0.Add(left-time.Hour), time.Hour)
	f.writeEnv(fmt.Sprintf(envTemplate, f.env.Host, f.token))
	return f
}

func (f *fixture) writeEnv(s string) {
	f.t.Helper()
	if err := os.WriteFile(f.envFile, []byte(s), 0o600); err != nil {
		f.t.Fatal(err)
	}
	f.before = []byte(s)
}

func (f *fixture) opts() Options {
	return Options{EnvFile: f.envFile, CLITimeout: 5 * time.Second}
}

func (f *fixture) deps() Deps {
	return Deps{
		Runner: &run.Exec{Environ: f.env.Environ()},
		Clock:  f.clk,
		Sleep:  func(ctx context.Context, d time.Duration) error { f.slept = append(f.slept, d); return nil },
		GOOS:   "linux",
	}
}

func (f *fixture) run(o Options) (*Result, error) {
	f.t.Helper()
	return f.runWith(o, f.deps())
}

func (f *fixture) runWith(o Options, d Deps) (*Result, error) {
	f.t.Helper()
	res, err := Run(context.Background(), o, d)
	f.noSecrets(res, err)
	return res, err
}

func (f *fixture) envNow() []byte {
	b, err := os.ReadFile(f.envFile)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *fixture) log() string {
	b, _ := os.ReadFile(LogFile(f.envFile))
	return string(b)
}

// noSecrets asserts that no token appears in the result, the error or the log.
func (f *fixture) noSecrets(res *Result, err error) {
	f.t.Helper()
	secrets := append([]string{f.token, f.env.State().CachedToken}, f.secrets...)
	if v, ok := tokenIn(f.envNow()); ok {
		secrets = append(secrets, v)
	}
	var texts []string
	if res != nil {
		b, _ := json.Marshal(res)
		texts = append(texts, string(b))
	}
	if err != nil {
		texts = append(texts, err.Error())
	}
	texts = append(texts, f.log())
	for _, s := range secrets {
		if len(s) < 20 {
			continue
		}
		for _, txt := range texts {
			if strings.Contains(txt, s) || strings.Contains(txt, strings.Split(s, ".")[2]) {
				f.t.Fatalf("a token (%d bytes) appears in the output, error or log", len(s))
			}
		}
	}
}

func tokenIn(env []byte) (string, bool) {
	for _, l := range strings.Split(string(env), "\n") {
		if v, ok := strings.CutPrefix(l, "DATABRICKS_OAUTH_TOKEN="); ok {
			return v, true
		}
	}
	return "", false
}

func TestNoopStartsNoProcess(t *testing.T) {
	f := setup(t, 40*time.Minute)
	fake := &run.Fake{}
	d := f.deps()
	d.Runner = fake
	res, err := f.runWith(f.opts(), d)
	if err != nil || res.Outcome != StillValid {
		t.Fatalf("outcome %v, err %v", res.Outcome, err)
	}
	if len(fake.Calls()) != 0 || len(f.env.Calls()) != 0 {
		t.Errorf("the no-op path started processes: %v", fake.CallStrings())
	}
	if !bytes.Equal(f.envNow(), f.before) {
		t.Error(".env changed")
	}
	if _, err := os.Stat(filepath.Join(f.dir, "logs")); !os.IsNotExist(err) {
		t.Error("the no-op path created logs/")
	}
	if res.Before.ExpiresInMinutes != 40 || res.Before.Subject != fakedatabricks.DefaultUser {
		t.Errorf("before: %+v", res.Before)
	}
}

func TestExpiringTokenIsReplaced(t *testing.T) {
	f := setup(t, 10*time.Minute)
	res, err := f.run(f.opts())
	if err != nil || res.Outcome != Rotated {
		t.Fatalf("outcome %v, err %v", res.Outcome, err)
	}
	newTok := f.env.State().CachedToken
	want := bytes.Replace(f.before, []byte(f.token), []byte(newTok), 1)
	if got := f.envNow(); !bytes.Equal(got, want) {
		t.Errorf(".env: other lines changed or the token was not written (%d bytes, want %d)", len(got), len(want))
	}
	if fi, _ := os.Stat(f.envFile); fi.Mode().Perm() != 0o600 {
		t.Errorf(".env mode %v", fi.Mode().Perm())
	}
	if res.After == nil || res.After.ExpiresInMinutes != 60 || res.After.Subject != fakedatabricks.DefaultUser {
		t.Errorf("after: %+v", res.After)
	}
	if calls := f.env.Calls(); len(calls) != 2 || strings.Join(calls[1], " ") != "auth token --host "+f.env.Host+" --profile DEFAULT" {
		t.Errorf("calls: %v", calls)
	}
	log := f.log()
	if !strings.Contains(log, "outcome=rotated subject=dev.user@example.com expiry=2026-11-26T08:00:00Z") || strings.Count(log, "\n") != 1 {
		t.Errorf("log: %q", log)
	}
	fi, err := os.Stat(LogFile(f.envFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("log file mode: %v %v", fi, err)
	}
	if fi, _ := os.Stat(filepath.Join(f.dir, "logs")); fi.Mode().Perm() != 0o700 {
		t.Errorf("logs/ mode %v", fi.Mode().Perm())
	}
	// The next run is a no-op.
	f.token = newTok
	if res, _ := f.run(f.opts()); res.Outcome != StillValid {
		t.Errorf("second run: %v", res.Outcome)
	}
}

func TestSameTokenFromOlderCLI(t *testing.T) {
	f := setup(t, 12*time.Minute)
	f.env.SetCachedToken(f.token, t0.Add(12*time.Minute))
	res, err := f.run(f.opts())
	if err != nil || res.Outcome != SameToken {
		t.Fatalf("outcome %v, err %v", res.Outcome, err)
	}
	if !bytes.Equal(f.envNow(), f.before) {
		t.Error(".env changed")
	}
	if !strings.Contains(f.log(), "outcome=same-token") {
		t.Errorf("log %q", f.log())
	}
	// With v0.296 the CLI is asked to --force-refresh and a new token comes.
	f.env.Update(func(s *fakedatabricks.State) { s.Version = "Databricks CLI v0.296.0" })
	res, err = f.run(f.opts())
	if err != nil || res.Outcome != Rotated {
		t.Fatalf("v0.296: outcome %v, err %v", res.Outcome, err)
	}
	if last := f.env.Calls()[len(f.env.Calls())-1]; last[len(last)-1] != "--force-refresh" {
		t.Errorf("argv %v", last)
	}
}

func TestFailuresChangeNothing(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(f *fixture, o *Options, d *Deps)
		fix     string // expected in the fix ("" = the login command)
		msg     string
	}{
		{"not installed", func(f *fixture, o *Options, d *Deps) {
			d.Runner = &run.Exec{Environ: []string{"PATH=" + f.t.TempDir()}}
		}, "install.sh | sh", "not installed"},
		{"legacy CLI", func(f *fixture, o *Options, d *Deps) {
			f.env.Update(func(s *fakedatabricks.State) { s.Version = fakedatabricks.LegacyVersion })
		}, "pip uninstall databricks-cli", "legacy"},
		{"not logged in", func(f *fixture, o *Options, d *Deps) {
			f.env.Update(func(s *fakedatabricks.State) { s.LoggedIn = false })
		}, "", "not logged in"},
		{"refresh token rejected", func(f *fixture, o *Options, d *Deps) {
			f.env.Update(func(s *fakedatabricks.State) { s.RefreshRejected = true })
		}, "", "refresh token"},
		{"timeout", func(f *fixture, o *Options, d *Deps) {
			f.env.Update(func(s *fakedatabricks.State) { s.Hang = true })
			o.CLITimeout = 150 * time.Millisecond
		}, "", "did not answer in time"},
		{"garbage", func(f *fixture, o *Options, d *Deps) {
			f.env.Update(func(s *fakedatabricks.State) { s.Garbage = true })
		}, "", "not JSON"},
		{"multiple profiles", func(f *fixture, o *Options, d *Deps) {
			f.writeEnv(strings.Replace(string(f.before), "DATABRICKS_CONFIG_PROFILE=DEFAULT\n", "", 1))
			f.env.Update(func(s *fakedatabricks.State) { s.Profiles = []string{"DEFAULT", "other"} })
		}, "DATABRICKS_CONFIG_PROFILE", "profile"},
		{"another user", func(f *fixture, o *Options, d *Deps) {
			f.env.Update(func(s *fakedatabricks.State) { s.User = "someone.else@example.com" })
		}, "", "logged in as someone.else@example.com"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := setup(t, 3*time.Minute)
			o, d := f.opts(), f.deps()
			c.prepare(f, &o, &d)
			res, err := f.runWith(o, d)
			if err == nil || res.Outcome != Failed {
				t.Fatalf("outcome %v, err %v", res.Outcome, err)
			}
			if !bytes.Equal(f.envNow(), f.before) {
				t.Error(".env is not byte-identical")
			}
			fix := c.fix
			if fix == "" {
				fix = "databricks auth login --host " + f.env.Host + " --profile DEFAULT"
			}
			if !strings.Contains(res.Fix, fix) || !strings.Contains(res.Message, c.msg) {
				t.Errorf("message %q fix %q", res.Message, res.Fix)
			}
			log := f.log()
			if !strings.Contains(log, "outcome=failed") || !strings.Contains(log, "fix=") || !strings.Contains(log, strings.ReplaceAll(fix, `"`, `\"`)) {
				t.Errorf("log %q", log)
			}
			if c.name == "timeout" {
				if res.Attempts != 3 || len(f.slept) != 2 || f.slept[0] != 2*time.Second || f.slept[1] != 4*time.Second {
					t.Errorf("retries: attempts %d, slept %v", res.Attempts, f.slept)
				}
			} else if len(f.slept) != 0 {
				t.Errorf("a permanent failure was retried: %v", f.slept)
			}
		})
	}
}

func TestConcurrentRotationsRunTheCLIOnce(t *testing.T) {
	f := setup(t, 3*time.Minute)
	var wg sync.WaitGroup
	results := make([]*Result, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = Run(context.Background(), f.opts(), f.deps())
		}()
	}
	wg.Wait()
	rotated := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Errorf("run %d: %v", i, errs[i])
		}
		if r.Outcome == Rotated {
			rotated++
		}
	}
	if rotated != 1 || f.env.CallCount("auth", "token") != 1 {
		t.Errorf("%d rotations, %d auth token calls", rotated, f.env.CallCount("auth", "token"))
	}
	want := bytes.Replace(f.before, []byte(f.token), []byte(f.env.State().CachedToken), 1)
	if !bytes.Equal(f.envNow(), want) {
		t.Error(".env corrupted")
	}
}

func TestBusy(t *testing.T) {
	f := setup(t, 3*time.Minute)
	os.MkdirAll(filepath.Join(f.dir, "logs"), 0o700)
	unlock, err := safefile.Lock(filepath.Join(f.dir, "logs", "rotate"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	o := f.opts()
	o.LockWait = 50 * time.Millisecond
	res, err := f.run(o)
	if err != nil || res.Outcome != Busy || len(f.env.Calls()) != 0 {
		t.Errorf("outcome %v err %v calls %d", res.Outcome, err, len(f.env.Calls()))
	}
}

func TestDryRun(t *testing.T) {
	f := setup(t, 3*time.Minute)
	o := f.opts()
	o.DryRun = true
	o.Hook = "systemctl --user restart voyce-backend"
	res, err := f.run(o)
	if err != nil || res.Outcome != DryRun || len(res.Would) != 4 {
		t.Fatalf("outcome %v err %v would %q", res.Outcome, err, res.Would)
	}
	if len(f.env.Calls()) != 0 || !bytes.Equal(f.envNow(), f.before) || f.log() != "" {
		t.Error("dry run changed something or ran the CLI")
	}
}

func TestForceAndThreshold(t *testing.T) {
	f := setup(t, 40*time.Minute)
	o := f.opts()
	o.Threshold = 45 * time.Minute
	if res, _ := f.run(o); res.Outcome != Rotated {
		t.Errorf("threshold 45m with 40m left: %v", res.Outcome)
	}
	f2 := setup(t, 40*time.Minute)
	o = f2.opts()
	o.Force = true
	f2.env.Update(func(s *fakedatabricks.State) { s.Version = "Databricks CLI v1.13.0" })
	f2.env.SetCachedToken(f2.token, t0.Add(40*time.Minute))
	if res, _ := f2.run(o); res.Outcome != Rotated {
		t.Errorf("--force: %v", res.Outcome)
	}
}

func TestMissingAndBadEnv(t *testing.T) {
	f := setup(t, 3*time.Minute)
	o := f.opts()
	o.EnvFile = filepath.Join(f.dir, "nope.env")
	if res, err := f.run(o); err == nil || !strings.Contains(err.Error(), "voyce-auth setup") || res.Before.Status != "" {
		t.Errorf("missing .env: %v, before %+v", err, res.Before)
	}
	f.writeEnv("DATABRICKS_OAUTH_TOKEN=x\n")
	if _, err := f.run(f.opts()); err == nil || !strings.Contains(err.Error(), "DATABRICKS_HOST is not set") {
		t.Errorf("no host: %v", err)
	}
	// No token at all: rotation fetches one (there is no subject to compare).
	f.writeEnv("DATABRICKS_HOST=" + f.env.Host + "\nDATABRICKS_CONFIG_PROFILE=DEFAULT\n")
	res, err := f.run(f.opts())
	if err != nil || res.Outcome != Rotated || !strings.Contains(string(f.envNow()), "DATABRICKS_OAUTH_TOKEN=") {
		t.Errorf("no token: %v %v", res.Outcome, err)
	}
}

func TestHookRunsOnlyAfterARealRotation(t *testing.T) {
	f := setup(t, 3*time.Minute)
	out := filepath.Join(f.dir, "hook-env.txt")
	script := filepath.Join(f.dir, "hook.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nprintf 'args=%s\\n' \"$*\" > \""+out+"\"\nenv >> \""+out+"\"\n"), 0o700)
	o := f.opts()
	o.Hook = script + " restart 'voyce backend'"
	d := f.deps()
	// The parent environment holds the old token (a sourced .env): the hook must not inherit it.
	d.Runner = &run.Exec{Environ: append(f.env.Environ(), "DATABRICKS_OAUTH_TOKEN="+f.token)}
	res, err := f.runWith(o, d)
	if err != nil || res.Outcome != Rotated || res.Hook == nil || !res.Hook.OK || res.Hook.Shell {
		t.Fatalf("outcome %v err %v hook %+v", res.Outcome, err, res.Hook)
	}
	got, _ := os.ReadFile(out)
	if !strings.Contains(string(got), "args=restart voyce backend\n") || !strings.Contains(string(got), "VOYCE_TOKEN_EXPIRY=2026-11-26T08:00:00Z") {
		t.Errorf("hook saw:\n%s", got)
	}
	for _, tok := range []string{f.token, f.env.State().CachedToken} {
		if strings.Contains(string(got), tok) || strings.Contains(string(got), "DATABRICKS_OAUTH_TOKEN") {
			t.Error("the hook saw a token")
		}
	}
	if !strings.Contains(f.log(), "hook=ok") {
		t.Errorf("log %q", f.log())
	}
	// No rotation, no hook.
	os.Remove(out)
	f.token = f.env.State().CachedToken
	if res, _ := f.runWith(o, d); res.Outcome != StillValid || res.Hook != nil {
		t.Errorf("no-op ran the hook: %v", res.Outcome)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the hook ran without a rotation")
	}
}

func TestHookNotRunOnSameToken(t *testing.T) {
	f := setup(t, 12*time.Minute)
	f.env.SetCachedToken(f.token, t0.Add(12*time.Minute))
	marker := filepath.Join(f.dir, "ran")
	o := f.opts()
	o.Hook = "touch " + marker
	if res, err := f.run(o); err != nil || res.Outcome != SameToken || res.Hook != nil {
		t.Fatalf("%v %v", res.Outcome, err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the hook ran after a same-token answer")
	}
}

func TestFailingHookKeepsTheToken(t *testing.T) {
	f := setup(t, 3*time.Minute)
	o := f.opts()
	o.Hook = "echo restarting >&2; exit 3"
	res, err := f.run(o)
	if err == nil || res.Outcome != Rotated || res.Hook == nil || res.Hook.OK || !res.Hook.Shell {
		t.Fatalf("outcome %v err %v hook %+v", res.Outcome, err, res.Hook)
	}
	if !strings.Contains(res.Hook.Error, "status 3: restarting") {
		t.Errorf("hook error %q", res.Hook.Error)
	}
	if tok, _ := tokenIn(f.envNow()); tok != f.env.State().CachedToken {
		t.Error("the new token was not kept")
	}
	if !strings.Contains(f.log(), "hook=failed") {
		t.Errorf("log %q", f.log())
	}
	// A hook that hangs is stopped.
	f2 := setup(t, 3*time.Minute)
	o = f2.opts()
	o.Hook = "sleep 30"
	o.HookTimeout = 200 * time.Millisecond
	res, err = f2.run(o)
	if err == nil || !strings.Contains(res.Hook.Error, "did not finish") {
		t.Errorf("hanging hook: %v %+v", err, res.Hook)
	}
}

func TestHookArgv(t *testing.T) {
	cases := map[string]struct {
		argv  []string
		shell bool
	}{
		"systemctl --user restart voyce-backend": {[]string{"systemctl", "--user", "restart", "voyce-backend"}, false},
		`/opt/my app/restart.sh`:                 {[]string{"/opt/my", "app/restart.sh"}, false},
		`'/opt/my app/restart.sh' --now`:         {[]string{"/opt/my app/restart.sh", "--now"}, false},
		`touch "a b" c\ d`:                       {[]string{"touch", "a b", "c d"}, false},
		`docker compose restart api && echo ok`:  {[]string{"/bin/sh", "-c", "docker compose restart api && echo ok"}, true},
		`kill -HUP $(cat app.pid)`:               {[]string{"/bin/sh", "-c", "kill -HUP $(cat app.pid)"}, true},
		`FOO=1 ./restart`:                        {[]string{"/bin/sh", "-c", "FOO=1 ./restart"}, true},
		`echo "$HOME"`:                           {[]string{"/bin/sh", "-c", `echo "$HOME"`}, true},
	}
	for in, want := range cases {
		argv, shell, err := HookArgv(in, "linux")
		if err != nil || shell != want.shell || strings.Join(argv, "|") != strings.Join(want.argv, "|") {
			t.Errorf("HookArgv(%q) = %q, %v, %v", in, argv, shell, err)
		}
	}
	if argv, _, _ := HookArgv("a | b", "windows"); argv[0] != "cmd" {
		t.Errorf("windows shell: %v", argv)
	}
}

func TestLogIsBounded(t *testing.T) {
	f := setup(t, 3*time.Minute)
	lf := LogFile(f.envFile)
	os.MkdirAll(filepath.Dir(lf), 0o700)
	os.WriteFile(lf, bytes.Repeat([]byte("x"), MaxLogSize-10), 0o644)
	if _, err := f.run(f.opts()); err != nil {
		t.Fatal(err)
	}
	old, err := os.Stat(lf + ".1")
	if err != nil || old.Mode().Perm() != 0o600 {
		t.Fatalf("old log: %v", err)
	}
	if fi, _ := os.Stat(lf); fi.Size() > 1000 {
		t.Errorf("new log %d bytes", fi.Size())
	}
}

type memPG struct {
	pw    string
	ok    bool
	saves int
}

func (m *memPG) Current() (string, bool, error) { return m.pw, m.ok, nil }
func (m *memPG) Save(p string) error            { m.pw, m.ok = p, true; m.saves++; return nil }
func (m *memPG) Describe() string               { return "~/.pgpass entry for instance-0b6c:5432" }

func TestPGCredential(t *testing.T) {
	f := setup(t, 40*time.Minute)
	pg := &memPG{}
	o := f.opts()
	o.PG = pg
	o.PGInstance = "voyce-pg"
	res, err := f.run(o)
	if err != nil || res.Outcome != Rotated || res.PG == nil || res.PG.Outcome != Rotated || pg.saves != 1 {
		t.Fatalf("outcome %v err %v pg %+v", res.Outcome, err, res.PG)
	}
	if !bytes.Equal(f.envNow(), f.before) {
		t.Error("the token was still valid: .env must not change")
	}
	if f.env.CallCount("database", "generate-database-credential") != 1 || f.env.CallCount("auth", "token") != 0 {
		t.Errorf("calls %v", f.env.Calls())
	}
	f.secrets = append(f.secrets, pg.pw)
	f.noSecrets(res, err)
	// Fresh credential: no-op.
	if res, _ := f.run(o); res.Outcome != StillValid || pg.saves != 1 {
		t.Errorf("second run %v saves %d", res.Outcome, pg.saves)
	}
	// Without a Postgres entry configured it is a clear error.
	o.PG = nil
	if _, err := f.run(o); err == nil || !strings.Contains(err.Error(), "POSTGRES_HOST") {
		t.Errorf("no PG: %v", err)
	}
}

func TestPGCredentialInPgpass(t *testing.T) {
	f := setup(t, 40*time.Minute)
	pgpassFile := filepath.Join(f.dir, "home", ".pgpass")
	os.MkdirAll(filepath.Dir(pgpassFile), 0o700)
	os.WriteFile(pgpassFile, []byte("# mine\nother.host:5432:*:me:keep-this\n"), 0o600)
	f.writeEnv(string(f.before) + "VOYCE_PG_CREDENTIAL_INSTANCE=voyce-pg\n")
	o := f.opts()
	o.PgpassFile = pgpassFile
	res, err := f.run(o)
	if err != nil || res.Outcome != Rotated || res.PG == nil || res.PG.Outcome != Rotated {
		t.Fatalf("outcome %v err %v pg %+v", res.Outcome, err, res.PG)
	}
	b, _ := os.ReadFile(pgpassFile)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 || lines[1] != "other.host:5432:*:me:keep-this" ||
		!strings.HasPrefix(lines[2], "instance-0b6c.database.cloud.databricks.com:5432:databricks_postgres:dev.user@example.com:ey") {
		t.Errorf(".pgpass has %d lines", len(lines))
	}
	f.secrets = append(f.secrets, lines[2][strings.LastIndexByte(lines[2], ':')+1:])
	f.noSecrets(res, err)
	if res, _ := f.run(o); res.Outcome != StillValid {
		t.Errorf("second run: %v", res.Outcome)
	}
}
