package pg_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voyce/voyce-auth/internal/pg"
	"github.com/voyce/voyce-auth/internal/pg/scram"
	"github.com/voyce/voyce-auth/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func params(srv *pgtest.Server) pg.Params {
	return pg.Params{Host: srv.Host, Port: srv.Port, Database: srv.Database, User: srv.User,
		Password: srv.Password, SSLMode: "require", ConnectTimeout: 10 * time.Second}
}

func TestValidate(t *testing.T) {
	good := pg.Params{Host: "instance-1234.database.cloud.databricks.com", Port: 5432,
		Database: "databricks_postgres", User: "dev.user@example.com", SSLMode: "require"}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid params refused: %v", err)
	}
	for _, h := range []string{"127.0.0.1", "::1", "[::1]", "localhost", "db.example.com."} {
		p := good
		p.Host = h
		if err := p.Validate(); err != nil {
			t.Errorf("host %q refused: %v", h, err)
		}
	}
	cases := []struct {
		name  string
		edit  func(*pg.Params)
		field string
	}{
		{"empty host", func(p *pg.Params) { p.Host = "" }, "host"},
		{"url host", func(p *pg.Params) { p.Host = "postgres://x" }, "host"},
		{"host with port", func(p *pg.Params) { p.Host = "db.example.com:5432" }, "host"},
		{"underscore", func(p *pg.Params) { p.Host = "bad_host.example.com" }, "host"},
		{"leading dash", func(p *pg.Params) { p.Host = "-bad.example.com" }, "host"},
		{"long label", func(p *pg.Params) { p.Host = strings.Repeat("a", 64) + ".com" }, "host"},
		{"port 0", func(p *pg.Params) { p.Port = 0 }, "port"},
		{"port 65536", func(p *pg.Params) { p.Port = 65536 }, "port"},
		{"no database", func(p *pg.Params) { p.Database = "" }, "database"},
		{"no user", func(p *pg.Params) { p.User = "" }, "user"},
		{"bad sslmode", func(p *pg.Params) { p.SSLMode = "required" }, "sslmode"},
	}
	for _, c := range cases {
		p := good
		c.edit(&p)
		err := p.Validate()
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.field) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q should be one line starting with %q", c.name, err, c.field)
		}
	}
	if err := pg.ValidateField("port", "54x"); err == nil {
		t.Error("port 54x accepted")
	}
	if err := pg.ValidateField("sslmode", "verify-full"); err != nil {
		t.Error(err)
	}
}

func TestConfigIgnoresEnvironmentAndPassfile(t *testing.T) {
	dir := t.TempDir()
	passfile := filepath.Join(dir, "pgpass")
	if err := os.WriteFile(passfile, []byte("*:*:*:*:from-passfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGPASSFILE", passfile)
	t.Setenv("PGPASSWORD", "from-env")
	t.Setenv("PGHOST", "other.example.com")
	t.Setenv("PGSSLMODE", "disable")
	t.Setenv("PGAPPNAME", "x")
	p := pg.Params{Host: "127.0.0.1", Port: 5432, Database: "d", User: "u", Password: "given"}
	cfg, err := pg.Config(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Password != "given" || cfg.Host != "127.0.0.1" || cfg.TLSConfig == nil || len(cfg.Fallbacks) != 0 {
		t.Fatalf("config took settings from the environment: host=%s tls=%v fallbacks=%d password-len=%d",
			cfg.Host, cfg.TLSConfig != nil, len(cfg.Fallbacks), len(cfg.Password))
	}
	if cfg.RuntimeParams["application_name"] != "voyce-auth" {
		t.Fatalf("application_name = %q", cfg.RuntimeParams["application_name"])
	}
	p.Password = ""
	cfg, err = pg.Config(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Password != "" {
		t.Fatal("Config read a password from PGPASSWORD or the passfile by itself")
	}
}

func TestVerifyOverTLS(t *testing.T) {
	srv := pgtest.Shared(t)
	info, err := pg.Verify(testCtx(t), params(srv))
	if err != nil {
		t.Fatal(err)
	}
	if !info.SSL || !strings.HasPrefix(info.SSLVersion, "TLS") || !strings.Contains(info.Version, "PostgreSQL") {
		t.Fatalf("info = %+v", info)
	}
}

// expectProblem connects with p and checks the cause, and that the password shows up nowhere.
func expectProblem(t *testing.T, p pg.Params, want pg.Cause) *pg.Problem {
	t.Helper()
	_, err := pg.Verify(testCtx(t), p)
	if err == nil {
		t.Fatalf("want %s, connected", want)
	}
	pr := pg.Classify(err, p)
	if pr.Cause != want {
		t.Fatalf("want cause %s, got %s (%s)", want, pr.Cause, pr.Message)
	}
	for _, s := range []string{err.Error(), pr.Message, pr.Fix} {
		if p.Password != "" && strings.Contains(s, p.Password) {
			t.Fatalf("the password appears in %q", strings.ReplaceAll(s, p.Password, "<PASSWORD>"))
		}
	}
	if pr.Message == "" || strings.Contains(pr.Message, "\n") || pr.Fix == "" {
		t.Fatalf("message %q / fix %q", pr.Message, pr.Fix)
	}
	t.Logf("%s: %s | fix: %s", pr.Cause, pr.Message, pr.Fix)
	return pr
}

func TestClassifyWrongPassword(t *testing.T) {
	srv := pgtest.Shared(t)
	p := params(srv)
	p.Password = "Wrong-" + pgtest.RandomPassword()
	expectProblem(t, p, pg.CauseWrongPassword)
}

func TestClassifyNoDatabase(t *testing.T) {
	srv := pgtest.Shared(t)
	p := params(srv)
	p.Database = "nosuch_db"
	pr := expectProblem(t, p, pg.CauseNoDatabase)
	if !strings.Contains(pr.Message, "nosuch_db") {
		t.Fatal(pr.Message)
	}
}

func TestClassifyNoConnectPrivilege(t *testing.T) {
	srv := pgtest.Shared(t)
	pw := pgtest.RandomPassword()
	role := srv.NewRole(t, pw)
	if _, err := srv.Admin(t).Exec(testCtx(t), "REVOKE CONNECT ON DATABASE "+
		pgx.Identifier{srv.Database}.Sanitize()+" FROM "+pgx.Identifier{role}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	p := params(srv)
	p.User, p.Password = role, pw
	pr := expectProblem(t, p, pg.CauseNoConnectPrivilege)
	if !strings.Contains(pr.Fix, "GRANT CONNECT ON DATABASE") {
		t.Fatal(pr.Fix)
	}
}

func TestClassifyPlaintextRefused(t *testing.T) {
	srv := pgtest.Shared(t)
	p := params(srv)
	p.SSLMode = "disable"
	pr := expectProblem(t, p, pg.CauseNoHBAOrSSL)
	if !strings.Contains(pr.Fix, "sslmode=require") {
		t.Fatal(pr.Fix)
	}
}

func TestClassifyTLSRefused(t *testing.T) {
	srv, err := pgtest.Start(pgtest.Options{NoTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	p := params(srv)
	expectProblem(t, p, pg.CauseTLSRefused)
	// sslmode=prefer falls back to plaintext silently, and Verify says so.
	p.SSLMode = "prefer"
	info, err := pg.Verify(testCtx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if info.SSL {
		t.Fatal("plaintext connection reported as encrypted")
	}
}

func TestClassifyRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p := pg.Params{Host: "127.0.0.1", Port: port, Database: "d", User: "u", Password: "secret-pw-refused"}
	expectProblem(t, p, pg.CauseRefused)
}

func TestClassifyTimeout(t *testing.T) {
	port := pgtest.SilentListener(t)
	p := pg.Params{Host: "127.0.0.1", Port: port, Database: "d", User: "u", Password: "secret-pw-timeout",
		ConnectTimeout: 300 * time.Millisecond}
	expectProblem(t, p, pg.CauseTimeout)
}

func TestClassifyUnknownHost(t *testing.T) {
	p := pg.Params{Host: "nosuch.invalid", Port: 5432, Database: "d", User: "u", Password: "secret-pw-dns",
		ConnectTimeout: 5 * time.Second}
	expectProblem(t, p, pg.CauseDNS)
}

func TestSetPasswordSendsVerifier(t *testing.T) {
	srv := pgtest.Shared(t)
	oldPw, newPw := pgtest.RandomPassword(), pgtest.RandomPassword()
	role := srv.NewRole(t, oldPw)
	// Log every statement of this role, so the test sees what reached the server.
	admin := srv.Admin(t)
	if _, err := admin.Exec(testCtx(t), "ALTER ROLE "+pgx.Identifier{role}.Sanitize()+" SET log_statement = 'all'"); err != nil {
		t.Fatal(err)
	}
	p := params(srv)
	p.User, p.Password = role, oldPw
	conn, err := pg.Connect(testCtx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := pg.SetPassword(testCtx(t), conn, role, newPw); err != nil {
		t.Fatal(err)
	}
	p.Password = newPw
	if _, err := pg.Verify(testCtx(t), p); err != nil {
		t.Fatalf("new password does not log in: %v", err)
	}
	var stored string
	if err := admin.QueryRow(testCtx(t), "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !scram.IsVerifier(stored) {
		t.Fatalf("pg_authid holds no SCRAM verifier (len %d)", len(stored))
	}
	log := srv.Log(t)
	if !strings.Contains(log, "ALTER ROLE") {
		t.Fatal("the statement was not logged; the check below would prove nothing")
	}
	if strings.Contains(log, newPw) {
		t.Fatal("the server log contains the new password")
	}
}

// The verifier computed here matches the server's own for the same salt and iteration count.
func TestVerifierMatchesServer(t *testing.T) {
	srv := pgtest.Shared(t)
	admin := srv.Admin(t)
	for i, pw := range []string{"simple-Pass_123", "pässwörd ünïcode", "with 'quote' and \\ and :colon"} {
		role := "scram_kat_" + string(rune('a'+i))
		lit := strings.ReplaceAll(pw, "'", "''")
		if _, err := admin.Exec(testCtx(t), "CREATE ROLE "+role+" PASSWORD E'"+strings.ReplaceAll(lit, `\`, `\\`)+"'"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Exec(context.Background(), "DROP ROLE "+role) })
		var stored string
		if err := admin.QueryRow(testCtx(t), "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		got, err := scram.Recompute(stored, pw)
		if err != nil {
			t.Fatal(err)
		}
		if got != stored {
			t.Fatalf("password %d: client verifier differs from the server's", i)
		}
	}
}
