package pgpass

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/voyce/voyce-auth/internal/safefile"
)

// trickyPasswords are stored and then read back by the libpq rules, by pgx, and (pgx_psql_test.go) by real
// psql and pgx against a real server.
var trickyPasswords = map[string]string{
	"colon":            "pa:ss:word",
	"backslash":        `back\slash\\double`,
	"trailing-bslash":  `ends\`,
	"escape-lookalike": `\:\\\x`,
	"hash":             "#starts-with-hash#",
	"dollar":           "$HOME${PGPASSWORD}$",
	"single-quote":     "it's",
	"double-quote":     `say "hi"`,
	"inner-spaces":     "correct horse battery staple",
	"star":             "*",
	"non-ascii":        "pässwörd-密码-🔑",
	"long-200":         strings.Repeat("aZ9:\\#$' é", 20),
	"all-at-once":      `:\#$'" ü*`,
}

func TestEscapeAndLookup(t *testing.T) {
	for name, pw := range trickyPasswords {
		t.Run(name, func(t *testing.T) {
			e := Entry{Host: "db.example.com", Port: "5432", Database: "databricks_postgres", User: "a:b\\c@voyce.ai", Password: pw}
			if err := Validate(e); err != nil {
				t.Fatal(err)
			}
			f := Parse([]byte("# my file\nother:5432:*:*:x\n"))
			if _, err := f.Upsert(e); err != nil {
				t.Fatal(err)
			}
			c := Conn{e.Host, e.Port, e.Database, e.User}
			got, line, ok := f.Lookup(c)
			if !ok || got != pw || line != 3 {
				t.Fatalf("libpq rules: ok=%v line=%d, password differs (len %d vs %d)", ok, line, len(got), len(pw))
			}
			if got, ok := f.LookupPgx(c); !ok || got != pw {
				t.Fatalf("pgx reads a different password (len %d vs %d)", len(got), len(pw))
			}
			if probs := f.Lint(); len(probs) != 0 {
				t.Fatalf("lint on a written file: %v", probs)
			}
		})
	}
}

func TestValidateRefuses(t *testing.T) {
	ok := Entry{Host: "h", Port: "5432", Database: "d", User: "u", Password: "p"}
	for _, tc := range []struct {
		field string
		mod   func(*Entry)
	}{
		{"password", func(e *Entry) { e.Password = "a\nb" }},
		{"password", func(e *Entry) { e.Password = "a\rb" }},
		{"password", func(e *Entry) { e.Password = "a\x00b" }},
		{"password", func(e *Entry) { e.Password = " lead" }},
		{"password", func(e *Entry) { e.Password = "trail " }},
		{"password", func(e *Entry) { e.Password = "trail\u00a0" }},
		{"password", func(e *Entry) { e.Password = "" }},
		{"host", func(e *Entry) { e.Host = " h" }},
		{"host", func(e *Entry) { e.Host = "#h" }},
		{"host", func(e *Entry) { e.Host = "" }},
		{"user", func(e *Entry) { e.User = "u\n" }},
		{"database", func(e *Entry) { e.Database = "d " }},
		{"port", func(e *Entry) { e.Port = "abc" }},
		{"port", func(e *Entry) { e.Port = "05432" }},
		{"port", func(e *Entry) { e.Port = "70000" }},
	} {
		e := ok
		tc.mod(&e)
		err := Validate(e)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%+v: err = %v, want a %s error", e.Port, err, tc.field)
			continue
		}
		if e.Password != "" && e.Password != "p" && strings.Contains(err.Error(), e.Password) {
			t.Errorf("error message holds the password")
		}
		f := Parse([]byte("x:1:d:u:p\n"))
		if _, err := f.Upsert(e); err == nil || string(f.Bytes()) != "x:1:d:u:p\n" {
			t.Errorf("Upsert accepted or changed the file")
		}
	}
}

func TestLookupLibpqRules(t *testing.T) {
	file := strings.Join([]string{
		"# h:5432:d:u:commented",
		" #h:5432:d:u:space-hash", // not a comment for libpq: host " #h"
		"h:5432:d:u:first\\",      // trailing backslash kept by libpq
		"h:5432:d:u:second",
		"h\\:x:5432:d:u:escaped-host",
		"*:5432:*:u:wild",
		"h2:5432:d:u:pa:ss", // unescaped colon: libpq cuts, pgx drops the line
		"h3:5432:d:u:x\\y",  // \y: libpq reads y, pgx keeps \y
		"localhost:5432:d:u:local",
		"h4:5432:d:u:crlf\r",
		"h5:5432:d:u:nolf",
	}, "\n")
	f := Parse([]byte(file))
	for _, tc := range []struct {
		c        Conn
		want     string
		line     int
		pgx      string
		pgxFound bool
	}{
		{Conn{"h", "5432", "d", "u"}, `first\`, 3, `first\`, true},
		{Conn{"h:x", "5432", "d", "u"}, "escaped-host", 5, "escaped-host", true},
		{Conn{"any", "5432", "db", "u"}, "wild", 6, "wild", true},
		{Conn{"h2", "5432", "d", "u"}, "wild", 6, "wild", true},
		{Conn{"127.0.0.1", "5433", "d", "u"}, "", 0, "", false},
		{Conn{"h4", "5432", "d", "u"}, "wild", 6, "wild", true},
	} {
		got, line, ok := f.Lookup(tc.c)
		if got != tc.want || line != tc.line || ok != (tc.line > 0) {
			t.Errorf("Lookup(%v) = %q line %d, want %q line %d", tc.c, got, line, tc.want, tc.line)
		}
		if p, ok := f.LookupPgx(tc.c); p != tc.pgx || ok != tc.pgxFound {
			t.Errorf("LookupPgx(%v) = %q, want %q", tc.c, p, tc.pgx)
		}
	}
	// Without the wildcard line, the libpq/pgx differences show.
	f.Remove("*", "5432", "*", "u")
	if p, _, _ := f.Lookup(Conn{"h2", "5432", "d", "u"}); p != "pa" {
		t.Errorf("libpq cuts at the colon: got %q", p)
	}
	if _, ok := f.LookupPgx(Conn{"h2", "5432", "d", "u"}); ok {
		t.Errorf("pgx should drop the 6-field line")
	}
	if p, _, _ := f.Lookup(Conn{"h3", "5432", "d", "u"}); p != "xy" {
		t.Errorf("libpq \\y: got %q", p)
	}
	if p, _ := f.LookupPgx(Conn{"h3", "5432", "d", "u"}); p != `x\y` {
		t.Errorf("pgx \\y: got %q", p)
	}
	if p, _, _ := f.Lookup(Conn{"h4", "5432", "d", "u"}); p != "crlf" {
		t.Errorf("CRLF: got %q", p)
	}
	if p, _, _ := f.Lookup(Conn{"h5", "5432", "d", "u"}); p != "nolf" {
		t.Errorf("no final newline: got %q", p)
	}
}

func TestUpsertPlacement(t *testing.T) {
	e := Entry{"db.example.com", "5432", "databricks_postgres", "me@voyce.ai", "new"}
	for _, tc := range []struct {
		name, in, want string
		action         Action
		line, above    int
	}{
		{"empty", "", "db.example.com:5432:databricks_postgres:me@voyce.ai:new\n", Added, 1, 0},
		{"append keeps others", "# c\r\nother:1:d:u:x", "# c\r\nother:1:d:u:x\ndb.example.com:5432:databricks_postgres:me@voyce.ai:new\n", Added, 3, 0},
		{"replace in place", "a:1:b:c:d\ndb.example.com:5432:databricks_postgres:me@voyce.ai:old\r\nz:1:b:c:d\n",
			"a:1:b:c:d\ndb.example.com:5432:databricks_postgres:me@voyce.ai:new\nz:1:b:c:d\n", Replaced, 2, 0},
		{"unchanged", "db.example.com:5432:databricks_postgres:me@voyce.ai:new\n", "db.example.com:5432:databricks_postgres:me@voyce.ai:new\n", Unchanged, 1, 0},
		{"above wildcard", "a:1:b:c:d\n*:*:*:*:generic\nz:1:b:c:d\n",
			"a:1:b:c:d\ndb.example.com:5432:databricks_postgres:me@voyce.ai:new\n*:*:*:*:generic\nz:1:b:c:d\n", Added, 2, 3},
		{"partial wildcard that does not match stays above", "*:5433:*:*:other-port\n",
			"*:5433:*:*:other-port\ndb.example.com:5432:databricks_postgres:me@voyce.ai:new\n", Added, 2, 0},
		{"shadowed entry moves up", "*:5432:*:me@voyce.ai:generic\ndb.example.com:5432:databricks_postgres:me@voyce.ai:old\n",
			"db.example.com:5432:databricks_postgres:me@voyce.ai:new\n*:5432:*:me@voyce.ai:generic\n", Moved, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Parse([]byte(tc.in))
			r, err := f.Upsert(e)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(f.Bytes()); got != tc.want {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
			if r.Action != tc.action || r.Line != tc.line || r.Above != tc.above {
				t.Fatalf("result %+v", r)
			}
			if p, line, _ := f.Lookup(Conn{e.Host, e.Port, e.Database, e.User}); p != "new" || line != tc.line {
				t.Fatalf("look-up after upsert: line %d", line)
			}
			if tc.above > 0 && (strings.Contains(r.String(), "generic") || !strings.Contains(r.String(), "****")) {
				t.Fatalf("result text shows a password: %s", r)
			}
		})
	}
}

func TestRemove(t *testing.T) {
	f := Parse([]byte("a:1:b:c:d\nh:5432:d:u:x\n# h:5432:d:u:x\nh:5432:d:u:y\n*:5432:d:u:w\n"))
	if n := f.Remove("h", "5432", "d", "u"); n != 2 {
		t.Fatalf("removed %d", n)
	}
	if got := string(f.Bytes()); got != "a:1:b:c:d\n# h:5432:d:u:x\n*:5432:d:u:w\n" {
		t.Fatalf("got %q", got)
	}
}

func TestLint(t *testing.T) {
	f := Parse([]byte(strings.Join([]string{
		"# fine comment",
		"good:5432:d:u:p",
		"h:5432:d:u:pa:ss",
		"h:5432:d:u",
		"h:5432:d:u:x\\y",
		"h : 5432:d:u:p",
		"  # indented comment",
		"h:5432:d:u:crlf\r",
		"*:*:*:*:any",
		"later:5432:d:u:never-used",
		"h:port:d:u:p ",
		"",
	}, "\n")))
	var got []string
	for _, p := range f.Lint() {
		got = append(got, p.String())
		if strings.Contains(p.Message, "never-used") || strings.Contains(p.Message, "crlf") || strings.Contains(p.Message, "pa:ss") {
			t.Errorf("lint message shows a password: %s", p)
		}
	}
	want := []string{
		"line 3: error: 6 fields instead of 5",
		"line 4: error: 4 fields instead of 5",
		"line 5: error: a backslash escape other than",
		"line 5: warning: never used: line 3 answers",
		"line 6: warning: spaces around ':' in the host, port field",
		"line 7: error: spaces before '#'",
		"line 8: warning: Windows line ending",
		"line 8: warning: never used: line 3 answers",
		"line 10: warning: never used: line 9 answers",
		"line 11: error: spaces at the start or end",
		"line 11: warning: port field is not a number",
		"line 11: warning: never used: line 9 answers",
	}
	joined := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(joined, w) {
			t.Errorf("missing %q in:\n%s", w, joined)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), joined)
	}
	if line, e, ok := f.FirstMatch(Conn{"later", "5432", "d", "u"}); !ok || line != 9 || e.Host != "*" || e.Password != "" {
		t.Errorf("FirstMatch = %d %+v", line, e)
	}
}

func TestUpsertFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "appdata", "postgresql", "pgpass.conf")
	e := Entry{"h", "5432", "d", "u@x", "pw"}
	ur, res, err := UpsertFile(p, e, safefile.Options{Backup: true})
	if err != nil || ur.Action != Added || !res.Created {
		t.Fatalf("%+v %+v %v", ur, res, err)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Dir(p)); fi.Mode().Perm() != 0o700 {
		t.Fatalf("folder mode %o", fi.Mode().Perm())
	}
	ur, res, err = UpsertFile(p, e, safefile.Options{Backup: true})
	if err != nil || ur.Action != Unchanged || res.Changed || res.BackupPath != "" {
		t.Fatalf("second: %+v %+v %v", ur, res, err)
	}
	e.Password = "pw2"
	ur, res, err = UpsertFile(p, e, safefile.Options{Backup: true})
	if err != nil || ur.Action != Replaced || res.BackupPath != p+".bak" {
		t.Fatalf("third: %+v %+v %v", ur, res, err)
	}
	n, _, err := RemoveFile(p, "h", "5432", "d", "u@x", safefile.Options{})
	if err != nil || n != 1 {
		t.Fatalf("remove: %d %v", n, err)
	}
	if b, _ := os.ReadFile(p); len(b) != 0 {
		t.Fatalf("left %q", b)
	}
	e.Password = "bad\n"
	if _, _, err := UpsertFile(filepath.Join(dir, "none", ".pgpass"), e, safefile.Options{}); err == nil {
		t.Fatal("bad password accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, "none")); err == nil {
		t.Fatal("a refused upsert created the folder")
	}
}

func TestConcurrentUpsertsLoseNone(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".pgpass")
	const n = 16
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			_, _, err := UpsertFile(p, Entry{"h", "5432", "d", "user" + strconv.Itoa(i), "pw" + strconv.Itoa(i)}, safefile.Options{})
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	f, _, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if pw, _, ok := f.Lookup(Conn{"h", "5432", "d", "user" + strconv.Itoa(i)}); !ok || pw != "pw"+strconv.Itoa(i) {
			t.Fatalf("entry %d lost", i)
		}
	}
}
