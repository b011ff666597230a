package wizard

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Conn is the PostgreSQL connection the wizard asks about.
type Conn struct {
	Host     string
	Port     int
	Database string
	User     string
	SSLMode  string
}

// Addr is host:port for messages.
func (c Conn) Addr() string { return fmt.Sprintf("%s:%d", c.Host, c.Port) }

// describe is "user at host:port/database (sslmode=...)" for messages.
func (c Conn) describe() string {
	return fmt.Sprintf("%s at %s/%s (sslmode=%s)", c.User, c.Addr(), c.Database, c.SSLMode)
}

// State is the setup found on disk before the wizard starts.
type State struct {
	Conn           Conn   // from POSTGRES_* in .env (zero fields when missing)
	DatabricksHost string // DATABRICKS_HOST
	Profile        string // DATABRICKS_CONFIG_PROFILE
	Token          string // DATABRICKS_OAUTH_TOKEN (never printed)
	Hook           string // VOYCE_POST_ROTATE_HOOK
	HasHook        bool
}

// HasPostgres reports whether .env already names a Postgres host and user.
func (s State) HasPostgres() bool { return s.Conn.Host != "" && s.Conn.User != "" }

// Changes is what one save writes. nil fields are left alone.
type Changes struct {
	// Postgres sets POSTGRES_* and DATABASE_URL in .env.
	Postgres *Conn
	// Password upserts the .pgpass entry for *Postgres.
	Password *string
	// Databricks sets DATABRICKS_HOST, DATABRICKS_CONFIG_PROFILE and DATABRICKS_OAUTH_TOKEN.
	Databricks *DatabricksSettings
	// Hook sets VOYCE_POST_ROTATE_HOOK ("" removes it).
	Hook *string
}

// DatabricksSettings are the Databricks values saved in .env.
type DatabricksSettings struct {
	Host    string
	Profile string
	Token   string
}

// FileChange says what a save did to one file, in words without secrets. No Changes: the file was
// already right and was not rewritten.
type FileChange struct {
	Path    string
	Changes []string
}

// Store reads the current setup and saves changes to .env, .pgpass and .gitignore.
type Store interface {
	EnvFile() string
	PgpassFile() string
	Load() (State, error)
	// SavedPassword returns the .pgpass password libpq would use for c.
	SavedPassword(c Conn) (password string, ok bool, err error)
	// CheckPassword reports why a password cannot be stored in .pgpass (nil when it can).
	CheckPassword(password string) error
	// Save writes ch in one step per file and says what changed.
	Save(ch Changes) ([]FileChange, error)
}

// Cause sorts a failure into what the wizard does next.
type Cause int

const (
	// CauseOther: the answers are wrong in a way only the person can fix (no such database, no access,
	// pg_hba) or something unknown.
	CauseOther Cause = iota
	// CauseWrongPassword: the server refused the password (28P01).
	CauseWrongPassword
	// CauseUnreachable: DNS, refused, timeout, TLS refused: the network or server, worth a retry.
	CauseUnreachable
	// CauseNotLoggedIn: the Databricks CLI has no login for the workspace (run auth login).
	CauseNotLoggedIn
)

// Problem is a failure explained: what happened and the fix. It is an error.
type Problem struct {
	Cause   Cause
	Message string // one line, no secret
	Fix     string // what to do, may be "" or several lines
}

func (p *Problem) Error() string { return p.Message }

// problemText is the one-line text of err (a *Problem's message).
func problemText(err error) string {
	var p *Problem
	if errors.As(err, &p) {
		return p.Message
	}
	return err.Error()
}

// Postgres verifies a connection.
type Postgres interface {
	// Validate checks one answer ("host", "port", "database", "user", "sslmode") and returns the
	// reason it is not accepted. warning is advice that does not refuse the value.
	Validate(field, value string) (warning string, err error)
	// Verify connects with TLS as asked and runs SELECT version(); it returns a short server description.
	// Its errors are *Problem (the cause, a message without the password, the fix).
	Verify(ctx context.Context, c Conn, password string) (server string, err error)
}

// TokenInfo is what the wizard shows about an OAuth token.
type TokenInfo struct {
	Subject string
	Scopes  []string
	Expiry  time.Time
	// Remaining is the time left, measured with the injected clock.
	Remaining time.Duration
}

// Databricks runs the Databricks CLI and judges its tokens. Errors are *Problem where a fix is known.
type Databricks interface {
	// CheckCLI finds a usable CLI (modern, new enough) and returns its version.
	CheckCLI(ctx context.Context) (version string, err error)
	// Login runs `databricks auth login --host H --profile P` attached to the terminal.
	Login(ctx context.Context, host, profile string) error
	// Token runs `databricks auth token` and returns the access token. A *Problem with CauseNotLoggedIn
	// means "log in first".
	Token(ctx context.Context, host, profile string) (string, error)
	// Inspect decodes and checks a token: well formed, not expired, issuer matches host.
	Inspect(token, host string) (TokenInfo, error)
	// ValidateHost checks a workspace URL (https, or http on loopback) and returns its normal form.
	ValidateHost(raw string) (string, error)
}
