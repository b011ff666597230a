package pgpass

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzPgpassRoundTrip: an entry that Validate accepts is read back exactly by the libpq rules and by pgx,
// from a file that held arbitrary other lines; every other line is kept byte for byte. An entry Validate
// refuses leaves the file unchanged.
func FuzzPgpassRoundTrip(f *testing.F) {
	for _, pw := range trickyPasswords {
		f.Add([]byte(noise), "db.example.com", "5432", "databricks_postgres", "me@voyce.ai", pw)
	}
	f.Add([]byte("*:*:*:*:x\r\nh:1:d:u:p"), "h", "1", "d", "u", "p2")
	f.Add([]byte(""), "*", "*", "*", "*", " space")
	f.Add([]byte("h\\:x:1:d:u:old\n"), "h:x", "1", "d", "u", "new\\")
	f.Fuzz(func(t *testing.T, data []byte, host, port, db, user, pw string) {
		e := Entry{host, port, db, user, pw}
		file := Parse(data)
		if !bytes.Equal(file.Bytes(), data) {
			t.Fatal("Parse/Bytes not byte-exact")
		}
		before := Parse(data)
		r, err := file.Upsert(e)
		if err != nil {
			if Validate(e) == nil {
				t.Fatalf("Upsert failed on a valid entry: %v", err)
			}
			if !bytes.Equal(file.Bytes(), data) {
				t.Fatal("refused upsert changed the file")
			}
			return
		}
		// Round trip of the line alone.
		line := Format(e)
		one := Parse([]byte(line + "\n"))
		fields, wild, ok := libpqFields(line)
		if !ok || len(fields) != 5 || fields[4] != pw || !sameKey(fields, wild, e) {
			t.Fatalf("line does not parse back: %q", line)
		}
		if e.Host != "*" && e.Port != "*" && e.Database != "*" && e.User != "*" {
			c := Conn{host, port, db, user}
			if got, _, ok := one.Lookup(c); !ok || got != pw {
				t.Fatalf("libpq rules read %q", got)
			}
			if got, ok := one.LookupPgx(c); !ok || got != pw {
				t.Fatalf("pgx reads %q from %q", got, line)
			}
			// In the whole file the entry is what libpq finds first.
			if got, n, ok := file.Lookup(c); !ok || got != pw || n != r.Line {
				t.Fatalf("in the file: line %d (want %d) password %q", n, r.Line, got)
			}
		}
		// Every other line is kept: the new file is the old one with the entry's line added, replaced or moved.
		if r.Action == Unchanged {
			if !bytes.Equal(file.Bytes(), data) {
				t.Fatal("unchanged but bytes differ")
			}
			return
		}
		oldIdx := -1
		for i, l := range before.Lines {
			if f, w, ok := libpqFields(l.Text); ok && sameKey(f, w, e) {
				oldIdx = i
				break
			}
		}
		var oldRest, newRest []string
		for i, l := range before.Lines {
			if i != oldIdx {
				oldRest = append(oldRest, l.Text+"\x00"+l.EOL)
			}
		}
		for i, l := range file.Lines {
			if i+1 != r.Line {
				newRest = append(newRest, l.Text+"\x00"+l.EOL)
			}
		}
		if n := len(oldRest); n > 0 && n == len(newRest) && strings.HasSuffix(oldRest[n-1], "\x00") && !strings.HasSuffix(newRest[n-1], "\x00") {
			oldRest[n-1] += "\n" // a last line without newline got one when a line was added after it
		}
		if strings.Join(oldRest, "|") != strings.Join(newRest, "|") {
			t.Fatalf("%s: other lines changed:\n%q\n%q", r.Action, oldRest, newRest)
		}
	})
}
