package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/voyce/voyce-auth/internal/pg"
	"github.com/voyce/voyce-auth/internal/pgpass"
	"github.com/voyce/voyce-auth/internal/safefile"
)

const storePasswordFix = "voyce-auth password   (stores the password in the password file, above any wildcard line)"

func pgpassConn(p pg.Params) pgpass.Conn {
	return pgpass.Conn{Host: p.Host, Port: strconv.Itoa(p.Port), Database: p.Database, User: p.User}
}

func entryText(e pgpass.Entry) string {
	return strings.Join([]string{e.Host, e.Port, e.Database, e.User}, ":")
}

// checkPasswordSource says where libpq (psql) would take the password from for the configured connection.
func (d *Deps) checkPasswordSource(ctx context.Context) Result {
	p, err := d.pgParams()
	if err != nil {
		return Skip("no Postgres settings")
	}
	shown := d.display(d.PgpassFile)
	if d.getenv("PGPASSWORD") != "" {
		return OK("PGPASSWORD is set in the environment (it takes precedence over %s)", shown)
	}
	fi, err := os.Stat(d.PgpassFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Fail(storePasswordFix, "no password for %s: PGPASSWORD is not set and %s does not exist", p.User, shown)
	}
	if err != nil {
		return Fail("", "cannot read %s: %v", shown, err)
	}
	if d.GOOS != "windows" && tooOpen(fi.Mode()) {
		return Fail("chmod 600 "+shellQuote(shown)+"   (or: voyce-auth doctor --fix)",
			"psql ignores %s because it is %04o (group/world access), so it has no password for %s",
			shown, fi.Mode().Perm(), p.User)
	}
	f, _, err := pgpass.ReadFile(d.PgpassFile)
	if err != nil {
		return Fail("", "cannot read %s: %v", shown, err)
	}
	conn := pgpassConn(p)
	line, e, ok := f.FirstMatch(conn)
	if !ok {
		msg := fmt.Sprintf("%s has no entry for %s", shown, entryText(pgpass.Entry{Host: conn.Host, Port: conn.Port,
			Database: conn.Database, User: conn.User}))
		if alt := otherHostName(p.Host); alt != "" {
			c2 := conn
			c2.Host = alt
			if l2, _, ok := f.FirstMatch(c2); ok {
				msg += fmt.Sprintf(" (line %d is for %s: libpq compares host names literally)", l2, alt)
			}
		}
		return Fail(storePasswordFix, "%s", msg)
	}
	if pw, _, _ := f.Lookup(conn); pw == "" {
		return Fail(storePasswordFix, "%s line %d matches %s but its password is empty", shown, line, p.User)
	}
	wild := e.Host == "*" || e.Port == "*" || e.Database == "*" || e.User == "*"
	if wild {
		// Is there an exact entry further down that this wildcard line hides?
		rest := &pgpass.File{Lines: f.Lines[line:]}
		if l2, e2, ok := rest.FirstMatch(conn); ok && !(e2.Host == "*" || e2.Port == "*" || e2.Database == "*" || e2.User == "*") {
			return Warn(fmt.Sprintf("move line %d above line %d in %s, or run: voyce-auth password", line+l2, line, shown),
				"%s line %d (%s:…) answers first and shadows your entry on line %d", shown, line, entryText(e), line+l2)
		}
		return OK("%s line %d (wildcard %s) has the password for %s", shown, line, entryText(e), p.User)
	}
	return OK("%s line %d has the password for %s", shown, line, p.User)
}

// otherHostName returns the spelling libpq will not match for host (localhost <-> 127.0.0.1), or "".
func otherHostName(host string) string {
	switch host {
	case "localhost":
		return "127.0.0.1"
	case "127.0.0.1":
		return "localhost"
	}
	return ""
}

// checkPgpassFile checks the password file itself: a regular file, 0600, every line well formed.
func (d *Deps) checkPgpassFile(ctx context.Context) Result {
	shown := d.display(d.PgpassFile)
	fi, err := os.Stat(d.PgpassFile)
	if errors.Is(err, fs.ErrNotExist) {
		if d.getenv("PGPASSWORD") != "" {
			return Skip("no %s (the password comes from PGPASSWORD)", shown)
		}
		return Skip("no %s yet (pg-password-source says where the password should come from)", shown)
	}
	if err != nil {
		return Fail("", "cannot read %s: %v", shown, err)
	}
	if !fi.Mode().IsRegular() {
		return Fail("Move it away and run: voyce-auth password", "%s is not a regular file (%s)", shown, fi.Mode().Type())
	}
	f, _, err := pgpass.ReadFile(d.PgpassFile)
	if err != nil {
		return Fail("", "cannot read %s: %v", shown, err)
	}
	problems := f.Lint()
	var details []string
	worst := StatusOK
	for _, p := range problems {
		details = append(details, p.String())
		if p.Severity == pgpass.Error {
			worst = StatusFail
		} else if worst == StatusOK {
			worst = StatusWarn
		}
	}
	if d.GOOS != "windows" && tooOpen(fi.Mode()) {
		return Fail("chmod 600 "+shellQuote(shown)+"   (or: voyce-auth doctor --fix)",
			"%s is %04o: psql ignores a password file with group or world access", shown, fi.Mode().Perm()).
			WithDetails(details...)
	}
	entries := 0
	for _, l := range f.Lines {
		if t := strings.TrimSpace(l.Text); t != "" && !strings.HasPrefix(l.Text, "#") {
			entries++
		}
	}
	if worst == StatusOK {
		what := fmt.Sprintf("%d entries, all well formed", entries)
		if entries == 1 {
			what = "1 entry, well formed"
		}
		return OK("%s is %04o with %s", shown, fi.Mode().Perm(), what)
	}
	first := problems[0]
	for _, p := range problems {
		if p.Severity == pgpass.Error {
			first = p
			break
		}
	}
	more := ""
	if len(problems) > 1 {
		more = fmt.Sprintf(" (and %d more, see -v)", len(problems)-1)
	}
	fix := fmt.Sprintf("Edit line %d of %s; to rewrite your own entry correctly: voyce-auth password", first.Line, shown)
	return Result{Status: worst, Message: fmt.Sprintf("%s line %d: %s%s", shown, first.Line, first.Message, more),
		Fix: fix, Details: details}
}

func (d *Deps) planPgpassMode(r Result) string {
	if d.GOOS == "windows" {
		return ""
	}
	fi, err := os.Stat(d.PgpassFile)
	if err != nil || !fi.Mode().IsRegular() || !tooOpen(fi.Mode()) {
		return ""
	}
	return fmt.Sprintf("chmod 600 %s (now %04o)", d.display(d.PgpassFile), fi.Mode().Perm())
}

func (d *Deps) fixPgpassMode(ctx context.Context, r Result) error {
	_, err := safefile.Tighten(d.PgpassFile)
	return err
}
