package doctor

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/internal/testutil/fakedatabricks"
	"github.com/voyce/voyce-auth/internal/testutil/pgtest"
)

// fixture is a healthy project: a .env for the throwaway server and the Databricks stand-in, a home folder
// with a 0600 .pgpass holding the password.
type fixture struct {
	d     *Deps
	srv   *pgtest.Server
	db    *fakedatabricks.Env
	dir   string // project folder
	home  string
	token string
	env   map[string]string // the process environment the checks see
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := pgtest.Shared(t)
	db := fakedatabricks.Start(t)
	fx := &fixture{srv: srv, db: db, dir: t.TempDir(), home: t.TempDir(), env: map[string]string{}}
	fx.token = db.MintToken(fakedatabricks.DefaultUser, time.Now().Add(-time.Minute), time.Hour)
	fx.writeEnv(t, fx.envLines())
	writeFile(t, filepath.Join(fx.home, ".pgpass"),
		fmt.Sprintf("%s:%d:%s:%s:%s\n", srv.Host, srv.Port, srv.Database, srv.User, srv.Password), 0o600)
	fx.d = &Deps{
		Runner:     &run.Exec{Environ: append(db.Environ(), gitEnv...)},
		Getenv:     func(k string) string { return fx.env[k] },
		HomeDir:    fx.home,
		EnvFile:    filepath.Join(fx.dir, ".env"),
		PgpassFile: filepath.Join(fx.home, ".pgpass"),
		ProjectDir: fx.dir,
		GOOS:       "linux",
		HTTP:       &http.Client{Timeout: 5 * time.Second},
	}
	return fx
}

func (fx *fixture) envLines() []string {
	s := fx.srv
	return []string{
		"# Voyce backend settings",
		"POSTGRES_HOST=" + s.Host,
		fmt.Sprintf("POSTGRES_PORT=%d", s.Port),
		"POSTGRES_DB=" + s.Database,
		"POSTGRES_USER=" + s.User,
		"POSTGRES_PASSWORD=${PGPASSWORD}",
		fmt.Sprintf("DATABASE_URL=postgresql+asyncpg://dev.user%%40example.com:${PGPASSWORD}@%s:%d/%s?ssl=require", s.Host, s.Port, s.Database),
		"DATABRICKS_HOST=" + fx.db.Host,
		"DATABRICKS_CONFIG_PROFILE=" + fakedatabricks.DefaultProfile,
		"DATABRICKS_OAUTH_TOKEN=" + fx.token,
	}
}

func (fx *fixture) writeEnv(t *testing.T, lines []string) {
	t.Helper()
	writeFile(t, filepath.Join(fx.dir, ".env"), strings.Join(lines, "\n")+"\n", 0o600)
	if fx.d != nil {
		fx.d = fx.fresh()
	}
}

// fresh returns Deps that will read the files again.
func (fx *fixture) fresh() *Deps {
	d := fx.d
	return &Deps{Runner: d.Runner, Getenv: d.Getenv, HomeDir: d.HomeDir, EnvFile: d.EnvFile, PgpassFile: d.PgpassFile,
		ProjectDir: d.ProjectDir, GOOS: d.GOOS, HTTP: d.HTTP, Clock: d.Clock}
}

// replaceEnv rewrites .env with the line for key replaced (dropped when value is "-").
func (fx *fixture) replaceEnv(t *testing.T, key, value string) {
	t.Helper()
	var out []string
	for _, l := range fx.envLines() {
		if strings.HasPrefix(l, key+"=") {
			if value == "-" {
				continue
			}
			l = key + "=" + value
		}
		out = append(out, l)
	}
	fx.writeEnv(t, out)
}

func TestEnvFileCheck(t *testing.T) {
	fx := newFixture(t)
	r := runCheck(t, fx.d, "env-file")
	if r.Status != StatusOK || !strings.Contains(r.Message, "has the POSTGRES_* settings: dev.user@example.com@127.0.0.1:") {
		t.Errorf("ok: %+v", r)
	}

	fx.replaceEnv(t, "POSTGRES_PORT", "54x")
	if r := runCheck(t, fx.d, "env-file"); r.Status != StatusFail || !strings.Contains(r.Message, "POSTGRES_PORT must be a port number") {
		t.Errorf("bad port: %+v", r)
	}
	fx.replaceEnv(t, "POSTGRES_HOST", "-")
	if r := runCheck(t, fx.d, "env-file"); r.Status != StatusFail || !strings.Contains(r.Message, "has no POSTGRES_HOST") ||
		!strings.HasPrefix(r.Fix, "voyce-auth setup") {
		t.Errorf("no host: %+v", r)
	}
	fx.replaceEnv(t, "POSTGRES_DB", "-")
	if r := runCheck(t, fx.d, "env-file"); r.Status != StatusWarn || !strings.Contains(r.Message, "lacks POSTGRES_DB") {
		t.Errorf("no db: %+v", r)
	}
	os.Remove(filepath.Join(fx.dir, ".env"))
	fx.d = fx.fresh()
	r = runCheck(t, fx.d, "env-file")
	if r.Status != StatusFail || !strings.HasPrefix(r.Message, "no .env file at ") || !strings.HasPrefix(r.Fix, "voyce-auth setup") {
		t.Errorf("missing: %+v", r)
	}
}

func TestEnvDependentsSkipWithoutEnvFile(t *testing.T) {
	fx := newFixture(t)
	os.Remove(filepath.Join(fx.dir, ".env"))
	fx.d = fx.fresh()
	got := byID(Run(context.Background(), All(fx.d), Options{Timeout: 5 * time.Second}))
	for _, id := range []string{"pg-dns", "pg-tcp", "databricks-login", "oauth-token", "oauth-token-api", "clock-skew"} {
		if got[id].Status != StatusSkip {
			t.Errorf("%s = %+v, want skipped", id, got[id])
		}
	}
	if r := got["env-file-mode"]; r.Status != StatusSkip {
		t.Errorf("env-file-mode: %+v", r)
	}
}

func TestNetworkChecksFromEnv(t *testing.T) {
	fx := newFixture(t)
	got := byID(Run(context.Background(), All(fx.d), Options{Timeout: 10 * time.Second}))
	for _, id := range []string{"pg-dns", "pg-tcp", "databricks-cli", "databricks-login", "oauth-token", "oauth-token-api", "clock-skew"} {
		if got[id].Status != StatusOK {
			t.Errorf("%s = %+v, want ok", id, got[id])
		}
	}
	fx.replaceEnv(t, "DATABRICKS_HOST", "-")
	got = byID(Run(context.Background(), All(fx.d), Options{Timeout: 10 * time.Second}))
	if r := got["databricks-login"]; r.Status != StatusFail || !strings.Contains(r.Message, "has no DATABRICKS_HOST") {
		t.Errorf("databricks-login without host: %+v", r)
	}
	if r := got["clock-skew"]; r.Status != StatusSkip {
		t.Errorf("clock-skew without host: %+v", r)
	}
	fx.replaceEnv(t, "DATABRICKS_OAUTH_TOKEN", "-")
	lines := fx.envLines()
	var kept []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "DATABRICKS_") {
			kept = append(kept, l)
		}
	}
	fx.writeEnv(t, kept)
	if r := runCheck(t, fx.d, "oauth-token"); r.Status != StatusFail || !strings.Contains(r.Message, "Databricks is not set up") ||
		!strings.HasPrefix(r.Fix, "voyce-auth setup") {
		t.Errorf("no Databricks settings: %+v", r)
	}
}

func TestOAuthTokenFromEnvExpired(t *testing.T) {
	fx := newFixture(t)
	fx.token = fx.db.MintToken(fakedatabricks.DefaultUser, time.Now().Add(-3*time.Hour), time.Hour)
	fx.writeEnv(t, fx.envLines())
	got := byID(Run(context.Background(), All(fx.d), Options{Timeout: 10 * time.Second}))
	if r := got["oauth-token"]; r.Status != StatusFail || !strings.Contains(r.Message, "expired") {
		t.Errorf("oauth-token: %+v", r)
	}
	if r := got["oauth-token-api"]; r.Status != StatusSkip || !strings.Contains(r.Message, "needs oauth-token") {
		t.Errorf("oauth-token-api: %+v", r)
	}
}

func TestEnvFileMode(t *testing.T) {
	fx := newFixture(t)
	if r := runCheck(t, fx.d, "env-file-mode"); r.Status != StatusOK || !strings.Contains(r.Message, "is 0600") {
		t.Errorf("0600: %+v", r)
	}
	envPath := filepath.Join(fx.dir, ".env")
	os.Chmod(envPath, 0o644)
	r := runCheck(t, fx.d, "env-file-mode")
	if r.Status != StatusFail || !strings.Contains(r.Message, "holds a Databricks token but is 0644") ||
		!strings.HasPrefix(r.Fix, "chmod 600 "+envPath) {
		t.Fatalf("0644: %+v", r)
	}
	checks := All(fx.d)
	plans := PlanFixes(checks, Run(context.Background(), checks, Options{Timeout: 10 * time.Second}))
	var found bool
	for _, p := range plans {
		if p.Outcome.ID == "env-file-mode" {
			found = true
			if p.Change != "chmod 600 "+envPath+" (now 0644)" {
				t.Errorf("plan = %q", p.Change)
			}
			res := ApplyFixes(context.Background(), []PlannedFix{p}, Options{})
			if res[0].Err != nil || res[0].After.Result.Status != StatusOK {
				t.Errorf("fix: %+v", res[0])
			}
		}
	}
	if !found {
		t.Fatalf("no plan for env-file-mode: %+v", plans)
	}
	fi, _ := os.Stat(envPath)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after fix = %04o", fi.Mode().Perm())
	}
	// Without a token, a readable .env is a warning.
	fx.replaceEnv(t, "DATABRICKS_OAUTH_TOKEN", "-")
	os.Chmod(envPath, 0o640)
	if r := runCheck(t, fx.d, "env-file-mode"); r.Status != StatusWarn {
		t.Errorf("no token: %+v", r)
	}
}

func TestHardcodedPassword(t *testing.T) {
	fx := newFixture(t)
	if r := runCheck(t, fx.d, "hardcoded-password"); r.Status != StatusOK {
		t.Errorf("clean: %+v", r)
	}
	secret := "s3cret-Literal"
	fx.replaceEnv(t, "POSTGRES_PASSWORD", secret)
	writeFile(t, filepath.Join(fx.home, ".bashrc"), "alias ll='ls -l'\n# export PGPASSWORD=old\nexport PGPASSWORD='"+secret+"'\nexport PGPASSWORD=$(pass show pg)\n", 0o644)
	writeFile(t, filepath.Join(fx.home, ".config/fish/config.fish"), "set -gx PGPASSWORD "+secret+"\n", 0o644)
	r := runCheck(t, fx.d, "hardcoded-password")
	if r.Status != StatusWarn {
		t.Fatalf("literal: %+v", r)
	}
	for _, s := range []string{"POSTGRES_PASSWORD in " + filepath.Join(fx.dir, ".env"), "line 3 of ~/.bashrc", "line 1 of ~/.config/fish/config.fish"} {
		if !strings.Contains(r.Message, s) {
			t.Errorf("message lacks %q: %q", s, r.Message)
		}
	}
	if strings.Contains(r.Message, "line 4") || strings.Contains(r.Message, "line 2") {
		t.Errorf("a comment or a command substitution was reported: %q", r.Message)
	}
	if !strings.Contains(r.Fix, "delete line 3 of ~/.bashrc") || !strings.Contains(r.Fix, "POSTGRES_PASSWORD=${PGPASSWORD}") {
		t.Errorf("fix: %q", r.Fix)
	}
	assertNoSecret(t, r, secret)
}
