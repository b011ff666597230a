package password

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/voyce/voyce-auth/internal/config"
	"github.com/voyce/voyce-auth/internal/dotenv"
	"github.com/voyce/voyce-auth/internal/pg"
	"github.com/voyce/voyce-auth/internal/pgpass"
	"github.com/voyce/voyce-auth/internal/safefile"
)

// FileStore is the real Store: connection settings from .env (internal/config), the password in the
// libpq password file (internal/pgpass).
type FileStore struct {
	envPath, pgpassPath string
	getenv              func(string) string
}

// NewFileStore returns the Store for the given .env and password file paths.
func NewFileStore(envPath, pgpassPath string, getenv func(string) string) *FileStore {
	return &FileStore{envPath: envPath, pgpassPath: pgpassPath, getenv: getenv}
}

// EnvFile implements Store.
func (s *FileStore) EnvFile() string { return s.envPath }

// PasswordFile implements Store.
func (s *FileStore) PasswordFile() string { return s.pgpassPath }

// Conn implements Store.
func (s *FileStore) Conn() (pg.Params, error) {
	getenv := s.getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	st, _, err := config.Load(s.envPath, getenv)
	if errors.Is(err, config.ErrNoEnvFile) {
		return pg.Params{}, fmt.Errorf("%v: run 'voyce-auth setup' first, or point --env-file at the project's .env", err)
	}
	if err != nil {
		return pg.Params{}, err
	}
	c := st.Postgres
	var missing []string
	if c.Host == "" {
		missing = append(missing, config.KeyPostgresHost)
	}
	if c.User == "" {
		missing = append(missing, config.KeyPostgresUser)
	}
	if len(missing) > 0 {
		return pg.Params{}, fmt.Errorf("%s has no %s: run 'voyce-auth setup' first", s.envPath, strings.Join(missing, " or "))
	}
	return pg.Params{Host: c.Host, Port: c.Port, Database: c.Database, User: c.User, SSLMode: c.SSLMode}, nil
}

func pgpassConn(p pg.Params) pgpass.Conn {
	return pgpass.Conn{Host: p.Host, Port: strconv.Itoa(p.Port), Database: p.Database, User: p.User}
}

// LiteralPasswordKeys implements Store: the .env keys (POSTGRES_PASSWORD, PGPASSWORD) that hold a password
// written out instead of a ${PGPASSWORD} reference.
func (s *FileStore) LiteralPasswordKeys() []string {
	data, err := os.ReadFile(s.envPath)
	if err != nil {
		return nil
	}
	f := dotenv.Parse(data)
	var keys []string
	for _, k := range []string{config.KeyPostgresPassword, "PGPASSWORD"} {
		if v, ok := f.Lookup(k); ok && strings.TrimSpace(v) != "" && !dotenv.HasReference(v) {
			keys = append(keys, k)
		}
	}
	return keys
}

// Saved implements Store: the password libpq would take from the file for p (first matching line).
func (s *FileStore) Saved(p pg.Params) (string, bool, error) {
	f, _, err := pgpass.ReadFile(s.pgpassPath)
	if err != nil {
		return "", false, err
	}
	pw, _, ok := f.Lookup(pgpassConn(p))
	return pw, ok, nil
}

// CheckStorable implements Store.
func (s *FileStore) CheckStorable(p pg.Params, password string) error {
	c := pgpassConn(p)
	return pgpass.Validate(pgpass.Entry{Host: c.Host, Port: c.Port, Database: c.Database, User: c.User, Password: password})
}

// Save implements Store: upsert the exact entry for p (no backup file: it would keep the old password).
func (s *FileStore) Save(p pg.Params, password string) (bool, string, error) {
	c := pgpassConn(p)
	ur, res, err := pgpass.UpsertFile(s.pgpassPath, pgpass.Entry{Host: c.Host, Port: c.Port, Database: c.Database,
		User: c.User, Password: password}, safefile.Options{})
	if err != nil {
		return false, "", err
	}
	detail := ur.String()
	if res.TightenedFrom != 0 {
		detail += fmt.Sprintf("; tightened its permissions from %04o to 0600, as libpq requires", res.TightenedFrom)
	}
	return res.Changed, detail, nil
}
