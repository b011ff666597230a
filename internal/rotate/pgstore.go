package rotate

import (
	"fmt"
	"strconv"

	"github.com/voyce/voyce-auth/internal/config"
	"github.com/voyce/voyce-auth/internal/pgpass"
	"github.com/voyce/voyce-auth/internal/safefile"
)

// PgpassStore keeps the database credential in a libpq password file, in the entry for the .env's
// Postgres connection.
type PgpassStore struct {
	Path  string
	Entry pgpass.Conn
}

// NewPgpassStore returns the store for the connection in pg, or an error naming what is missing.
func NewPgpassStore(path string, pg config.Postgres) (*PgpassStore, error) {
	if pg.Host == "" || pg.User == "" {
		return nil, fmt.Errorf("the Postgres connection (%s, %s) is not set in .env", config.KeyPostgresHost, config.KeyPostgresUser)
	}
	return &PgpassStore{Path: path, Entry: pgpass.Conn{Host: pg.Host, Port: strconv.Itoa(pg.Port), Database: pg.Database, User: pg.User}}, nil
}

// Current implements PGStore.
func (s *PgpassStore) Current() (string, bool, error) {
	f, exists, err := pgpass.ReadFile(s.Path)
	if err != nil || !exists {
		return "", false, err
	}
	pw, _, ok := f.Lookup(s.Entry)
	return pw, ok, nil
}

// Save implements PGStore.
func (s *PgpassStore) Save(password string) error {
	_, _, err := pgpass.UpsertFile(s.Path, pgpass.Entry{Host: s.Entry.Host, Port: s.Entry.Port, Database: s.Entry.Database,
		User: s.Entry.User, Password: password}, safefile.Options{})
	return err
}

// Describe implements PGStore.
func (s *PgpassStore) Describe() string {
	return fmt.Sprintf("%s (entry %s:%s:%s:%s)", s.Path, s.Entry.Host, s.Entry.Port, s.Entry.Database, s.Entry.User)
}
