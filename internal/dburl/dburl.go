// Package dburl builds and parses the backend's DATABASE_URL.
//
// Guarantees:
//   - The user (an e-mail) is percent-encoded (`@` -> %40); the password is the literal reference
//     ${PGPASSWORD}, never a password.
//   - The TLS parameter fits the scheme: `ssl=` for postgresql+asyncpg:// (asyncpg rejects sslmode=, see
//     sqlalchemy#6275), `sslmode=` for postgresql:// (libpq, psql, pgx).
//   - Parse reads a URL the way SQLAlchemy's make_url splits it, so Update keeps the file's scheme and any
//     other query parameters.
package dburl

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Schemes.
const (
	SchemeAsyncpg  = "postgresql+asyncpg" // the Voyce backend (SQLAlchemy + asyncpg); the default
	SchemePostgres = "postgresql"         // libpq, psql, pgx
	// PasswordRef is the password part of DATABASE_URL; python-dotenv resolves it from the environment.
	PasswordRef = "${PGPASSWORD}"
)

// Param is one query parameter, kept as written.
type Param struct{ Key, Value string }

// URL is a parsed DATABASE_URL.
type URL struct {
	Scheme   string // e.g. postgresql+asyncpg
	User     string // decoded
	Password string // as written: normally ${PGPASSWORD}; "" when absent
	Host     string // without brackets for IPv6
	Port     int    // 0 when absent
	Database string // decoded
	SSLMode  string // from ssl= or sslmode=, whichever the URL has
	// Params are the other query parameters, in order.
	Params []Param
}

// TLSParam returns the query parameter name that carries the TLS mode for scheme: "ssl" for
// postgresql+asyncpg, "sslmode" otherwise.
func TLSParam(scheme string) string {
	if strings.HasSuffix(scheme, "+asyncpg") {
		return "ssl"
	}
	return "sslmode"
}

// String builds the URL. An empty Scheme means postgresql+asyncpg; the TLS parameter follows the scheme.
func (u URL) String() string {
	scheme := u.Scheme
	if scheme == "" {
		scheme = SchemeAsyncpg
	}
	var b strings.Builder
	b.WriteString(scheme + "://")
	if u.User != "" || u.Password != "" {
		b.WriteString(escape(u.User))
		if u.Password != "" {
			b.WriteString(":" + u.Password)
		}
		b.WriteString("@")
	}
	if strings.Contains(u.Host, ":") {
		b.WriteString("[" + u.Host + "]")
	} else {
		b.WriteString(u.Host)
	}
	if u.Port != 0 {
		b.WriteString(":" + strconv.Itoa(u.Port))
	}
	if u.Database != "" {
		b.WriteString("/" + escape(u.Database))
	}
	var q []string
	if u.SSLMode != "" {
		q = append(q, TLSParam(scheme)+"="+escape(u.SSLMode))
	}
	for _, p := range u.Params {
		if p.Key == "ssl" || p.Key == "sslmode" {
			continue
		}
		q = append(q, p.Key+"="+p.Value)
	}
	if len(q) > 0 {
		b.WriteString("?" + strings.Join(q, "&"))
	}
	return b.String()
}

// Backend returns the backend's DATABASE_URL for a connection (scheme postgresql+asyncpg, password
// ${PGPASSWORD}).
func Backend(host string, port int, database, user, sslmode string) string {
	return URL{Scheme: SchemeAsyncpg, User: user, Password: PasswordRef, Host: host, Port: port, Database: database, SSLMode: sslmode}.String()
}

// Libpq returns a postgresql:// URL without a password for psql and other libpq clients (which then find
// the password in .pgpass).
func Libpq(host string, port int, database, user, sslmode string) string {
	return URL{Scheme: SchemePostgres, User: user, Host: host, Port: port, Database: database, SSLMode: sslmode}.String()
}

// Update returns existing with the connection replaced: same scheme (postgresql+asyncpg when existing is
// empty or unreadable) and other query parameters, the password set to ${PGPASSWORD}, and the TLS
// parameter that fits the scheme.
func Update(existing, host string, port int, database, user, sslmode string) string {
	u, err := Parse(existing)
	if err != nil || strings.TrimSpace(existing) == "" {
		return Backend(host, port, database, user, sslmode)
	}
	u.Host, u.Port, u.Database, u.User, u.SSLMode, u.Password = host, port, database, user, sslmode, PasswordRef
	return u.String()
}

// SQLAlchemy's make_url pattern (sqlalchemy/engine/url.py), anchored.
var urlRe = regexp.MustCompile(`^([\w+]+)://(?:([^:/]*)(?::([^@]*))?@)?(?:(?:\[([^/?]+)\]|([^/:?]+))?(?::([^/?]*))?)?(?:/([^?]*))?(?:\?(.*))?$`)

// Parse reads a database URL.
func Parse(s string) (URL, error) {
	m := urlRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return URL{}, fmt.Errorf("DATABASE_URL is not a URL of the form scheme://user:password@host:port/database")
	}
	u := URL{Scheme: m[1], Password: m[3], Host: m[5]}
	if m[4] != "" {
		u.Host = m[4]
	}
	var err error
	if u.User, err = unescape(m[2]); err != nil {
		return URL{}, fmt.Errorf("DATABASE_URL: the user has a bad %%-escape")
	}
	if m[6] != "" {
		p, err := strconv.Atoi(m[6])
		if err != nil || p < 1 || p > 65535 {
			return URL{}, fmt.Errorf("DATABASE_URL: the port must be a number from 1 to 65535")
		}
		u.Port = p
	}
	if u.Database, err = unescape(m[7]); err != nil {
		return URL{}, fmt.Errorf("DATABASE_URL: the database name has a bad %%-escape")
	}
	if m[8] != "" {
		for _, kv := range strings.Split(m[8], "&") {
			k, v, _ := strings.Cut(kv, "=")
			if (k == "ssl" || k == "sslmode") && u.SSLMode == "" {
				u.SSLMode, _ = unescape(v)
			}
			u.Params = append(u.Params, Param{k, v})
		}
	}
	return u, nil
}

// WrongTLSParam returns the TLS parameter a URL uses that does not fit its scheme ("sslmode" on
// postgresql+asyncpg, which makes asyncpg fail at start-up; "ssl" on postgresql://), or "".
func (u URL) WrongTLSParam() string {
	want := TLSParam(u.Scheme)
	for _, p := range u.Params {
		if (p.Key == "ssl" || p.Key == "sslmode") && p.Key != want {
			return p.Key
		}
	}
	return ""
}

// PasswordProblem says why a password, substituted as-is for ${PGPASSWORD} by python-dotenv, would break
// the backend's URL as SQLAlchemy parses it ("" when it is fine). The message never holds the password.
func PasswordProblem(password string) string {
	if strings.Contains(password, "@") {
		return "the password contains '@', which ends the password part of DATABASE_URL once ${PGPASSWORD} is filled in"
	}
	if pctRe.MatchString(password) {
		return "the password contains %XX, which SQLAlchemy decodes once ${PGPASSWORD} is filled into DATABASE_URL"
	}
	return ""
}

var pctRe = regexp.MustCompile(`%[0-9A-Fa-f]{2}`)

// escape percent-encodes everything but RFC 3986 unreserved characters.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// unescape decodes %XX like Python's urllib.parse.unquote (a malformed % is an error here).
func unescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) {
				return "", fmt.Errorf("bad escape")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("bad escape")
			}
			b.WriteByte(byte(v))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}
