package pgpass

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Severity of a lint problem.
type Severity int

const (
	// Warning: libpq and pgx read the line, but it is likely not what was meant.
	Warning Severity = iota
	// Error: the line is ignored or read differently by libpq and pgx.
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Problem is one finding about one line. Message never holds the password.
type Problem struct {
	Line     int // 1-based
	Severity Severity
	Message  string
}

func (p Problem) String() string {
	return fmt.Sprintf("line %d: %s: %s", p.Line, p.Severity, p.Message)
}

// Lint reports, line by line, what libpq and pgx would misread or ignore, and entries that can never be
// used because an earlier line answers the same connection.
func (f *File) Lint() []Problem {
	var out []Problem
	add := func(line int, sev Severity, format string, args ...any) {
		out = append(out, Problem{Line: line, Severity: sev, Message: fmt.Sprintf(format, args...)})
	}
	type seen struct {
		line   int
		fields []string
		wild   []bool
	}
	var earlier []seen
	for i, l := range f.Lines {
		n := i + 1
		text := l.Text
		if l.EOL == "\r\n" {
			add(n, Warning, "Windows line ending (CRLF); libpq and pgx cope, but write LF")
		}
		trimmed := strings.TrimSpace(text)
		if trimmed == "" {
			if text != "" {
				add(n, Warning, "line holds only spaces")
			}
			continue
		}
		if text[0] == '#' {
			continue
		}
		if trimmed[0] == '#' {
			add(n, Error, "spaces before '#': pgx skips this line as a comment, libpq reads it as an entry")
			continue
		}
		if strings.ContainsRune(text, 0) {
			add(n, Error, "NUL byte: libpq stops reading the line there")
		}
		// Escapes: only \: and \\ mean the same to libpq and pgx.
		colons := 0
		for j := 0; j < len(text); j++ {
			switch text[j] {
			case '\\':
				if j+1 >= len(text) {
					add(n, Error, "ends with a lone backslash: libpq and pgx read it differently")
					continue
				}
				if c := text[j+1]; c != ':' && c != '\\' {
					if colons >= 4 { // the password: do not show its characters
						add(n, Error, "a backslash escape other than \\: or \\\\ in the password: libpq drops the backslash, pgx keeps it")
					} else {
						add(n, Error, "escape \\%c in field %d: libpq reads %c, pgx reads \\%c; write only \\: and \\\\",
							c, colons+1, c, c)
					}
				}
				j++
			case ':':
				colons++
			}
		}
		if colons != 4 {
			msg := fmt.Sprintf("%d fields instead of 5 (host:port:database:user:password)", colons+1)
			if colons > 4 {
				msg += "; an unescaped ':' in the password makes pgx skip the line and libpq cut the password there (write \\:)"
			} else {
				msg += "; libpq and pgx skip the line"
			}
			add(n, Error, "%s", msg)
		}
		if text != strings.TrimRightFunc(text, unicode.IsSpace) || text != strings.TrimLeftFunc(text, unicode.IsSpace) {
			add(n, Error, "spaces at the start or end of the line: libpq keeps them as part of the host/password, pgx drops them")
		}
		fields, wild, _ := libpqFields(text)
		names := []string{"host", "port", "database", "user", "password"}
		var spaced []string
		for j, fv := range fields {
			if j >= 5 || (j == 0 && fv != strings.TrimLeftFunc(fv, unicode.IsSpace)) || (j == 4 && fv != strings.TrimRightFunc(fv, unicode.IsSpace)) {
				continue // reported above
			}
			if fv != strings.TrimSpace(fv) {
				spaced = append(spaced, names[j])
			}
		}
		if len(spaced) > 0 {
			add(n, Warning, "spaces around ':' in the %s field: they are part of the value", strings.Join(spaced, ", "))
		}
		if len(fields) >= 2 && !wild[1] && fields[1] == strings.TrimSpace(fields[1]) {
			if p, err := strconv.Atoi(fields[1]); err != nil || p < 1 || p > 65535 {
				add(n, Warning, "port field is not a number or *: no connection will match")
			}
		}
		if len(fields) >= 5 {
			e := Entry{Host: fields[0], Port: fields[1], Database: fields[2], User: fields[3]}
			for j, p := range []*string{&e.Host, &e.Port, &e.Database, &e.User} {
				if wild[j] {
					*p = "*"
				}
			}
			for _, s := range earlier {
				if shadows(s.fields, s.wild, e) {
					add(n, Warning, "never used: line %d answers every connection this line would", s.line)
					break
				}
			}
			earlier = append(earlier, seen{line: n, fields: fields, wild: wild})
		}
	}
	return out
}
