package doctor

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/testutil/pgtest"
)

func (fx *fixture) pgpassLine(host string, password string) string {
	s := fx.srv
	return fmt.Sprintf("%s:%d:%s:%s:%s", host, s.Port, s.Database, s.User, password)
}

func (fx *fixture) writePgpass(t *testing.T, content string, mode os.FileMode) {
	t.Helper()
	writeFile(t, fx.d.PgpassFile, content, mode)
	fx.d = fx.fresh()
}

func TestPgLoginFromSettings(t *testing.T) {
	fx := newFixture(t)
	r := runCheck(t, fx.d, "pg-login")
	if r.Status != StatusOK || !strings.Contains(r.Message, "logged in as dev.user@example.com to databricks_postgres over TLS") {
		t.Fatalf("ok: %+v", r)
	}
	if !strings.Contains(strings.Join(r.Details, "\n"), "password from: ~/.pgpass") {
		t.Errorf("details: %v", r.Details)
	}
	// Wrong password in .pgpass: 28P01 with its fix.
	fx.writePgpass(t, fx.pgpassLine(fx.srv.Host, "wrong-password")+"\n", 0o600)
	r = runCheck(t, fx.d, "pg-login")
	if r.Status != StatusFail || !strings.Contains(r.Message, "password authentication failed") || !strings.Contains(r.Fix, "voyce-auth password") {
		t.Errorf("wrong password: %+v", r)
	}
	// PGPASSWORD wins over the file.
	fx.env["PGPASSWORD"] = fx.srv.Password
	if r := runCheck(t, fx.d, "pg-login"); r.Status != StatusOK || !strings.Contains(strings.Join(r.Details, "\n"), "password from: PGPASSWORD") {
		t.Errorf("PGPASSWORD: %+v", r)
	}
	assertNoSecret(t, r, fx.srv.Password)
	delete(fx.env, "PGPASSWORD")
	// Missing database.
	fx.writePgpass(t, fmt.Sprintf("*:*:*:%s:%s\n", fx.srv.User, fx.srv.Password), 0o600)
	fx.replaceEnv(t, "POSTGRES_DB", "nosuchdb")
	if r := runCheck(t, fx.d, "pg-login"); r.Status != StatusFail || !strings.Contains(r.Message, `database "nosuchdb" does not exist`) {
		t.Errorf("no database: %+v", r)
	}
}

func TestPgLoginTLSRefusedFromSettings(t *testing.T) {
	fx := newFixture(t)
	plain, err := pgtest.Start(pgtest.Options{NoTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Stop()
	fx.replaceEnv(t, "POSTGRES_PORT", fmt.Sprint(plain.Port))
	fx.writePgpass(t, fmt.Sprintf("*:*:*:*:%s\n", plain.Password), 0o600)
	if r := runCheck(t, fx.d, "pg-login"); r.Status != StatusFail || !strings.Contains(r.Message, "does not offer TLS") {
		t.Errorf("TLS refused: %+v", r)
	}
}

func TestPgSilentServerWholeRunWithinLimit(t *testing.T) {
	fx := newFixture(t)
	fx.replaceEnv(t, "POSTGRES_PORT", fmt.Sprint(pgtest.SilentListener(t)))
	fx.writePgpass(t, "*:*:*:*:whatever\n", 0o600)
	start := time.Now()
	got := byID(Run(context.Background(), All(fx.d), Options{Timeout: 1500 * time.Millisecond}))
	if el := time.Since(start); el > 4*time.Second {
		t.Fatalf("the whole run took %v with a 1.5s limit", el)
	}
	if got["pg-tcp"].Status != StatusOK {
		t.Errorf("pg-tcp: %+v", got["pg-tcp"])
	}
	if r := got["pg-login"]; !r.Status.Failed() || !strings.Contains(r.Message, "no answer from") {
		t.Errorf("pg-login: %+v", r)
	}
}

func TestPasswordSource(t *testing.T) {
	fx := newFixture(t)
	shown := "~/.pgpass"
	if r := runCheck(t, fx.d, "pg-password-source"); r.Status != StatusOK || r.Message != shown+" line 1 has the password for dev.user@example.com" {
		t.Errorf("ok: %+v", r)
	}
	exact := fx.pgpassLine(fx.srv.Host, fx.srv.Password)
	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		status        Status
		msg, fix      string
	}{
		{"shadowed", "# mine\n*:*:*:*:other\n" + exact + "\n", 0o600, StatusWarn,
			shown + " line 2 (*:*:*:*:…) answers first and shadows your entry on line 3", "move line 3 above line 2"},
		{"wildcard only", "*:*:*:*:other\n", 0o600, StatusOK, "line 1 (wildcard *:*:*:*)", ""},
		{"no entry, localhost spelled differently", fx.pgpassLine("localhost", "x") + "\n", 0o600, StatusFail,
			"has no entry for 127.0.0.1:", "voyce-auth password"},
		{"loose mode", exact + "\n", 0o644, StatusFail, "psql ignores ~/.pgpass because it is 0644", "chmod 600 ~/.pgpass"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx.writePgpass(t, tc.content, tc.mode)
			r := runCheck(t, fx.d, "pg-password-source")
			if r.Status != tc.status || !strings.Contains(r.Message, tc.msg) || !strings.HasPrefix(r.Fix, tc.fix) {
				t.Errorf("got %s %q fix %q; want %s %q fix %q", r.Status, r.Message, r.Fix, tc.status, tc.msg, tc.fix)
			}
			assertNoSecret(t, r, fx.srv.Password)
		})
	}
	os.Remove(fx.d.PgpassFile)
	if r := runCheck(t, fx.d, "pg-password-source"); r.Status != StatusFail || !strings.Contains(r.Message, "PGPASSWORD is not set and ~/.pgpass does not exist") {
		t.Errorf("no file: %+v", r)
	}
	fx.env["PGPASSWORD"] = "x"
	if r := runCheck(t, fx.d, "pg-password-source"); r.Status != StatusOK || !strings.HasPrefix(r.Message, "PGPASSWORD is set") {
		t.Errorf("env: %+v", r)
	}
}

func TestPgpassFile(t *testing.T) {
	fx := newFixture(t)
	if r := runCheck(t, fx.d, "pgpass-file"); r.Status != StatusOK || r.Message != "~/.pgpass is 0600 with 1 entry, well formed" {
		t.Errorf("ok: %+v", r)
	}
	exact := fx.pgpassLine(fx.srv.Host, fx.srv.Password)
	for _, tc := range []struct {
		name, content string
		status        Status
		msg           string
	}{
		{"crlf", exact + "\r\n", StatusWarn, "line 1: Windows line ending"},
		{"four fields", "db.example.com:5432:db:user\n" + exact + "\n", StatusFail, "line 1: 4 fields instead of 5"},
		{"unescaped colon", "h:5432:db:u:pa:ss\n", StatusFail, "an unescaped ':' in the password"},
		{"spaces around colons", "h : 5432:db:u:pw\n", StatusWarn, "spaces around ':'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx.writePgpass(t, tc.content, 0o600)
			r := runCheck(t, fx.d, "pgpass-file")
			if r.Status != tc.status || !strings.Contains(r.Message, tc.msg) || !strings.HasPrefix(r.Fix, "Edit line") {
				t.Errorf("got %s %q fix %q; want %s %q", r.Status, r.Message, r.Fix, tc.status, tc.msg)
			}
			assertNoSecret(t, r, fx.srv.Password)
		})
	}
	// Mode 0644: failure, fixed by --fix.
	fx.writePgpass(t, exact+"\n", 0o644)
	r := runCheck(t, fx.d, "pgpass-file")
	if r.Status != StatusFail || !strings.Contains(r.Message, "is 0644: psql ignores") {
		t.Fatalf("0644: %+v", r)
	}
	checks := All(fx.d)
	sel, _ := Select(checks, []string{"pgpass-file"}, nil)
	plans := PlanFixes(sel, Run(context.Background(), sel, Options{}))
	if len(plans) != 1 || plans[0].Change != "chmod 600 ~/.pgpass (now 0644)" {
		t.Fatalf("plans: %+v", plans)
	}
	if res := ApplyFixes(context.Background(), plans, Options{}); res[0].Err != nil || res[0].After.Result.Status != StatusOK {
		t.Errorf("fix: %+v", res[0])
	}
	// Missing: skipped (pg-password-source explains where the password comes from).
	os.Remove(fx.d.PgpassFile)
	if r := runCheck(t, fx.d, "pgpass-file"); r.Status != StatusSkip {
		t.Errorf("missing: %+v", r)
	}
	os.Mkdir(fx.d.PgpassFile, 0o700)
	if r := runCheck(t, fx.d, "pgpass-file"); r.Status != StatusFail || !strings.Contains(r.Message, "not a regular file") {
		t.Errorf("folder: %+v", r)
	}
}

func TestDatabaseURL(t *testing.T) {
	fx := newFixture(t)
	r := runCheck(t, fx.d, "database-url")
	if r.Status != StatusOK || r.Message != "DATABASE_URL matches POSTGRES_* (postgresql+asyncpg://, ssl=require, password from ${PGPASSWORD})" {
		t.Errorf("ok: %+v", r)
	}
	s := fx.srv
	base := fmt.Sprintf("%s:%d/%s", s.Host, s.Port, s.Database)
	right := fmt.Sprintf("DATABASE_URL=postgresql+asyncpg://dev.user%%40example.com:${PGPASSWORD}@%s?ssl=require", base)
	for _, tc := range []struct {
		name, url string
		status    Status
		msg       string
	}{
		{"asyncpg with sslmode", "postgresql+asyncpg://dev.user%40example.com:${PGPASSWORD}@" + base + "?sslmode=require", StatusFail,
			"unexpected keyword argument 'sslmode'"},
		{"literal password", "postgresql+asyncpg://dev.user%40example.com:hunter2@" + base + "?ssl=require", StatusFail,
			"literal password instead of ${PGPASSWORD}"},
		{"raw @ in user", "postgresql+asyncpg://dev.user@example.com:${PGPASSWORD}@" + base + "?ssl=require", StatusWarn,
			"the user's '@' is not written %40 (dev.user%40example.com)"},
		{"other database", fmt.Sprintf("postgresql+asyncpg://dev.user%%40example.com:${PGPASSWORD}@%s:%d/other?ssl=require", s.Host, s.Port),
			StatusFail, "it names database other (POSTGRES_DB is databricks_postgres)"},
		{"no tls", "postgresql+asyncpg://dev.user%40example.com:${PGPASSWORD}@" + base, StatusWarn, "sets no ssl=require"},
		{"libpq with ssl", "postgresql://dev.user%40example.com@" + base + "?ssl=require", StatusFail, "postgresql:// takes sslmode=, not ssl="},
		{"missing", "-", StatusWarn, "has no DATABASE_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx.replaceEnv(t, "DATABASE_URL", tc.url)
			r := runCheck(t, fx.d, "database-url")
			if r.Status != tc.status || !strings.Contains(r.Message, tc.msg) {
				t.Errorf("got %s %q; want %s %q", r.Status, r.Message, tc.status, tc.msg)
			}
			if tc.name != "libpq with ssl" && !strings.Contains(r.Fix, right) {
				t.Errorf("fix %q lacks %q", r.Fix, right)
			}
			assertNoSecret(t, r, "hunter2")
		})
	}
}

// TestDatabaseURLPasswordBreaksURL: the URL is right, but the password its ${PGPASSWORD} stands for has an
// '@', which ends the password part once python-dotenv fills it in.
func TestDatabaseURLPasswordBreaksURL(t *testing.T) {
	fx := newFixture(t)
	s := fx.srv
	fx.writePgpass(t, fmt.Sprintf("%s:%d:%s:%s:p@ss%%41word\n", s.Host, s.Port, s.Database, "dev.user@example.com"), 0o600)
	r := runCheck(t, fx.d, "database-url")
	if r.Status != StatusWarn || !strings.Contains(r.Message, "the password contains '@'") ||
		!strings.Contains(r.Fix, "voyce-auth password --on-server --generate") {
		t.Errorf("got %+v", r)
	}
	assertNoSecret(t, r, "p@ss%41word")
}

func TestRunQuickHealthy(t *testing.T) {
	fx := newFixture(t)
	var buf strings.Builder
	ios, _, _, _ := iostreams.Test()
	if err := RunQuick(context.Background(), fx.d, &buf, ios.ColorScheme(), 10*time.Second); err != nil {
		t.Fatalf("RunQuick: %v\n%s", err, buf.String())
	}
	for _, s := range []string{"✓ pg-login", "✓ oauth-token-api", "✓ No problems found"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, buf.String())
		}
	}
	os.Chmod(fx.d.PgpassFile, 0o644)
	fx.d = fx.fresh()
	buf.Reset()
	if err := RunQuick(context.Background(), fx.d, &buf, ios.ColorScheme(), 10*time.Second); err != ErrProblems {
		t.Errorf("RunQuick with a loose .pgpass = %v\n%s", err, buf.String())
	}
}
