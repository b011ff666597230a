package wizard

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// fakeStore keeps the setup in memory.
type fakeStore struct {
	state  State
	pgpass map[Conn]string
	saves  []Changes
	err    error
}

func (s *fakeStore) EnvFile() string    { return "/proj/.env" }
func (s *fakeStore) PgpassFile() string { return "/home/dev/.pgpass" }
func (s *fakeStore) Load() (State, error) {
	return s.state, nil
}
func (s *fakeStore) SavedPassword(c Conn) (string, bool, error) {
	p, ok := s.pgpass[c]
	return p, ok, nil
}
func (s *fakeStore) CheckPassword(p string) error {
	if strings.ContainsAny(p, "\n") || strings.TrimSpace(p) != p {
		return &Problem{Message: "a password cannot start or end with a space or hold a newline"}
	}
	return nil
}
func (s *fakeStore) Save(ch Changes) ([]FileChange, error) {
	if s.err != nil {
		return nil, s.err
	}
	s.saves = append(s.saves, ch)
	var out []FileChange
	if ch.Password != nil {
		if s.pgpass == nil {
			s.pgpass = map[Conn]string{}
		}
		s.pgpass[*ch.Postgres] = *ch.Password
		out = append(out, FileChange{Path: s.PgpassFile(), Changes: []string{"set the entry for " + ch.Postgres.Addr()}})
	}
	if ch.Postgres != nil {
		s.state.Conn = *ch.Postgres
		out = append(out, FileChange{Path: s.EnvFile(), Changes: []string{"set POSTGRES_HOST"}})
	}
	if ch.Databricks != nil {
		s.state.DatabricksHost, s.state.Profile, s.state.Token = ch.Databricks.Host, ch.Databricks.Profile, ch.Databricks.Token
		out = append(out, FileChange{Path: s.EnvFile(), Changes: []string{"set DATABRICKS_OAUTH_TOKEN"}})
	}
	if ch.Hook != nil {
		s.state.Hook, s.state.HasHook = *ch.Hook, true
	}
	return out, nil
}

// fakePG answers Verify from a list of results (nil = success), then succeeds.
type fakePG struct {
	results   []error
	passwords []string // passwords Verify was called with
	conns     []Conn
}

var errWrongPassword = &Problem{Cause: CauseWrongPassword, Message: "password authentication failed", Fix: "check the password"}
var errUnreachable = &Problem{Cause: CauseUnreachable, Message: "connection refused", Fix: "check the host and port"}
var errNoDB = &Problem{Cause: CauseOther, Message: "database does not exist", Fix: "check the database name"}

func (f *fakePG) Validate(field, v string) (string, error) {
	switch field {
	case "host":
		if v == "" || strings.ContainsAny(v, " /:") {
			return "", errors.New("host must be a host name or IP address")
		}
	case "port":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return "", errors.New("port must be a number from 1 to 65535")
		}
	case "user":
		if v == "" {
			return "", errors.New("user must not be empty")
		}
		if !strings.Contains(v, "@") {
			return "Lakebase user names are e-mail addresses", nil
		}
	case "database", "sslmode":
		if v == "" {
			return "", fmt.Errorf("%s must not be empty", field)
		}
	}
	return "", nil
}

func (f *fakePG) Verify(ctx context.Context, c Conn, pw string) (string, error) {
	f.passwords = append(f.passwords, pw)
	f.conns = append(f.conns, c)
	if len(f.results) == 0 {
		return "PostgreSQL 16.4, TLS", nil
	}
	r := f.results[0]
	f.results = f.results[1:]
	if r == nil {
		return "PostgreSQL 16.4, TLS", nil
	}
	return "", r
}

// fakeDB is the Databricks side.
type fakeDB struct {
	cliErr   error
	loggedIn bool
	loginErr error
	logins   []string
	now      time.Time
}

const fakeToken = "eyJhbGciOiJSUzI1NiJ9.fake.token"

func (f *fakeDB) CheckCLI(ctx context.Context) (string, error) {
	if f.cliErr != nil {
		return "", f.cliErr
	}
	return "v0.240.0", nil
}
func (f *fakeDB) Login(ctx context.Context, host, profile string) error {
	f.logins = append(f.logins, host+" "+profile)
	if f.loginErr != nil {
		return f.loginErr
	}
	f.loggedIn = true
	return nil
}
func (f *fakeDB) Token(ctx context.Context, host, profile string) (string, error) {
	if !f.loggedIn {
		return "", &Problem{Cause: CauseNotLoggedIn, Message: "not logged in to " + host, Fix: "databricks auth login --host " + host}
	}
	return fakeToken, nil
}
func (f *fakeDB) Inspect(tok, host string) (TokenInfo, error) {
	return TokenInfo{Subject: "dev.user@example.com", Scopes: []string{"all-apis", "offline_access"},
		Expiry: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC), Remaining: 59 * time.Minute}, nil
}
func (f *fakeDB) ValidateHost(raw string) (string, error) {
	if !strings.HasPrefix(raw, "https://") {
		return "", errors.New("the workspace URL must start with https://")
	}
	return strings.TrimRight(raw, "/"), nil
}
