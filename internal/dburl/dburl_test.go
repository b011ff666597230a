package dburl

import (
	"testing"
)

func TestBackend(t *testing.T) {
	got := Backend("instance-abc.database.cloud.databricks.com", 5432, "databricks_postgres", "someone@voyce.ai", "require")
	want := "postgresql+asyncpg://someone%40voyce.ai:${PGPASSWORD}@instance-abc.database.cloud.databricks.com:5432/databricks_postgres?ssl=require"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := Libpq("h", 5432, "db", "a+b@c.d", "require"); got != "postgresql://a%2Bb%40c.d@h:5432/db?sslmode=require" {
		t.Fatalf("libpq: %s", got)
	}
	if got := Libpq("::1", 5432, "db", "u", ""); got != "postgresql://u@[::1]:5432/db" {
		t.Fatalf("ipv6: %s", got)
	}
}

func TestParseRoundTrip(t *testing.T) {
	for _, s := range []string{
		"postgresql+asyncpg://someone%40voyce.ai:${PGPASSWORD}@h.example.com:5432/databricks_postgres?ssl=require",
		"postgresql://someone%40voyce.ai:${PGPASSWORD}@h.example.com:5432/databricks_postgres?sslmode=require&application_name=voyce",
		"postgresql://u@[::1]:5433/db",
	} {
		u, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if u.String() != s {
			t.Errorf("round trip:\n got  %s\n want %s", u.String(), s)
		}
	}
	u, _ := Parse("postgresql+asyncpg://someone%40voyce.ai:${PGPASSWORD}@h:5432/db?sslmode=require")
	if u.User != "someone@voyce.ai" || u.Password != "${PGPASSWORD}" || u.Host != "h" || u.Port != 5432 || u.Database != "db" || u.SSLMode != "require" {
		t.Fatalf("parsed %+v", u)
	}
	if u.WrongTLSParam() != "sslmode" {
		t.Fatal("asyncpg + sslmode not flagged")
	}
	for _, bad := range []string{"not a url", "postgresql://u@h:99999/db", "postgresql://u%zz@h/db"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestUpdate(t *testing.T) {
	// Keeps the scheme and other parameters, fixes the TLS parameter, replaces a literal password by the reference.
	got := Update("postgresql://old%40x.y:literal-secret@old:5432/olddb?sslmode=prefer&application_name=voyce",
		"new.example.com", 5433, "databricks_postgres", "me@voyce.ai", "require")
	want := "postgresql://me%40voyce.ai:${PGPASSWORD}@new.example.com:5433/databricks_postgres?sslmode=require&application_name=voyce"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	got = Update("postgresql+asyncpg://a:${PGPASSWORD}@h:5432/db?sslmode=require", "h", 5432, "db", "a@b.c", "require")
	if got != "postgresql+asyncpg://a%40b.c:${PGPASSWORD}@h:5432/db?ssl=require" {
		t.Fatalf("got %s", got)
	}
	if got := Update("", "h", 5432, "db", "u", "require"); got != "postgresql+asyncpg://u:${PGPASSWORD}@h:5432/db?ssl=require" {
		t.Fatalf("default: %s", got)
	}
}

func TestPasswordProblem(t *testing.T) {
	for pw, bad := range map[string]bool{"plain": false, "a@b": true, "100%25": true, "100%": false, "a:b/c?d#e": false} {
		if got := PasswordProblem(pw) != ""; got != bad {
			t.Errorf("PasswordProblem(len %d) = %v", len(pw), got)
		}
	}
}
