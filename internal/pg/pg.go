// Package pg is the one place voyce-auth connects to PostgreSQL (with pgx) and the one place that tells
// connection failures apart: Classify turns any error from Connect or Verify into a Cause, a one-line message
// without secrets and the fix, so the setup wizard, the doctor and the password command say the same thing
// about the same failure.
package pg

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultConnectTimeout applies when Params.ConnectTimeout is zero.
const DefaultConnectTimeout = 10 * time.Second

// DefaultSSLMode applies when Params.SSLMode is empty: Lakebase accepts only TLS connections.
const DefaultSSLMode = "require"

// SSLModes are the sslmode values libpq and pgx accept.
var SSLModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// Params are the settings of one connection. Password is used exactly as given: it is never read from
// ~/.pgpass or PGPASSWORD implicitly (see ResolvePassword for the libpq order).
type Params struct {
	Host           string
	Port           int
	Database       string
	User           string
	Password       string
	SSLMode        string        // "" means DefaultSSLMode
	ConnectTimeout time.Duration // 0 means DefaultConnectTimeout; covers dial, TLS and authentication
	// SSLRootCert is a PEM file to verify the server certificate against (sslmode verify-ca/verify-full).
	SSLRootCert string
}

// String describes the connection without the password: "dev.user@example.com on host:5432, database db".
func (p Params) String() string {
	return fmt.Sprintf("%s on %s, database %s", p.User, p.Addr(), p.Database)
}

// Addr is host:port.
func (p Params) Addr() string { return net.JoinHostPort(p.Host, strconv.Itoa(p.Port)) }

func (p Params) sslMode() string {
	if p.SSLMode == "" {
		return DefaultSSLMode
	}
	return p.SSLMode
}

func (p Params) timeout() time.Duration {
	if p.ConnectTimeout <= 0 {
		return DefaultConnectTimeout
	}
	return p.ConnectTimeout
}

// Validate checks every field and returns the first problem as a one-line error naming the field and what is
// accepted.
func (p Params) Validate() error {
	if err := ValidateHost(p.Host); err != nil {
		return err
	}
	if p.Port < 1 || p.Port > 65535 {
		return fmt.Errorf("port %d is not valid: want a number from 1 to 65535 (Lakebase uses 5432)", p.Port)
	}
	if err := ValidateDatabase(p.Database); err != nil {
		return err
	}
	if err := ValidateUser(p.User); err != nil {
		return err
	}
	if p.SSLMode != "" {
		if err := ValidateSSLMode(p.SSLMode); err != nil {
			return err
		}
	}
	if p.ConnectTimeout < 0 {
		return errors.New("connect timeout must not be negative")
	}
	return nil
}

// ValidateField checks one field given as text: "host", "port", "database", "user" or "sslmode".
func ValidateField(field, value string) error {
	switch field {
	case "host":
		return ValidateHost(value)
	case "port":
		_, err := ParsePort(value)
		return err
	case "database":
		return ValidateDatabase(value)
	case "user":
		return ValidateUser(value)
	case "sslmode":
		return ValidateSSLMode(value)
	}
	return fmt.Errorf("unknown connection field %q", field)
}

// ParsePort parses a port number given as text.
func ParsePort(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q is not valid: want a number from 1 to 65535 (Lakebase uses 5432)", s)
	}
	return n, nil
}

// ValidateHost accepts an IP address or an RFC 1123 host name.
func ValidateHost(h string) error {
	switch {
	case h == "":
		return errors.New("host is empty: want a host name such as instance-<uuid>.database.cloud.databricks.com or an IP address")
	case net.ParseIP(strings.Trim(h, "[]")) != nil:
		return nil
	case strings.Contains(h, "://") || strings.ContainsAny(h, "/:@"):
		return fmt.Errorf("host %q is not valid: want only the host name (no scheme, port, user or path), e.g. instance-<uuid>.database.cloud.databricks.com", h)
	}
	name := strings.TrimSuffix(h, ".")
	if len(name) > 253 {
		return fmt.Errorf("host is not valid: longer than 253 characters")
	}
	for _, label := range strings.Split(name, ".") {
		if !validLabel(label) {
			return fmt.Errorf("host %q is not valid: want an RFC 1123 host name (letters, digits and '-', labels of 1-63 characters separated by dots) or an IP address", h)
		}
	}
	return nil
}

func validLabel(l string) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidateDatabase accepts any non-empty name without control characters.
func ValidateDatabase(db string) error {
	if db == "" {
		return errors.New("database is empty: want a database name (Lakebase: databricks_postgres)")
	}
	if hasControl(db) {
		return errors.New("database name contains control characters")
	}
	return nil
}

// ValidateUser accepts any non-empty role name without control characters.
func ValidateUser(u string) error {
	if u == "" {
		return errors.New("user is empty: want the Postgres role, on Lakebase your Databricks e-mail (e.g. dev.user@example.com)")
	}
	if hasControl(u) {
		return errors.New("user name contains control characters")
	}
	return nil
}

// ValidateSSLMode accepts the libpq sslmode values.
func ValidateSSLMode(m string) error {
	for _, ok := range SSLModes {
		if m == ok {
			return nil
		}
	}
	return fmt.Errorf("sslmode %q is not valid: want one of %s (Lakebase needs require or stricter)", m,
		strings.Join(SSLModes, ", "))
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// Config builds the pgx configuration for p. The password is set on the parsed config, never written into a
// connection string, and pgx is kept from reading a password file or PGPASSWORD on its own: with
// p.Password == "" the connection carries no password (resolve one first with ResolvePassword, as libpq
// would). Settings not in Params (PGHOST, PGSSLMODE, ...) do not override p.
func Config(p Params) (*pgx.ConnConfig, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	kv := []string{
		"host=" + quote(p.Host),
		"port=" + quote(strconv.Itoa(p.Port)),
		"dbname=" + quote(p.Database),
		"user=" + quote(p.User),
		"sslmode=" + quote(p.sslMode()),
		"connect_timeout=" + quote(strconv.Itoa(int(math.Ceil(p.timeout().Seconds())))),
		"passfile=''",
		"target_session_attrs='any'",
		"application_name='voyce-auth'",
	}
	if p.SSLRootCert != "" {
		kv = append(kv, "sslrootcert="+quote(p.SSLRootCert))
	}
	cfg, err := pgx.ParseConfig(strings.Join(kv, " "))
	if err != nil {
		// ParseConfig errors quote the connection string, which holds no password; keep one line anyway.
		return nil, fmt.Errorf("connection settings for %s: %s", p, oneLine(err.Error()))
	}
	cfg.Password = p.Password
	cfg.ConnectTimeout = p.timeout()
	cfg.Fallbacks = onlyHost(cfg, p.Host)
	cfg.RuntimeParams = map[string]string{"application_name": "voyce-auth"}
	return cfg, nil
}

// onlyHost keeps the fallbacks pgx made for sslmode allow/prefer (plaintext retry) but none a PGHOST or
// service file could add for another host.
func onlyHost(cfg *pgx.ConnConfig, host string) []*pgconn.FallbackConfig {
	var keep []*pgconn.FallbackConfig
	for _, f := range cfg.Fallbacks {
		if f.Host == host && f.Port == cfg.Port {
			keep = append(keep, f)
		}
	}
	return keep
}

// quote quotes a keyword/value connection-string value.
func quote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// Connect opens a connection with p. Errors are pgx's (classify them with Classify); they never contain the
// password.
func Connect(ctx context.Context, p Params) (*pgx.Conn, error) {
	cfg, err := Config(p)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	return pgx.ConnectConfig(ctx, cfg)
}

// ServerInfo describes a server that accepted a connection.
type ServerInfo struct {
	Version    string // SELECT version()
	SSL        bool   // the connection is encrypted (pg_stat_ssl)
	SSLVersion string // e.g. TLSv1.3; "" without TLS
}

// Verify connects with p, asks the server for its version and whether the connection is encrypted, and
// disconnects.
func Verify(ctx context.Context, p Params) (*ServerInfo, error) {
	conn, err := Connect(ctx, p)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	var info ServerInfo
	var sslVersion *string
	if err := conn.QueryRow(ctx, `SELECT version(), COALESCE(s.ssl, false), s.version
		FROM (SELECT 1) AS one LEFT JOIN pg_stat_ssl AS s ON s.pid = pg_backend_pid()`).
		Scan(&info.Version, &info.SSL, &sslVersion); err != nil {
		return nil, err
	}
	if sslVersion != nil {
		info.SSLVersion = *sslVersion
	}
	return &info, nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
