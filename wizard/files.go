package wizard

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/voyce/voyce-auth/internal/config"
	"github.com/voyce/voyce-auth/internal/dburl"
	"github.com/voyce/voyce-auth/internal/dotenv"
	"github.com/voyce/voyce-auth/internal/pg"
	"github.com/voyce/voyce-auth/internal/pgpass"
	"github.com/voyce/voyce-auth/internal/safefile"
)

// Files is the real Store: .env through internal/config (the one place that knows the keys), .pgpass through
// internal/pgpass, DATABASE_URL through internal/dburl, and .gitignore through EnsureIgnored.
type Files struct {
	Env    string // the project's .env (absolute)
	Pgpass string // the password file (absolute)
	Getenv func(string) string
	// EnsureIgnored makes sure .env, .pgpass and logs/ are git-ignored in the project. It returns the file it
	// changed and one line saying what it added ("" when nothing was needed). nil: not done.
	EnsureIgnored func() (path, change string, err error)
	// BackupPgpass keeps the previous password file in PATH.bak (0600).
	BackupPgpass bool
}

// EnvFile implements Store.
func (s *Files) EnvFile() string { return s.Env }

// PgpassFile implements Store.
func (s *Files) PgpassFile() string { return s.Pgpass }

func (s *Files) getenv(k string) string {
	if s.Getenv == nil {
		return ""
	}
	return s.Getenv(k)
}

// Load implements Store. A missing .env is an empty state; a bad value (e.g. POSTGRES_PORT) is ignored
// here, since the wizard asks for every value again.
func (s *Files) Load() (State, error) {
	st, _, err := config.Load(s.Env, s.getenv)
	if err != nil && (errors.Is(err, config.ErrNoEnvFile) || st == nil) {
		if errors.Is(err, config.ErrNoEnvFile) {
			return State{}, nil
		}
		return State{}, err
	}
	return State{
		Conn: Conn{Host: st.Postgres.Host, Port: st.Postgres.Port, Database: st.Postgres.Database,
			User: st.Postgres.User, SSLMode: st.Postgres.SSLMode},
		DatabricksHost: st.Databricks.Host,
		Profile:        st.Databricks.Profile,
		Token:          st.Databricks.Token,
		Hook:           st.Rotation.PostRotateHook,
		HasHook:        st.Rotation.PostRotateHook != "",
	}, nil
}

func pgpassConn(c Conn) pgpass.Conn {
	return pgpass.Conn{Host: c.Host, Port: strconv.Itoa(c.Port), Database: c.Database, User: c.User}
}

// SavedPassword implements Store: the password libpq would take from the file for c.
func (s *Files) SavedPassword(c Conn) (string, bool, error) {
	f, _, err := pgpass.ReadFile(s.Pgpass)
	if err != nil {
		return "", false, err
	}
	p, _, ok := f.Lookup(pgpassConn(c))
	return p, ok, nil
}

// CheckPassword implements Store: the password must be storable in .pgpass so that libpq and pgx agree, and
// usable the same way by every client.
func (s *Files) CheckPassword(password string) error {
	if err := pgpass.ValidatePassword(password); err != nil {
		return &Problem{Message: err.Error()}
	}
	if err := pg.CheckPassword(password); err != nil {
		return &Problem{Message: err.Error()}
	}
	return nil
}

// Save implements Store: .pgpass first (the entry the connection was verified with), then .env in one
// atomic write, then .gitignore.
func (s *Files) Save(ch Changes) ([]FileChange, error) {
	var out []FileChange
	if ch.Password != nil && ch.Postgres != nil {
		c := *ch.Postgres
		ur, res, err := pgpass.UpsertFile(s.Pgpass, pgpass.Entry{Host: c.Host, Port: strconv.Itoa(c.Port),
			Database: c.Database, User: c.User, Password: *ch.Password}, safefile.Options{Backup: s.BackupPgpass})
		if err != nil {
			return out, fmt.Errorf("%s: %w", s.Pgpass, err)
		}
		fc := FileChange{Path: s.Pgpass}
		key := fmt.Sprintf("%s:%d:%s:%s", c.Host, c.Port, c.Database, c.User)
		switch {
		case ur.Action == pgpass.Unchanged:
		case res.Created:
			fc.Changes = append(fc.Changes, "created (mode 0600) with the entry for "+key)
		case ur.Action == pgpass.Replaced:
			fc.Changes = append(fc.Changes, fmt.Sprintf("new password for %s (line %d)", key, ur.Line))
		default:
			fc.Changes = append(fc.Changes, fmt.Sprintf("%s the entry for %s: %s", ur.Action, key, ur))
		}
		if res.TightenedFrom != 0 {
			fc.Changes = append(fc.Changes, fmt.Sprintf("permissions tightened from %04o to 0600, as libpq requires", res.TightenedFrom))
		}
		if res.BackupPath != "" {
			fc.Changes = append(fc.Changes, "previous version kept in "+res.BackupPath)
		}
		out = append(out, fc)
	}

	edit, err := s.envEdit(ch)
	if err != nil {
		return out, err
	}
	if len(edit.Set) > 0 || len(edit.Unset) > 0 {
		res, err := config.Save(s.Env, edit, safefile.Options{})
		if err != nil {
			return out, fmt.Errorf("%s: %w", s.Env, err)
		}
		fc := FileChange{Path: s.Env}
		if len(res.ChangedKeys) > 0 {
			what := "set "
			if res.Created {
				what = "created (mode 0600) with "
			}
			fc.Changes = append(fc.Changes, what+strings.Join(res.ChangedKeys, ", "))
		}
		if res.TightenedFrom != 0 {
			fc.Changes = append(fc.Changes, fmt.Sprintf("permissions tightened from %04o to 0600", res.TightenedFrom))
		}
		if res.BackupPath != "" && res.Changed {
			fc.Changes = append(fc.Changes, "previous version kept in "+res.BackupPath)
		}
		out = append(out, fc)
	}

	if s.EnsureIgnored != nil {
		path, change, err := s.EnsureIgnored()
		if err != nil {
			return out, fmt.Errorf(".gitignore: %w", err)
		}
		if change != "" {
			out = append(out, FileChange{Path: path, Changes: []string{change}})
		}
	}
	return out, nil
}

// envEdit is the .env part of ch.
func (s *Files) envEdit(ch Changes) (config.Edit, error) {
	e := config.Edit{Set: map[string]string{}}
	if c := ch.Postgres; c != nil {
		_, f, err := config.Load(s.Env, s.getenv)
		if err != nil && !errors.Is(err, config.ErrNoEnvFile) && f == nil {
			return e, err
		}
		var existingURL, existingPW string
		var hasPW bool
		if f != nil {
			existingURL, _ = f.Lookup(config.KeyDatabaseURL)
			existingPW, hasPW = f.Lookup(config.KeyPostgresPassword)
		}
		e.Set[config.KeyPostgresHost] = c.Host
		e.Set[config.KeyPostgresPort] = strconv.Itoa(c.Port)
		e.Set[config.KeyPostgresDB] = c.Database
		e.Set[config.KeyPostgresUser] = c.User
		e.Set[config.KeyPostgresSSLMode] = c.SSLMode
		// The password itself never goes into .env: POSTGRES_PASSWORD stays (or becomes) a reference. Another
		// reference someone chose (e.g. ${DB_PASSWORD}) is left alone.
		if !hasPW || !dotenv.HasReference(existingPW) {
			e.Set[config.KeyPostgresPassword] = config.PasswordReference
		}
		e.Set[config.KeyDatabaseURL] = dburl.Update(existingURL, c.Host, c.Port, c.Database, c.User, c.SSLMode)
	}
	if d := ch.Databricks; d != nil {
		e.Set[config.KeyDatabricksHost] = d.Host
		e.Set[config.KeyDatabricksProfile] = d.Profile
		e.Set[config.KeyOAuthToken] = d.Token
	}
	if ch.Hook != nil {
		if *ch.Hook == "" {
			e.Unset = append(e.Unset, config.KeyPostRotateHook)
		} else {
			e.Set[config.KeyPostRotateHook] = *ch.Hook
		}
	}
	return e, nil
}
