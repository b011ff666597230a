package doctor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/internal/pg"
	"github.com/voyce/voyce-auth/internal/testutil/pgtest"
)

func srvParams(s *pgtest.Server) pg.Params {
	return pg.Params{Host: s.Host, Port: s.Port, Database: s.Database, User: s.User, Password: s.Password,
		SSLMode: "require"}
}

func TestCheckDNS(t *testing.T) {
	ctx := withTimeout(t, 5*time.Second)
	if r := checkDNS(ctx, pg.Params{Host: "127.0.0.1", Port: 5432}); r.Status != StatusOK || !strings.Contains(r.Message, "IP address") {
		t.Errorf("ip: %+v", r)
	}
	if r := checkDNS(ctx, pg.Params{Host: "localhost", Port: 5432}); r.Status != StatusOK || !strings.HasPrefix(r.Message, "localhost resolves to ") {
		t.Errorf("localhost: %+v", r)
	}
	r := checkDNS(ctx, pg.Params{Host: "instance-nosuch.invalid", Port: 5432})
	if r.Status != StatusFail || r.Fix == "" || !strings.Contains(r.Message, "instance-nosuch.invalid") {
		t.Errorf("unknown host: %+v", r)
	}
}

func TestCheckTCP(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := withTimeout(t, 5*time.Second)
	if r := checkTCP(ctx, srvParams(srv)); r.Status != StatusOK || !strings.Contains(r.Message, "accepts TCP connections") {
		t.Errorf("server: %+v", r)
	}
	p := srvParams(srv)
	p.Port = closedPort(t)
	if r := checkTCP(ctx, p); r.Status != StatusFail || !strings.Contains(r.Message, "connection refused") || !strings.Contains(r.Fix, "port") {
		t.Errorf("refused: %+v", r)
	}
}

func TestCheckLogin(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := withTimeout(t, 20*time.Second)
	r := checkLogin(ctx, srvParams(srv))
	if r.Status != StatusOK || !strings.Contains(r.Message, "logged in as dev.user@example.com to databricks_postgres over TLS") ||
		!strings.Contains(r.Message, "(PostgreSQL ") {
		t.Fatalf("ok: %+v", r)
	}

	wrong := srvParams(srv)
	wrong.Password = "not-the-password"
	r = checkLogin(ctx, wrong)
	if r.Status != StatusFail || !strings.Contains(r.Message, "password authentication failed") ||
		!strings.Contains(r.Fix, "voyce-auth password") {
		t.Errorf("wrong password: %+v", r)
	}
	assertNoSecret(t, r, wrong.Password)

	nodb := srvParams(srv)
	nodb.Database = "nosuchdb"
	if r := checkLogin(ctx, nodb); r.Status != StatusFail || !strings.Contains(r.Message, `database "nosuchdb" does not exist`) {
		t.Errorf("missing database: %+v", r)
	}

	plain := srvParams(srv)
	plain.SSLMode = "disable" // the server has hostssl lines only: 28000
	if r := checkLogin(ctx, plain); r.Status != StatusFail || !strings.Contains(r.Fix, "sslmode=require") {
		t.Errorf("no TLS requested: %+v", r)
	}

	refused := srvParams(srv)
	refused.Port = closedPort(t)
	if r := checkLogin(ctx, refused); r.Status != StatusFail || !strings.Contains(r.Message, "connection refused") {
		t.Errorf("refused: %+v", r)
	}
}

func TestCheckLoginTLSRefused(t *testing.T) {
	srv, err := pgtest.Start(pgtest.Options{NoTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	r := checkLogin(withTimeout(t, 20*time.Second), srvParams(srv))
	if r.Status != StatusFail || !strings.Contains(r.Message, "does not offer TLS") {
		t.Errorf("TLS refused: %+v", r)
	}
}

// A port that accepts TCP and never answers: pg-tcp passes, pg-login reports the timeout, and the whole run
// ends within its limit.
func TestCheckLoginSilentServerWithinLimit(t *testing.T) {
	srv := pgtest.Shared(t)
	p := srvParams(srv)
	p.Port = pgtest.SilentListener(t)
	checks := []Check{
		&Func{Name: "pg-tcp", Do: func(ctx context.Context) Result { return checkTCP(ctx, p) }},
		&Func{Name: "pg-login", Deps: []string{"pg-tcp"}, Do: func(ctx context.Context) Result { return checkLogin(ctx, p) }},
	}
	start := time.Now()
	out := Run(context.Background(), checks, Options{Timeout: time.Second})
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("run took %v with a 1s limit", el)
	}
	got := byID(out)
	if got["pg-tcp"].Status != StatusOK {
		t.Errorf("pg-tcp: %+v", got["pg-tcp"])
	}
	if r := got["pg-login"]; r.Status != StatusFail || !strings.Contains(r.Message, "no answer from") || r.Fix == "" {
		t.Errorf("pg-login: %+v", r)
	}
}
