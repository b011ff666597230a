package doctor

// Whole-process tests and benchmarks: the real voyce-auth binary (built once) against the throwaway
// PostgreSQL and the Databricks stand-in.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/doctor"
	"github.com/voyce/voyce-auth/internal/testutil/binary"
	"github.com/voyce/voyce-auth/internal/testutil/fakedatabricks"
	"github.com/voyce/voyce-auth/internal/testutil/pgtest"
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	binary.Cleanup()
	os.Exit(code)
}

// voyceAuth is the voyce-auth binary, built once per test binary.
func voyceAuth(tb testing.TB) string { return binary.VoyceAuth(tb) }

// project is a healthy setup on disk: .env for the throwaway server and the stand-in workspace, a 0600
// .pgpass in a home folder, a git repository ignoring the secrets, and stand-in schedulers that say nothing
// is installed (so the run never reads this machine's real crontab or systemd).
type project struct {
	dir, home, envFile string
	env                []string
	srv                *pgtest.Server
	db                 *fakedatabricks.Env
}

func newProject(tb testing.TB) *project {
	tb.Helper()
	srv := pgtest.Shared(tb)
	db := fakedatabricks.Start(tb)
	p := &project{dir: tb.TempDir(), home: tb.TempDir(), srv: srv, db: db}
	p.envFile = filepath.Join(p.dir, ".env")
	tok := db.MintToken(fakedatabricks.DefaultUser, time.Now().Add(-time.Minute), time.Hour)
	env := strings.Join([]string{
		"POSTGRES_HOST=" + srv.Host,
		fmt.Sprintf("POSTGRES_PORT=%d", srv.Port),
		"POSTGRES_DB=" + srv.Database,
		"POSTGRES_USER=" + srv.User,
		"POSTGRES_PASSWORD=${PGPASSWORD}",
		fmt.Sprintf("DATABASE_URL=postgresql+asyncpg://dev.user%%40example.com:${PGPASSWORD}@%s:%d/%s?ssl=require",
			srv.Host, srv.Port, srv.Database),
		"DATABRICKS_HOST=" + db.Host,
		"DATABRICKS_CONFIG_PROFILE=" + fakedatabricks.DefaultProfile,
		"DATABRICKS_OAUTH_TOKEN=" + tok,
	}, "\n") + "\n"
	mustWrite(tb, p.envFile, env, 0o600)
	mustWrite(tb, filepath.Join(p.home, ".pgpass"),
		fmt.Sprintf("%s:%d:%s:%s:%s\n", srv.Host, srv.Port, srv.Database, srv.User, srv.Password), 0o600)
	mustWrite(tb, filepath.Join(p.dir, ".gitignore"), ".env\n.pgpass\nlogs/\n.env.lock\n", 0o644)
	stubs := tb.TempDir()
	mustWrite(tb, filepath.Join(stubs, "systemctl"), "#!/bin/sh\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n", 0o755)
	mustWrite(tb, filepath.Join(stubs, "crontab"), "#!/bin/sh\necho \"no crontab for $USER\" >&2\nexit 1\n", 0o755)

	for _, kv := range db.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME", k == "PGPASSWORD", k == "PGPASSFILE", k == "NO_COLOR", strings.HasPrefix(k, "XDG_"),
			strings.HasPrefix(k, "GIT_"):
			continue
		case k == "PATH":
			kv = "PATH=" + stubs + string(os.PathListSeparator) + v
		}
		p.env = append(p.env, kv)
	}
	p.env = append(p.env, "HOME="+p.home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	git := exec.Command("git", "init", "-q", p.dir)
	git.Env = p.env
	if out, err := git.CombinedOutput(); err != nil {
		tb.Fatalf("git init: %v\n%s", err, out)
	}
	return p
}

func mustWrite(tb testing.TB, path, content string, mode os.FileMode) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		tb.Fatal(err)
	}
}

// doctorRun runs 'voyce-auth doctor args...' in the project and returns stdout, stderr and the exit code.
func (p *project) doctorRun(tb testing.TB, bin string, args ...string) (string, string, int) {
	tb.Helper()
	cmd := exec.Command(bin, append([]string{"doctor"}, args...)...)
	cmd.Dir = p.dir
	cmd.Env = p.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		tb.Fatalf("running voyce-auth doctor: %v", err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

func TestProcessHealthyJSON(t *testing.T) {
	bin := voyceAuth(t)
	p := newProject(t)
	out, errOut, code := p.doctorRun(t, bin, "--json")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var doc doctor.JSONReport
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, out)
	}
	want := map[string]doctor.Status{}
	for _, c := range doctor.All(&doctor.Deps{}) {
		want[c.ID()] = doctor.StatusOK
	}
	want["rotation-schedule"] = doctor.StatusWarn // the stand-in schedulers have nothing installed
	want["rotation-log"] = doctor.StatusSkip      // no rotation has run in this project
	if len(doc.Checks) != len(want) {
		t.Errorf("%d checks in the report, want %d", len(doc.Checks), len(want))
	}
	for _, c := range doc.Checks {
		if c.ID == "" || c.Message == "" || c.DurationMS < 0 {
			t.Errorf("incomplete check: %+v", c)
		}
		if c.Status != want[c.ID] {
			t.Errorf("%s: %s %q (fix %q), want %s", c.ID, c.Status, c.Message, c.Fix, want[c.ID])
		}
	}
	if doc.Summary.ExitCode != 0 || doc.Summary.Problems != 0 || doc.Summary.Total != len(want) {
		t.Errorf("summary = %+v", doc.Summary)
	}
	if strings.Contains(out+errOut, p.srv.Password) {
		t.Error("the output holds the Postgres password")
	}
}

func TestProcessProblemsAndFix(t *testing.T) {
	bin := voyceAuth(t)
	p := newProject(t)
	// A wrong password, a loose .env, and the Databricks CLI logged out.
	pgpass := filepath.Join(p.home, ".pgpass")
	mustWrite(t, pgpass, fmt.Sprintf("%s:%d:%s:%s:wrong\n", p.srv.Host, p.srv.Port, p.srv.Database, p.srv.User), 0o600)
	os.Chmod(p.envFile, 0o644)
	p.db.LogOut()
	out, errOut, code := p.doctorRun(t, bin, "--no-color")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	for _, s := range []string{
		"✗ pg-login", "password authentication failed for dev.user@example.com", "fix: Save the role's current password with: voyce-auth password",
		"✗ databricks-login", "fix: databricks auth login --host " + p.db.Host,
		"✗ env-file-mode", "fix: chmod 600 .env",
		"✗ Found 3 problems",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("report lacks %q:\n%s", s, out)
		}
	}
	if !strings.Contains(errOut, "Run 'voyce-auth doctor --fix' to repair one of these") {
		t.Errorf("stderr:\n%s", errOut)
	}
	// --fix without a terminal needs --yes.
	if _, errOut, code := p.doctorRun(t, bin, "--fix"); code != 2 || !strings.Contains(errOut, "--fix needs --yes") {
		t.Errorf("--fix on a pipe: exit %d, %s", code, errOut)
	}
	out, _, code = p.doctorRun(t, bin, "--fix", "--yes", "--no-color")
	if code != 1 || !strings.Contains(out, "--fix will:\n  • chmod 600 .env (now 0644)  (env-file-mode)") ||
		!strings.Contains(out, "✓ env-file-mode: ") || !strings.Contains(out, "✗ Found 2 problems") {
		t.Errorf("--fix --yes: exit %d\n%s", code, out)
	}
	if fi, _ := os.Stat(p.envFile); fi.Mode().Perm() != 0o600 {
		t.Errorf(".env mode after --fix: %04o", fi.Mode().Perm())
	}
	// Usage errors exit 2.
	if _, errOut, code := p.doctorRun(t, bin, "--only", "nosuch"); code != 2 || !strings.Contains(errOut, `unknown check "nosuch"`) {
		t.Errorf("--only nosuch: exit %d, %s", code, errOut)
	}
}

// BenchmarkDoctorHealthy runs a whole 'voyce-auth doctor' process (all 18 checks: Postgres login over TLS,
// the Databricks CLI stand-in, SCIM Me, git, the schedule inspection) against the local throwaway server.
func BenchmarkDoctorHealthy(b *testing.B) {
	bin := voyceAuth(b)
	p := newProject(b)
	if out, errOut, code := p.doctorRun(b, bin); code != 0 {
		b.Fatalf("not healthy: exit %d\n%s\n%s", code, out, errOut)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, code := p.doctorRun(b, bin); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}

// BenchmarkPsqlSelect1 runs psql -c 'select 1' against the same server, for comparison.
func BenchmarkPsqlSelect1(b *testing.B) {
	psql := pgtest.PsqlPath(b)
	p := newProject(b)
	conn := fmt.Sprintf("host=%s port=%d dbname=%s user=%s sslmode=require", p.srv.Host, p.srv.Port, p.srv.Database, p.srv.User)
	run := func() {
		cmd := exec.Command(psql, "-X", "-q", "-A", "-t", "-d", conn, "-c", "select 1")
		cmd.Env = p.env
		if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "1" {
			b.Fatalf("psql: %v\n%s", err, out)
		}
	}
	run()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
}
