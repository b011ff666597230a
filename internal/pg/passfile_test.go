package pg_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voyce/voyce-auth/internal/pg"
)

func TestResolvePassword(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pgpass")
	content := "db.example.com:5432:databricks_postgres:dev.user@example.com:from-file\n*:*:*:*:wild\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	p := pg.Params{Host: "db.example.com", Port: 5432, Database: "databricks_postgres", User: "dev.user@example.com"}
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	if pw, src, err := pg.ResolvePassword(p, getenv, path); err != nil || pw != "from-file" || src != pg.SourcePassfile {
		t.Fatalf("got len %d from %q, err %v", len(pw), src, err)
	}
	env["PGPASSWORD"] = "from-env"
	if pw, src, _ := pg.ResolvePassword(p, getenv, path); pw != "from-env" || src != pg.SourcePGPASSWORD {
		t.Fatalf("PGPASSWORD should win, got source %q", src)
	}
	delete(env, "PGPASSWORD")
	// 127.0.0.1 does not match a db.example.com line; the wildcard answers.
	q := p
	q.Host = "127.0.0.1"
	if pw, _, _ := pg.ResolvePassword(q, getenv, path); pw != "wild" {
		t.Fatal("wildcard line not used")
	}
	if pw, src, err := pg.ResolvePassword(p, getenv, filepath.Join(dir, "missing")); pw != "" || src != "" || err != nil {
		t.Fatal("missing file should give nothing")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if pw, _, err := pg.ResolvePassword(p, getenv, path); pw != "" || err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable file should be ignored like libpq does, err %v", err)
	}
}
