// Package pgpass reads and edits PostgreSQL password files (~/.pgpass, %APPDATA%\postgresql\pgpass.conf)
// exactly as libpq (psql) reads them.
//
// Guarantees:
//   - Parse keeps every line byte for byte; Bytes returns the input unchanged until an edit.
//   - Lookup follows libpq's passwordFromFile: first matching line wins, a field of exactly `*` matches
//     anything, `\x` stands for x, `#` starts a comment only in column 0.
//   - Upsert replaces the one line for (host, port, database, user), or adds it where it is found first:
//     above the first line that would answer the same connection (a wildcard line), and says so. It writes
//     only the escapes `\:` and `\\`, which libpq and pgx (jackc/pgpassfile) both read back, and LF.
//   - A field that no reader can round-trip is refused before anything is written: line breaks, NUL, a
//     leading or trailing space (libpq keeps it, pgx trims it), a host starting with `#`, an empty password.
//     Errors name the field, never the password.
//   - UpsertFile/RemoveFile write through internal/safefile: created when missing (folder too), 0600, under
//     the lock, atomically, symlinks written through, a looser existing file tightened (and reported).
package pgpass

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgpassfile"
)

// Entry is one connection's password. Host, Port, Database and User may be "*" (matches anything).
type Entry struct {
	Host, Port, Database, User, Password string
}

// Conn identifies a connection for a look-up (no wildcards).
type Conn struct {
	Host, Port, Database, User string
}

// Line is one raw line of the file.
type Line struct {
	Text string // without the line ending
	EOL  string // "\n", "\r\n" or "" (last line without a newline)
}

// File is a parsed password file.
type File struct {
	Lines []Line
}

// Parse splits data into lines, keeping every byte.
func Parse(data []byte) *File {
	f := &File{}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			f.Lines = append(f.Lines, Line{Text: string(data)})
			break
		}
		text, eol := data[:i], "\n"
		if i > 0 && data[i-1] == '\r' {
			text, eol = data[:i-1], "\r\n"
		}
		f.Lines = append(f.Lines, Line{Text: string(text), EOL: eol})
		data = data[i+1:]
	}
	return f
}

// Bytes returns the file's content.
func (f *File) Bytes() []byte {
	var b bytes.Buffer
	for _, l := range f.Lines {
		b.WriteString(l.Text)
		b.WriteString(l.EOL)
	}
	return b.Bytes()
}

// Escape encodes one field: `\` becomes `\\` and `:` becomes `\:`.
func Escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(s)
}

// Format returns e's line (without line ending). It does not validate; see Validate.
func Format(e Entry) string {
	field := func(s string) string {
		if s == "*" {
			return s
		}
		return Escape(s)
	}
	return strings.Join([]string{field(e.Host), field(e.Port), field(e.Database), field(e.User), Escape(e.Password)}, ":")
}

// FieldError says why a field cannot be stored. It never holds a password.
type FieldError struct {
	Field  string // "host", "port", "database", "user", "password"
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("cannot store the %s in the password file: %s", e.Field, e.Reason)
}

// ValidatePassword reports why password cannot be stored so that libpq and pgx both read it back.
func ValidatePassword(password string) error {
	if password == "" {
		return &FieldError{"password", "it is empty"}
	}
	return checkField("password", password)
}

// Validate reports why e cannot be stored (nil when it can).
func Validate(e Entry) error {
	for _, fv := range []struct{ name, v string }{{"host", e.Host}, {"port", e.Port}, {"database", e.Database}, {"user", e.User}} {
		if fv.v == "" {
			return &FieldError{fv.name, "it is empty (use * to match any)"}
		}
		if err := checkField(fv.name, fv.v); err != nil {
			return err
		}
	}
	if e.Port != "*" {
		if n, err := strconv.Atoi(e.Port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != e.Port {
			return &FieldError{"port", "it must be a number from 1 to 65535 or *"}
		}
	}
	if strings.HasPrefix(e.Host, "#") {
		return &FieldError{"host", "a line starting with # is a comment"}
	}
	if err := ValidatePassword(e.Password); err != nil {
		return err
	}
	if n := len(Format(e)); n > 60000 {
		return &FieldError{"password", "the line would be too long for pgx to read (" + strconv.Itoa(n) + " bytes)"}
	}
	return nil
}

func checkField(name, v string) error {
	switch {
	case strings.ContainsAny(v, "\n\r"):
		return &FieldError{name, "it contains a line break, which a password file cannot hold"}
	case strings.ContainsRune(v, 0):
		return &FieldError{name, "it contains a NUL byte, which a password file cannot hold"}
	case !utf8.ValidString(v):
		return &FieldError{name, "it is not valid UTF-8"}
	}
	if r, _ := utf8.DecodeRuneInString(v); unicode.IsSpace(r) {
		return &FieldError{name, "it starts with a space (libpq keeps it, pgx drops it)"}
	}
	if r, _ := utf8.DecodeLastRuneInString(v); unicode.IsSpace(r) {
		return &FieldError{name, "it ends with a space (libpq keeps it, pgx drops it)"}
	}
	return nil
}

// libpqFields splits a line the way libpq reads it: fields separated by unescaped ':', `\x` read as x.
// wild[i] is true when field i is exactly `*`. Comment and empty lines give ok == false.
func libpqFields(text string) (fields []string, wild []bool, ok bool) {
	text = strings.TrimRight(text, "\r\n")
	if text == "" || text[0] == '#' {
		return nil, nil, false
	}
	var cur strings.Builder
	raw := 0 // start of the current field in text
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\\' && i+1 < len(text) {
			i++
			cur.WriteByte(text[i])
			continue
		}
		if c == ':' {
			fields = append(fields, cur.String())
			wild = append(wild, text[raw:i] == "*")
			cur.Reset()
			raw = i + 1
			continue
		}
		cur.WriteByte(c)
	}
	fields = append(fields, cur.String())
	wild = append(wild, text[raw:] == "*")
	return fields, wild, true
}

// matches reports whether a line with these fields answers c, as libpq decides.
func matches(fields []string, wild []bool, c Conn) bool {
	if len(fields) < 5 {
		return false
	}
	want := []string{c.Host, c.Port, c.Database, c.User}
	for i, w := range want {
		if !wild[i] && fields[i] != w {
			return false
		}
	}
	return true
}

// Lookup returns the password libpq would use for c and the 1-based line it comes from.
func (f *File) Lookup(c Conn) (password string, line int, ok bool) {
	for i, l := range f.Lines {
		fields, wild, isEntry := libpqFields(l.Text)
		if isEntry && matches(fields, wild, c) {
			return fields[4], i + 1, true
		}
	}
	return "", 0, false
}

// FirstMatch returns the 1-based line libpq would take the password from for c, and that line's fields
// (password left out), so a caller can say "line 3 (*:*:*:*) answers first".
func (f *File) FirstMatch(c Conn) (line int, e Entry, ok bool) {
	for i, l := range f.Lines {
		fields, wild, isEntry := libpqFields(l.Text)
		if isEntry && matches(fields, wild, c) {
			e := Entry{Host: fields[0], Port: fields[1], Database: fields[2], User: fields[3]}
			for j, p := range []*string{&e.Host, &e.Port, &e.Database, &e.User} {
				if wild[j] {
					*p = "*"
				}
			}
			return i + 1, e, true
		}
	}
	return 0, Entry{}, false
}

// LookupPgx returns the password pgx (jackc/pgpassfile) would use for c, for comparing with libpq.
func (f *File) LookupPgx(c Conn) (string, bool) {
	pf, err := pgpassfile.ParsePassfile(bytes.NewReader(f.Bytes()))
	if err != nil {
		return "", false
	}
	p := pf.FindPassword(c.Host, c.Port, c.Database, c.User)
	return p, p != ""
}

// sameKey reports whether a line's (host, port, database, user) is exactly e's, wildcards compared as `*`.
func sameKey(fields []string, wild []bool, e Entry) bool {
	if len(fields) < 5 {
		return false
	}
	for i, v := range []string{e.Host, e.Port, e.Database, e.User} {
		if (v == "*") != wild[i] || (!wild[i] && fields[i] != v) {
			return false
		}
	}
	return true
}

// shadows reports whether a line answers every connection e answers (so e placed below it is never used).
func shadows(fields []string, wild []bool, e Entry) bool {
	if len(fields) < 5 {
		return false
	}
	for i, v := range []string{e.Host, e.Port, e.Database, e.User} {
		if wild[i] {
			continue
		}
		if v == "*" || fields[i] != v {
			return false
		}
	}
	return true
}

// Action says what Upsert did.
type Action string

const (
	Added     Action = "added"     // a new line
	Replaced  Action = "replaced"  // the entry's line got a new password, in place
	Moved     Action = "moved"     // the entry was below a line that answered first; it now stands above it
	Unchanged Action = "unchanged" // the entry already held this password where it is found first
)

// UpsertResult says what Upsert did, without the password.
type UpsertResult struct {
	Action Action
	Line   int // 1-based line of the entry afterwards
	// Above is the 1-based line (afterwards) of the line that would have answered first and that the entry
	// was put above; 0 when none. AboveText is that line's text with its password masked.
	Above     int
	AboveText string
}

// String describes the result in one line, e.g. "added at line 4, above line 5 (*:*:*:*:****), which
// would otherwise answer first".
func (r UpsertResult) String() string {
	s := fmt.Sprintf("%s at line %d", r.Action, r.Line)
	if r.Action == Unchanged {
		s = fmt.Sprintf("unchanged (line %d)", r.Line)
	}
	if r.Above > 0 {
		s += fmt.Sprintf(", above line %d (%s), which would otherwise answer first", r.Above, r.AboveText)
	}
	return s
}

// Upsert sets e's password: in place when its line exists and is found first, else as a new line placed
// where libpq finds it first. Lines below a first exact entry are left alone.
func (f *File) Upsert(e Entry) (UpsertResult, error) {
	if err := Validate(e); err != nil {
		return UpsertResult{}, err
	}
	newLine := Format(e)
	existing, shadow := -1, -1
	for i, l := range f.Lines {
		fields, wild, isEntry := libpqFields(l.Text)
		if !isEntry {
			continue
		}
		if sameKey(fields, wild, e) {
			existing = i
			break
		}
		if shadow < 0 && shadows(fields, wild, e) {
			shadow = i
		}
	}
	if existing >= 0 && shadow < 0 {
		if f.Lines[existing].Text == newLine {
			return UpsertResult{Action: Unchanged, Line: existing + 1}, nil
		}
		f.Lines[existing].Text = newLine
		if f.Lines[existing].EOL == "\r\n" {
			f.Lines[existing].EOL = "\n"
		}
		if f.Lines[existing].EOL == "" {
			f.Lines[existing].EOL = "\n"
		}
		return UpsertResult{Action: Replaced, Line: existing + 1}, nil
	}
	action := Added
	if existing >= 0 {
		action = Moved
		f.Lines = append(f.Lines[:existing], f.Lines[existing+1:]...)
	}
	if shadow < 0 {
		if n := len(f.Lines); n > 0 && f.Lines[n-1].EOL == "" {
			f.Lines[n-1].EOL = "\n"
		}
		f.Lines = append(f.Lines, Line{Text: newLine, EOL: "\n"})
		return UpsertResult{Action: action, Line: len(f.Lines)}, nil
	}
	f.Lines = append(f.Lines[:shadow], append([]Line{{Text: newLine, EOL: "\n"}}, f.Lines[shadow:]...)...)
	return UpsertResult{Action: action, Line: shadow + 1, Above: shadow + 2, AboveText: Mask(f.Lines[shadow+1].Text)}, nil
}

// Remove deletes every line that is exactly the entry for (host, port, database, user) (wildcards compared
// as `*`). It returns how many lines it removed.
func (f *File) Remove(host, port, database, user string) int {
	e := Entry{Host: host, Port: port, Database: database, User: user}
	var kept []Line
	n := 0
	for _, l := range f.Lines {
		fields, wild, isEntry := libpqFields(l.Text)
		if isEntry && sameKey(fields, wild, e) {
			n++
			continue
		}
		kept = append(kept, l)
	}
	f.Lines = kept
	return n
}

// Mask returns a line with its password (everything after the fourth unescaped ':') replaced by ****.
// Comments and lines with fewer fields are returned with everything after the first ':' masked, since they
// may hold a password too.
func Mask(text string) string {
	colons := 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '\\':
			i++
		case ':':
			colons++
			if colons == 4 {
				return text[:i+1] + "****"
			}
		}
	}
	if i := strings.IndexByte(text, ':'); i >= 0 {
		return text[:i+1] + "****"
	}
	return text
}
