package wizard

import (
	"os"

	"github.com/voyce/voyce-auth/internal/dotenv"
	"path/filepath"
	"strings"
	"testing"
)

func TestFilesSave(t *testing.T) {
	dir := t.TempDir()
	env := filepath.Join(dir, ".env")
	pgp := filepath.Join(dir, "home", ".pgpass")
	orig := "# team settings\nexport APP_NAME=voyce\nPOSTGRES_PASSWORD=literal-oops\nDATABASE_URL=postgresql+asyncpg://old%40x.com:${PGPASSWORD}@old:5432/databricks_postgres?ssl=require&pool=5\nTAIL='x'\n"
	if err := os.WriteFile(env, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Files{Env: env, Pgpass: pgp}
	c := Conn{Host: "h.example.com", Port: 5432, Database: "databricks_postgres", User: "dev.user@example.com", SSLMode: "require"}
	pw := "pa:ss\\word$1"
	changes, err := s.Save(Changes{Postgres: &c, Password: &pw})
	if err != nil {
		t.Fatal(err)
	}
	text := fmtChanges(changes)
	if strings.Contains(text, pw) {
		t.Fatalf("change list holds the password")
	}
	for _, want := range []string{"created (mode 0600) with the entry for h.example.com:5432:databricks_postgres:dev.user@example.com",
		"POSTGRES_HOST", "DATABASE_URL", "POSTGRES_PASSWORD", "tightened from 0644"} {
		if !strings.Contains(text, want) {
			t.Errorf("changes lack %q:\n%s", want, text)
		}
	}
	data, _ := os.ReadFile(env)
	got := string(data)
	if !strings.HasPrefix(got, "# team settings\nexport APP_NAME=voyce\n") || !strings.Contains(got, "TAIL='x'\n") {
		t.Errorf("unrelated lines changed:\n%s", got)
	}
	f := dotenv.Parse(data)
	for k, want := range map[string]string{
		"POSTGRES_PASSWORD": "${PGPASSWORD}",
		"DATABASE_URL":      "postgresql+asyncpg://dev.user%40example.com:${PGPASSWORD}@h.example.com:5432/databricks_postgres?ssl=require&pool=5",
		"POSTGRES_HOST":     "h.example.com", "POSTGRES_USER": "dev.user@example.com", "POSTGRES_SSLMODE": "require",
	} {
		if v, _ := f.Lookup(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if strings.Contains(got, "literal-oops") {
		t.Errorf("literal password kept in .env")
	}
	for _, p := range []string{env, pgp} {
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %o", p, fi.Mode().Perm())
		}
	}
	if p, ok, _ := s.SavedPassword(c); !ok || p != pw {
		t.Errorf("SavedPassword did not find the entry")
	}
	st, err := s.Load()
	if err != nil || st.Conn != c {
		t.Errorf("Load = %+v, %v", st.Conn, err)
	}

	// Same again: nothing changes.
	before, _ := os.ReadFile(env)
	changes, err = s.Save(Changes{Postgres: &c, Password: &pw})
	if err != nil || fmtChanges(changes) != "" {
		t.Fatalf("second save changed %q, %v", fmtChanges(changes), err)
	}
	after, _ := os.ReadFile(env)
	if string(before) != string(after) {
		t.Errorf(".env changed on an identical save")
	}

	hook := "systemctl --user restart voyce-backend"
	tok := "eyJ.x.y"
	if _, err := s.Save(Changes{Databricks: &DatabricksSettings{Host: "https://adb-1.azuredatabricks.net", Profile: "voyce", Token: tok}, Hook: &hook}); err != nil {
		t.Fatal(err)
	}
	st, _ = s.Load()
	if st.Token != tok || st.Hook != hook || st.Profile != "voyce" {
		t.Errorf("Load after Databricks save = %+v", st)
	}
	empty := ""
	if _, err := s.Save(Changes{Hook: &empty}); err != nil {
		t.Fatal(err)
	}
	if st, _ = s.Load(); st.Hook != "" {
		t.Errorf("hook not removed")
	}
	if err := s.CheckPassword(" leading"); err == nil {
		t.Errorf("a password with a leading space was accepted")
	}
}

func fmtChanges(cs []FileChange) string {
	var b strings.Builder
	for _, c := range cs {
		for _, l := range c.Changes {
			b.WriteString(c.Path + ": " + l + "\n")
		}
	}
	return b.String()
}
