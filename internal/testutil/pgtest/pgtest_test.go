package pgtest_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voyce/voyce-auth/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestSharedServerTLSAsEmailRole(t *testing.T) {
	srv := pgtest.Shared(t)
	if srv.Host != "127.0.0.1" || srv.Database != "databricks_postgres" || srv.User != "dev.user@example.com" {
		t.Fatalf("unexpected server shape: host=%s db=%s user=%s", srv.Host, srv.Database, srv.User)
	}
	conn, err := pgx.Connect(ctx(t), srv.ConnString(srv.User, srv.Password))
	if err != nil {
		t.Fatalf("connect as %s: %v", srv.User, err)
	}
	defer conn.Close(context.Background())
	var ssl bool
	var user, db string
	if err := conn.QueryRow(ctx(t), `SELECT ssl, current_user, current_database() FROM pg_stat_ssl
		WHERE pid = pg_backend_pid()`).Scan(&ssl, &user, &db); err != nil {
		t.Fatal(err)
	}
	if !ssl {
		t.Fatal("connection is not encrypted")
	}
	if user != srv.User || db != srv.Database {
		t.Fatalf("connected as %s to %s", user, db)
	}
	// The same server on the next call.
	if again := pgtest.Shared(t); again != srv {
		t.Fatal("Shared started a second server")
	}
}

func TestPlaintextRefused(t *testing.T) {
	srv := pgtest.Shared(t)
	cs := strings.Replace(srv.ConnString(srv.User, srv.Password), "sslmode='require'", "sslmode='disable'", 1)
	conn, err := pgx.Connect(ctx(t), cs)
	if err == nil {
		conn.Close(context.Background())
		t.Fatal("plaintext connection was accepted")
	}
	var pgErr interface{ SQLState() string }
	if !errors.As(err, &pgErr) || pgErr.SQLState() != "28000" {
		t.Fatalf("want SQLSTATE 28000 (no pg_hba.conf entry), got %v", err)
	}
}

func TestServerSettings(t *testing.T) {
	srv := pgtest.Shared(t)
	admin := srv.Admin(t)
	for name, want := range map[string]string{
		"password_encryption":     "scram-sha-256",
		"unix_socket_directories": "",
		"ssl":                     "on",
		"listen_addresses":        "127.0.0.1",
		"log_connections":         "on",
	} {
		var got string
		if err := admin.QueryRow(ctx(t), "SELECT current_setting($1)", name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	rows, err := admin.Query(ctx(t), "SELECT type, auth_method FROM pg_hba_file_rules")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var typ, method string
		if err := rows.Scan(&typ, &method); err != nil {
			t.Fatal(err)
		}
		if typ != "hostssl" || method != "scram-sha-256" {
			t.Errorf("pg_hba.conf rule %s %s; want only hostssl scram-sha-256", typ, method)
		}
		n++
	}
	if rows.Err() != nil || n != 2 {
		t.Fatalf("pg_hba.conf has %d rules (err %v), want 2", n, rows.Err())
	}
}

func TestPsqlWithPasswordFromEnvironment(t *testing.T) {
	srv := pgtest.Shared(t)
	psql := pgtest.PsqlPath(t)
	cmd := exec.Command(psql, "-X", "-At", "-w",
		"-h", srv.Host, "-p", strconv.Itoa(srv.Port), "-U", srv.User, "-d", srv.Database,
		"-c", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+srv.Password, "PGSSLMODE=require", "PGPASSFILE="+os.DevNull)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v: %s", err, out)
	}
	if strings.TrimSpace(string(out)) != "t" {
		t.Fatalf("psql output %q, want t", out)
	}
	// And a wrong password is refused.
	cmd = exec.Command(psql, "-X", "-At", "-w",
		"-h", srv.Host, "-p", strconv.Itoa(srv.Port), "-U", srv.User, "-d", srv.Database, "-c", "SELECT 1")
	cmd.Env = append(os.Environ(), "PGPASSWORD=wrong-"+srv.Password[:4], "PGPASSFILE="+os.DevNull)
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "password authentication failed") {
		t.Fatalf("psql with a wrong password: err=%v out=%s", err, out)
	}
}

func TestNewRole(t *testing.T) {
	srv := pgtest.Shared(t)
	pw := pgtest.RandomPassword()
	role := srv.NewRole(t, pw)
	if !strings.HasSuffix(role, "@example.com") || role == srv.User {
		t.Fatalf("role name %q", role)
	}
	conn, err := pgx.Connect(ctx(t), srv.ConnString(role, pw))
	if err != nil {
		t.Fatalf("connect as new role: %v", err)
	}
	conn.Close(context.Background())
	var stored string
	if err := srv.Admin(t).QueryRow(ctx(t), "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role).
		Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, "SCRAM-SHA-256$4096:") {
		t.Fatalf("stored password is not a SCRAM verifier (len %d)", len(stored))
	}
	if strings.Contains(srv.Log(t), pw) {
		t.Fatal("the server log contains the role's password")
	}
}

func TestNoTLSServerRefusesTLS(t *testing.T) {
	srv, err := pgtest.Start(pgtest.Options{NoTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	conn, err := pgx.Connect(ctx(t), srv.ConnString(srv.User, srv.Password))
	if err != nil {
		t.Fatalf("plaintext connect to NoTLS server: %v", err)
	}
	conn.Close(context.Background())
	cs := strings.Replace(srv.ConnString(srv.User, srv.Password), "sslmode='disable'", "sslmode='require'", 1)
	_, err = pgx.Connect(ctx(t), cs)
	if err == nil || !strings.Contains(err.Error(), "server refused TLS connection") {
		t.Fatalf("want 'server refused TLS connection', got %v", err)
	}
	dir := srv.DataDir
	srv.Stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("data folder left behind after Stop: %v", err)
	}
}

func TestSilentListenerTimesOut(t *testing.T) {
	port := pgtest.SilentListener(t)
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var buf [1]byte
	_, err = c.Read(buf[:])
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("want a read timeout, got %v", err)
	}
}
