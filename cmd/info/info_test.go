package info

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/pgpass"
	"github.com/voyce/voyce-auth/internal/safefile"
	"github.com/voyce/voyce-auth/internal/testutil/pgtest"
)

const envText = `# Voyce
POSTGRES_HOST=instance-abc.database.cloud.databricks.com
POSTGRES_USER=someone@voyce.ai
POSTGRES_PASSWORD=${PGPASSWORD}
DATABASE_URL=postgresql+asyncpg://someone%40voyce.ai:${PGPASSWORD}@instance-abc.database.cloud.databricks.com:5432/databricks_postgres?sslmode=require
DATABRICKS_HOST=https://dbc-1.cloud.databricks.com
DATABRICKS_CONFIG_PROFILE=voyce
DATABRICKS_OAUTH_TOKEN=eyJsecret.token.value
`

const secret = "S3cret:pa$$word"

func setup(t *testing.T) (envFile, pgpassFile string) {
	dir := t.TempDir()
	envFile = filepath.Join(dir, ".env")
	pgpassFile = filepath.Join(dir, ".pgpass")
	os.WriteFile(envFile, []byte(envText), 0o600)
	os.WriteFile(pgpassFile, []byte("# mine\ninstance-abc.database.cloud.databricks.com:5432:databricks_postgres:someone@voyce.ai:S3cret\\:pa$$word\n"), 0o600)
	return envFile, pgpassFile
}

func runInfo(t *testing.T, opts *Options) (string, string, error) {
	io, _, out, errOut := iostreams.Test()
	opts.IO = io
	err := run(opts)
	return out.String(), errOut.String(), err
}

func TestText(t *testing.T) {
	envFile, pgpassFile := setup(t)
	out, _, err := runInfo(t, &Options{EnvFile: envFile, PgpassFile: pgpassFile})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`psql "postgresql://someone%40voyce.ai@instance-abc.database.cloud.databricks.com:5432/databricks_postgres?sslmode=require"`,
		"  Host:      instance-abc.database.cloud.databricks.com\n",
		"  Port:      5432\n",
		"  Database:  databricks_postgres\n",
		"  Username:  someone@voyce.ai\n",
		"  Password:  ******** (saved in " + pgpassFile + ", line 2)\n",
		"  SSL mode:  require",
		"  POSTGRES_PASSWORD=${PGPASSWORD}\n",
		"  DATABASE_URL='postgresql+asyncpg://someone%40voyce.ai:${PGPASSWORD}@instance-abc.database.cloud.databricks.com:5432/databricks_postgres?ssl=require'\n",
		"  DATABRICKS_OAUTH_TOKEN=********\n",
		"Note: DATABASE_URL in " + envFile + " differs from the one below (it uses sslmode=, which asyncpg rejects",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	for _, s := range []string{"S3cret", "eyJsecret"} {
		if strings.Contains(out, s) {
			t.Errorf("output holds a secret")
		}
	}
}

func TestJSON(t *testing.T) {
	envFile, pgpassFile := setup(t)
	out, _, err := runInfo(t, &Options{EnvFile: envFile, PgpassFile: pgpassFile, JSON: true,
		Getenv: func(k string) string {
			if k == "PGPASSWORD" {
				return "from-env"
			}
			return ""
		}})
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Psql.URL != "postgresql://someone%40voyce.ai@instance-abc.database.cloud.databricks.com:5432/databricks_postgres?sslmode=require" ||
		r.DBeaver.Port != 5432 || r.DBeaver.Password != Mask || !r.Postgres.PasswordSaved || !r.Postgres.PasswordEnv ||
		!r.Databricks.TokenSet || r.Databricks.Profile != "voyce" {
		t.Fatalf("report %+v", r)
	}
	if strings.Contains(out, "S3cret") || strings.Contains(out, "eyJsecret") || strings.Contains(out, "from-env") {
		t.Fatal("JSON holds a secret")
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	_, stderr, err := runInfo(t, &Options{EnvFile: filepath.Join(dir, ".env"), PgpassFile: filepath.Join(dir, ".pgpass")})
	if err != cmdutil.ErrSilent || !strings.Contains(stderr, "run 'voyce-auth setup' first") {
		t.Fatalf("err=%v stderr=%q", err, stderr)
	}
	os.WriteFile(filepath.Join(dir, ".env"), []byte("POSTGRES_HOST=h\nPOSTGRES_USER=u\nPOSTGRES_PORT=x\n"), 0o600)
	_, stderr, err = runInfo(t, &Options{EnvFile: filepath.Join(dir, ".env"), PgpassFile: filepath.Join(dir, ".pgpass")})
	if err != cmdutil.ErrSilent || !strings.Contains(stderr, "POSTGRES_PORT must be a port number") {
		t.Fatalf("err=%v stderr=%q", err, stderr)
	}
	// No password saved: says so, no mask.
	os.WriteFile(filepath.Join(dir, ".env"), []byte("POSTGRES_HOST=h\nPOSTGRES_USER=u\n"), 0o600)
	out, _, err := runInfo(t, &Options{EnvFile: filepath.Join(dir, ".env"), PgpassFile: filepath.Join(dir, ".pgpass")})
	if err != nil || !strings.Contains(out, "  Password:  not saved\n") || !strings.Contains(out, "Note: no password saved") {
		t.Fatalf("err=%v out=%s", err, out)
	}
}

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestPsqlURLWorks: the psql URL info prints logs in with real psql (password from the password file only).
func TestPsqlURLWorks(t *testing.T) {
	srv := pgtest.Shared(t)
	pw := "info:url#test$"
	user := srv.NewRole(t, pw)
	dir := t.TempDir()
	envFile, passfile := filepath.Join(dir, ".env"), filepath.Join(dir, ".pgpass")
	env := "POSTGRES_HOST=" + srv.Host + "\nPOSTGRES_PORT=" + strconv.Itoa(srv.Port) + "\nPOSTGRES_USER=" + user + "\n"
	os.WriteFile(envFile, []byte(env), 0o600)
	if _, _, err := pgpass.UpsertFile(passfile, pgpass.Entry{Host: srv.Host, Port: strconv.Itoa(srv.Port),
		Database: srv.Database, User: user, Password: pw}, safefile.Options{}); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(envFile, passfile, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.Psql.URL, "%40example.com@") {
		t.Fatalf("user not encoded: %s", rep.Psql.URL)
	}
	cmd := exec.Command(pgtest.PsqlPath(t), "-X", "-w", "-tA", rep.Psql.URL, "-c", "select current_user")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "PGPASSFILE=" + passfile}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != user {
		t.Fatalf("psql with %s: %v: %s", rep.Psql.URL, err, out)
	}
}
