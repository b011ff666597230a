package pgpass

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voyce/voyce-auth/internal/safefile"
	"github.com/voyce/voyce-auth/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// psqlLogin runs real psql (libpq) with the passfile as its only source of a password (-w: never prompt)
// and reports whether it logged in, with its stderr.
func psqlLogin(t *testing.T, srv *pgtest.Server, passfile, user string) (bool, string) {
	t.Helper()
	cmd := exec.Command(pgtest.PsqlPath(t), "-X", "-w", "-tA", "-h", srv.Host, "-p", strconv.Itoa(srv.Port),
		"-U", user, "-d", srv.Database, "-c", "select 1")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PGPASSFILE=" + passfile,
		"PGSSLMODE=require", "PGCONNECT_TIMEOUT=10", "LC_ALL=C"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return err == nil && strings.TrimSpace(stdout.String()) == "1", stderr.String()
}

// pgxLogin connects with pgx, the password coming only from the passfile.
func pgxLogin(t *testing.T, srv *pgtest.Server, passfile, user string) error {
	t.Helper()
	t.Setenv("PGPASSWORD", "")
	t.Setenv("PGPASSFILE", "")
	cs := "host=" + srv.Host + " port=" + strconv.Itoa(srv.Port) + " dbname=" + srv.Database +
		" user='" + user + "' sslmode=require connect_timeout=10 passfile='" + passfile + "'"
	cfg, err := pgx.ParseConfig(cs)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var one int
	return conn.QueryRow(ctx, "select 1").Scan(&one)
}

const noise = "# personal entries\nother.example.com:5432:*:someone:other-pass\n*:6543:*:*:different-port\n"

// TestRealClientsReadWrittenEntries: for each tricky password, a role with that password, an entry written
// by UpsertFile, and real psql and pgx log in with no password anywhere else.
func TestRealClientsReadWrittenEntries(t *testing.T) {
	srv := pgtest.Shared(t)
	for name, pw := range trickyPasswords {
		t.Run(name, func(t *testing.T) {
			user := srv.NewRole(t, pw)
			passfile := filepath.Join(t.TempDir(), ".pgpass")
			if err := os.WriteFile(passfile, []byte(noise), 0o600); err != nil {
				t.Fatal(err)
			}
			ur, _, err := UpsertFile(passfile, Entry{srv.Host, strconv.Itoa(srv.Port), srv.Database, user, pw}, safefile.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if ur.Action != Added {
				t.Fatalf("upsert: %s", ur)
			}
			if ok, stderr := psqlLogin(t, srv, passfile, user); !ok {
				t.Fatalf("psql did not log in with the written entry: %s", stderr)
			}
			if err := pgxLogin(t, srv, passfile, user); err != nil {
				t.Fatalf("pgx did not log in with the written entry: %v", err)
			}
		})
	}
}

func TestRealClientsControl(t *testing.T) {
	srv := pgtest.Shared(t)
	user := srv.NewRole(t, "right-password")
	passfile := filepath.Join(t.TempDir(), ".pgpass")
	e := Entry{srv.Host, strconv.Itoa(srv.Port), srv.Database, user, "wrong-password"}
	if _, _, err := UpsertFile(passfile, e, safefile.Options{}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := psqlLogin(t, srv, passfile, user); ok {
		t.Fatal("psql logged in with a wrong password: the test does not test the passfile")
	}
	if err := pgxLogin(t, srv, passfile, user); err == nil {
		t.Fatal("pgx logged in with a wrong password")
	}
	// Rotating the password replaces the line in place and both clients follow.
	e.Password = "right-password"
	if ur, _, err := UpsertFile(passfile, e, safefile.Options{Backup: true}); err != nil || ur.Action != Replaced {
		t.Fatalf("%s %v", ur, err)
	}
	if ok, stderr := psqlLogin(t, srv, passfile, user); !ok {
		t.Fatalf("psql: %s", stderr)
	}
	if err := pgxLogin(t, srv, passfile, user); err != nil {
		t.Fatal(err)
	}
}

// TestRealPsqlLooseFileTightened: psql ignores a 0644 passfile (with its WARNING); UpsertFile tightens it and
// psql then uses it.
func TestRealPsqlLooseFileTightened(t *testing.T) {
	srv := pgtest.Shared(t)
	pw := "loose:file\\pass"
	user := srv.NewRole(t, pw)
	passfile := filepath.Join(t.TempDir(), ".pgpass")
	e := Entry{srv.Host, strconv.Itoa(srv.Port), srv.Database, user, pw}
	if err := os.WriteFile(passfile, []byte(Format(e)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(passfile, 0o644); err != nil {
		t.Fatal(err)
	}
	ok, stderr := psqlLogin(t, srv, passfile, user)
	if ok {
		t.Fatal("psql used a 0644 passfile")
	}
	if !strings.Contains(stderr, "WARNING") || !strings.Contains(stderr, "has group or world access") {
		t.Fatalf("psql did not warn about the permissions: %s", stderr)
	}
	ur, res, err := UpsertFile(passfile, e, safefile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ur.Action != Unchanged || res.Changed || res.TightenedFrom != 0o644 {
		t.Fatalf("upsert %s, result %+v", ur, res)
	}
	if ok, stderr := psqlLogin(t, srv, passfile, user); !ok {
		t.Fatalf("psql after tightening: %s", stderr)
	}
}

// TestRealPsqlWildcardAbove: a wildcard line above with a wrong password would answer first; the upsert
// goes above it and psql logs in. A symlinked passfile stays a symlink.
func TestRealPsqlWildcardAboveAndSymlink(t *testing.T) {
	srv := pgtest.Shared(t)
	pw := "under the #wildcard"
	user := srv.NewRole(t, pw)
	dir := t.TempDir()
	target := filepath.Join(dir, "dotfiles", "pgpass")
	os.MkdirAll(filepath.Dir(target), 0o700)
	if err := os.WriteFile(target, []byte("# mine\n*:*:*:*:wrong-for-everything\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	passfile := filepath.Join(dir, ".pgpass")
	if err := os.Symlink(target, passfile); err != nil {
		t.Fatal(err)
	}
	if ok, _ := psqlLogin(t, srv, passfile, user); ok {
		t.Fatal("psql logged in with the wildcard's wrong password")
	}
	ur, res, err := UpsertFile(passfile, Entry{srv.Host, strconv.Itoa(srv.Port), srv.Database, user, pw}, safefile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ur.Action != Added || ur.Line != 2 || ur.Above != 3 || res.Path != target {
		t.Fatalf("upsert %s, result %+v", ur, res)
	}
	if ok, stderr := psqlLogin(t, srv, passfile, user); !ok {
		t.Fatalf("psql: %s", stderr)
	}
	if err := pgxLogin(t, srv, passfile, user); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(passfile); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the symlink was replaced by a plain file")
	}
}
