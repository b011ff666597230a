package pg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Cause is what kind of failure a connection attempt ran into.
type Cause string

// The causes Classify tells apart.
const (
	CauseWrongPassword      Cause = "wrong-password"       // 28P01
	CauseNoHBAOrSSL         Cause = "no-hba-or-ssl"        // 28000: no pg_hba.conf entry (e.g. not encrypted)
	CauseNoDatabase         Cause = "no-database"          // 3D000
	CauseNoConnectPrivilege Cause = "no-connect-privilege" // 42501
	CauseDNS                Cause = "dns"                  // host name unknown
	CauseRefused            Cause = "refused"              // nothing listens on host:port
	CauseTimeout            Cause = "timeout"              // no answer in time
	CauseTLSRefused         Cause = "tls-refused"          // server without TLS while sslmode requires it
	CauseOther              Cause = "other"
)

// Problem is a connection failure explained. Message is one line and never contains the password; Fix is an
// exact command or action.
type Problem struct {
	Cause   Cause
	Message string
	Fix     string
}

// Error returns the message, so a *Problem can be returned as an error.
func (pr *Problem) Error() string { return pr.Message }

// Unreachable reports whether the server could not be reached at all (DNS, refused, timeout, TLS refused):
// worth a retry, not a reason to doubt the password.
func (c Cause) Unreachable() bool {
	return c == CauseDNS || c == CauseRefused || c == CauseTimeout || c == CauseTLSRefused
}

// Classify explains err from Connect, Verify or a query on a fresh connection made with p. It returns nil for
// a nil err. The wizard, the doctor and the password command all use it, so the same failure reads the same
// everywhere.
func Classify(err error, p Params) *Problem {
	if err == nil {
		return nil
	}
	var already *Problem
	if errors.As(err, &already) {
		return already
	}
	pr := classify(err, p)
	pr.Message = Redact(pr.Message, p.Password)
	pr.Fix = Redact(pr.Fix, p.Password)
	return pr
}

func classify(err error, p Params) *Problem {
	addr := p.Addr()
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01":
			return &Problem{Cause: CauseWrongPassword,
				Message: fmt.Sprintf("password authentication failed for %s at %s", p.User, addr),
				Fix: "Save the role's current password with: voyce-auth password " +
					"(for an OAuth role, whose password is a 1-hour token, run: voyce-auth rotate)"}
		case "28000":
			fix := fmt.Sprintf("Check the user name (%s) and ask the workspace admin to allow this role on the "+
				"instance; Lakebase accepts only TLS connections", p.User)
			if m := p.sslMode(); m == "disable" || m == "allow" || m == "prefer" {
				fix = fmt.Sprintf("Use sslmode=require (it is %s now; Lakebase accepts only TLS connections): "+
					"set it in .env and run the command again", m)
			}
			return &Problem{Cause: CauseNoHBAOrSSL,
				Message: fmt.Sprintf("the server at %s refused the login: %s", addr, oneLine(pgErr.Message)),
				Fix:     fix}
		case "3D000":
			return &Problem{Cause: CauseNoDatabase,
				Message: fmt.Sprintf("database %q does not exist on %s", p.Database, addr),
				Fix: "Set the database to the one that exists (on Lakebase: databricks_postgres) in .env, " +
					"or create it: CREATE DATABASE " + quoteIdent(p.Database) + ";"}
		case "42501":
			return &Problem{Cause: CauseNoConnectPrivilege,
				Message: fmt.Sprintf("role %s may not connect to database %q on %s", p.User, p.Database, addr),
				Fix: fmt.Sprintf("Ask the database owner to run: GRANT CONNECT ON DATABASE %s TO %s;",
					quoteIdent(p.Database), quoteIdent(p.User))}
		}
		return &Problem{Cause: CauseOther,
			Message: fmt.Sprintf("the server at %s said: %s (SQLSTATE %s)", addr, oneLine(pgErr.Message), pgErr.Code),
			Fix:     "Check the connection settings in .env; if they are right, try again later or ask the workspace admin"}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && !dnsErr.IsTimeout {
		return &Problem{Cause: CauseDNS,
			Message: fmt.Sprintf("cannot resolve host %s", p.Host),
			Fix: "Check the host in .env (copy it from the Lakebase instance's connection details, " +
				"e.g. instance-<uuid>.database.cloud.databricks.com) and your network, VPN or DNS"}
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return &Problem{Cause: CauseRefused,
			Message: fmt.Sprintf("nothing accepts connections at %s (connection refused)", addr),
			Fix:     "Check the host and port in .env (Lakebase uses port 5432) and that the database instance is running"}
	}
	if isTimeout(err) {
		return &Problem{Cause: CauseTimeout,
			Message: fmt.Sprintf("no answer from %s within %s", addr, p.timeout()),
			Fix: fmt.Sprintf("Check that this network allows outbound TCP to %s (VPN, firewall, proxy) and that "+
				"the host in .env is right, then try again", addr)}
	}
	if strings.Contains(err.Error(), "server refused TLS connection") {
		return &Problem{Cause: CauseTLSRefused,
			Message: fmt.Sprintf("the server at %s does not offer TLS, and sslmode=%s requires it", addr, p.sslMode()),
			Fix: "Check the host in .env: Lakebase always offers TLS, so this is a different server " +
				"(keep sslmode=require)"}
	}
	return &Problem{Cause: CauseOther,
		Message: fmt.Sprintf("connecting to %s failed: %s", addr, oneLine(err.Error())),
		Fix:     "Check the connection settings in .env and your network, then try again"}
}

func isTimeout(err error) bool {
	if pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Redact replaces every occurrence of secret in s with "********".
func Redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "********")
}

// quoteIdent quotes a SQL identifier ("dev.user@example.com" -> "\"dev.user@example.com\"").
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
