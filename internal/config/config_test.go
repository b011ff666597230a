package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voyce/voyce-auth/internal/safefile"
)

const sample = `# Voyce
POSTGRES_HOST=instance-abc.database.cloud.databricks.com
POSTGRES_USER=${VOYCE_USER}
POSTGRES_PASSWORD=${PGPASSWORD}
DATABASE_URL=postgresql+asyncpg://someone%40voyce.ai:${PGPASSWORD}@instance-abc.database.cloud.databricks.com:5432/databricks_postgres?ssl=require
DATABRICKS_HOST=https://dbc-1.cloud.databricks.com
DATABRICKS_OAUTH_TOKEN="eyJ.token"
UNRELATED=keep me
`

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".env")
	os.WriteFile(p, []byte(sample), 0o600)
	s, f, err := Load(p, env(map[string]string{"VOYCE_USER": "someone@voyce.ai", "PGPASSWORD": "secret"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		Postgres: Postgres{Host: "instance-abc.database.cloud.databricks.com", Port: 5432, Database: "databricks_postgres",
			User: "someone@voyce.ai", SSLMode: "require",
			DatabaseURL: "postgresql+asyncpg://someone%40voyce.ai:${PGPASSWORD}@instance-abc.database.cloud.databricks.com:5432/databricks_postgres?ssl=require"},
		Databricks: Databricks{Host: "https://dbc-1.cloud.databricks.com", Token: "eyJ.token"},
	}
	if *s != want {
		t.Fatalf("got %+v", *s)
	}
	if f.Get("UNRELATED") != "keep me" {
		t.Fatal("file not returned")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, _, err := Load(filepath.Join(dir, ".env"), nil)
	if !errors.Is(err, ErrNoEnvFile) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	p := filepath.Join(dir, ".env")
	for _, port := range []string{"abc", "0", "65536", "54 32"} {
		os.WriteFile(p, []byte("POSTGRES_HOST=h\nPOSTGRES_PORT='"+port+"'\n"), 0o600)
		s, f, err := Load(p, nil)
		if err == nil || !strings.Contains(err.Error(), "POSTGRES_PORT") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("port %q: err = %v", port, err)
		}
		if s == nil || s.Postgres.Host != "h" || f == nil {
			t.Fatalf("port %q: the rest of the settings not returned", port)
		}
	}
}

func TestSave(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".env")
	os.WriteFile(p, []byte(sample), 0o644)
	os.Chmod(p, 0o644)
	edit := Edit{Set: map[string]string{
		KeyPostgresHost:     "new-host.example.com",
		KeyPostgresPort:     "5432",
		KeyPostgresPassword: PasswordReference,
		KeyDatabaseURL:      "postgresql+asyncpg://x%40y.z:${PGPASSWORD}@new-host.example.com:5432/databricks_postgres?ssl=require",
		KeyOAuthToken:       "eyJ.token",
	}}
	res, err := Save(p, edit, safefile.Options{Backup: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.ChangedKeys, ",") != "POSTGRES_HOST,POSTGRES_PORT,DATABASE_URL" {
		t.Fatalf("changed = %v", res.Changed)
	}
	if res.TightenedFrom != 0o644 || res.BackupPath != p+".bak" {
		t.Fatalf("result = %+v", res.Result)
	}
	b, _ := os.ReadFile(p)
	for _, line := range []string{"# Voyce\n", "POSTGRES_HOST=new-host.example.com\n", "POSTGRES_PASSWORD=${PGPASSWORD}\n",
		"DATABASE_URL='postgresql+asyncpg://x%40y.z:${PGPASSWORD}@new-host.example.com:5432/databricks_postgres?ssl=require'\n",
		"UNRELATED=keep me\nPOSTGRES_PORT=5432\n"} {
		if !strings.Contains(string(b), line) {
			t.Fatalf("missing %q in:\n%s", line, b)
		}
	}
	// Re-running changes nothing.
	res, err = Save(p, edit, safefile.Options{Backup: true})
	if err != nil || res.Changed || len(res.ChangedKeys) != 0 || res.BackupPath != "" {
		t.Fatalf("second save: %+v, %v", res, err)
	}
	b2, _ := os.ReadFile(p)
	if string(b2) != string(b) {
		t.Fatal("second save changed bytes")
	}
	// A value that cannot be stored fails the whole save.
	_, err = Save(p, Edit{Set: map[string]string{KeyPostgresHost: "other", KeyPostRotateHook: "echo 'it''s' $HOME"}}, safefile.Options{})
	if err == nil || !strings.Contains(err.Error(), KeyPostRotateHook) {
		t.Fatalf("err = %v", err)
	}
	if b3, _ := os.ReadFile(p); string(b3) != string(b) {
		t.Fatal("failed save changed the file")
	}
	// Unset.
	res, err = Save(p, Edit{Unset: []string{KeyOAuthToken, KeyPostRotateHook}}, safefile.Options{})
	if err != nil || strings.Join(res.ChangedKeys, ",") != KeyOAuthToken {
		t.Fatalf("unset: %+v %v", res, err)
	}
}

func TestSaveCreates0600(t *testing.T) {
	p := filepath.Join(t.TempDir(), "proj", ".env")
	res, err := Save(p, Edit{Set: map[string]string{KeyPostgresUser: "a@b.c", KeyPostgresHost: "h"}}, safefile.Options{})
	if err != nil || !res.Created {
		t.Fatal(res, err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "POSTGRES_HOST=h\nPOSTGRES_USER=a@b.c\n" {
		t.Fatalf("got %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o", fi.Mode().Perm())
	}
}
