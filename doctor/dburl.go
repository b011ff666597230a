package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/voyce/voyce-auth/internal/config"
	"github.com/voyce/voyce-auth/internal/dburl"
	"github.com/voyce/voyce-auth/internal/dotenv"
	"github.com/voyce/voyce-auth/internal/pg"
)

// checkDatabaseURL checks the backend's DATABASE_URL against POSTGRES_* and the rules the backend's driver
// imposes (see dburl).
func (d *Deps) checkDatabaseURL(ctx context.Context) Result {
	s, err := d.settings()
	if err != nil {
		return Skip("no settings")
	}
	p := s.Postgres
	shown := d.display(d.EnvFile)
	raw := p.DatabaseURL
	right := dburl.Update(raw, p.Host, p.Port, p.Database, p.User, p.SSLMode)
	fix := fmt.Sprintf("set in %s:\n%s=%s\n(or run: voyce-auth setup)", shown, config.KeyDatabaseURL, right)
	if strings.TrimSpace(raw) == "" {
		return Warn(fix, "%s has no %s, which the backend connects with", shown, config.KeyDatabaseURL)
	}
	u, err := dburl.Parse(raw)
	if err != nil {
		return Fail(fix, "%v", err)
	}
	var fails, warns []string
	if u.Password != "" && !dotenv.HasReference(u.Password) {
		fails = append(fails, "it holds a literal password instead of "+dburl.PasswordRef)
	}
	switch wrong := u.WrongTLSParam(); {
	case wrong == "sslmode":
		fails = append(fails, fmt.Sprintf("%s:// with sslmode= makes the backend fail at start-up "+
			"(TypeError: connect() got an unexpected keyword argument 'sslmode'); asyncpg wants ssl=", u.Scheme))
	case wrong != "":
		fails = append(fails, fmt.Sprintf("%s:// takes sslmode=, not %s=", u.Scheme, wrong))
	case u.SSLMode == "":
		warns = append(warns, fmt.Sprintf("it sets no %s=require, so the backend may connect without TLS", dburl.TLSParam(u.Scheme)))
	}
	port := u.Port
	if port == 0 {
		port = config.DefaultPort
	}
	var differ []string
	if !strings.EqualFold(u.Host, p.Host) {
		differ = append(differ, fmt.Sprintf("host %s (POSTGRES_HOST is %s)", u.Host, p.Host))
	}
	if port != p.Port {
		differ = append(differ, fmt.Sprintf("port %d (POSTGRES_PORT is %d)", port, p.Port))
	}
	if u.Database != p.Database {
		differ = append(differ, fmt.Sprintf("database %s (POSTGRES_DB is %s)", u.Database, p.Database))
	}
	if u.User != p.User {
		differ = append(differ, fmt.Sprintf("user %s (POSTGRES_USER is %s)", u.User, p.User))
	}
	if len(differ) > 0 {
		fails = append(fails, "it names "+strings.Join(differ, ", "))
	}
	if userinfo := rawUser(raw); strings.Contains(userinfo, "@") {
		warns = append(warns, fmt.Sprintf("the user's '@' is not written %%40 (%s)", strings.ReplaceAll(userinfo, "@", "%40")))
	}
	switch {
	case len(fails) > 0:
		return Fail(fix, "%s: %s", config.KeyDatabaseURL, strings.Join(append(fails, warns...), "; "))
	case len(warns) > 0:
		return Warn(fix, "%s: %s", config.KeyDatabaseURL, strings.Join(warns, "; "))
	}
	if problem := d.referencedPasswordProblem(u.Password); problem != "" {
		return Warn("change it to one without '@' or '%XX': voyce-auth password --on-server --generate "+
			"(or, where the password is managed elsewhere, set it there and run: voyce-auth password)",
			"%s: %s, so the backend cannot log in with it", config.KeyDatabaseURL, problem)
	}
	return OK("%s matches POSTGRES_* (%s://, %s=%s, password from %s)", config.KeyDatabaseURL, u.Scheme,
		dburl.TLSParam(u.Scheme), u.SSLMode, u.Password)
}

// referencedPasswordProblem checks the password that the URL's ${PGPASSWORD} reference stands for (the one
// libpq would use: PGPASSWORD, else the .pgpass entry) for characters that break the URL once python-dotenv
// fills it in. It says nothing when the URL holds no reference or no password is found.
func (d *Deps) referencedPasswordProblem(ref string) string {
	if !dotenv.HasReference(ref) {
		return ""
	}
	p, err := d.pgParams()
	if err != nil {
		return ""
	}
	pw, _, err := pg.ResolvePassword(p, d.getenv, d.PgpassFile)
	if err != nil || pw == "" {
		return ""
	}
	return dburl.PasswordProblem(pw)
}

// rawUser returns the user part of a URL as written: between "://" and the ':' or '@' that ends it (the
// last '@' before the host, since an unencoded e-mail has one of its own).
func rawUser(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	userinfo := rest[:at]
	// The password is a ${...} reference or a literal after the first ':' (an e-mail has no ':').
	if i := strings.Index(userinfo, ":"); i >= 0 {
		userinfo = userinfo[:i]
	}
	return userinfo
}
