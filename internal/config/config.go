// Package config is the one place that knows the project's .env key names. It reads the settings into one
// struct (Load) and saves a set of changed keys in one locked, atomic, 0600 write (Save).
//
// Values are read the way the Python backend (python-dotenv) reads them: unquoted, unescaped, and with
// ${NAME} references resolved from the environment and earlier keys, except DATABASE_URL and
// POSTGRES_PASSWORD, which are kept as written so that ${PGPASSWORD} never turns into the password.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/voyce/voyce-auth/internal/dotenv"
	"github.com/voyce/voyce-auth/internal/safefile"
)

// The .env keys.
const (
	KeyPostgresHost         = "POSTGRES_HOST"
	KeyPostgresPort         = "POSTGRES_PORT"
	KeyPostgresDB           = "POSTGRES_DB"
	KeyPostgresUser         = "POSTGRES_USER"
	KeyPostgresPassword     = "POSTGRES_PASSWORD" // stays "${PGPASSWORD}"
	KeyPostgresSSLMode      = "POSTGRES_SSLMODE"
	KeyDatabaseURL          = "DATABASE_URL"
	KeyDatabricksHost       = "DATABRICKS_HOST"
	KeyDatabricksProfile    = "DATABRICKS_CONFIG_PROFILE"
	KeyOAuthToken           = "DATABRICKS_OAUTH_TOKEN"
	KeyPostRotateHook       = "VOYCE_POST_ROTATE_HOOK"
	KeyPGCredentialInstance = "VOYCE_PG_CREDENTIAL_INSTANCE"
)

// Defaults for keys the file leaves out.
const (
	DefaultPort     = 5432
	DefaultDatabase = "databricks_postgres"
	DefaultSSLMode  = "require"
	// PasswordReference is what POSTGRES_PASSWORD holds: the password itself lives in .pgpass/PGPASSWORD.
	PasswordReference = "${PGPASSWORD}"
)

// Keys lists every key config knows, in the order Save appends missing ones.
var Keys = []string{
	KeyPostgresHost, KeyPostgresPort, KeyPostgresDB, KeyPostgresUser, KeyPostgresPassword, KeyPostgresSSLMode,
	KeyDatabaseURL, KeyDatabricksHost, KeyDatabricksProfile, KeyOAuthToken, KeyPostRotateHook,
	KeyPGCredentialInstance,
}

// refKeys hold ${...} references on purpose: they are saved and read as written.
var refKeys = map[string]bool{KeyPostgresPassword: true, KeyDatabaseURL: true}

// ErrNoEnvFile is returned (wrapped) by Load when the .env file does not exist.
var ErrNoEnvFile = errors.New("no .env file")

// Settings are the project's settings from .env.
type Settings struct {
	Postgres   Postgres
	Databricks Databricks
	Rotation   Rotation
}

// Postgres are the POSTGRES_* settings and DATABASE_URL (raw, ${PGPASSWORD} kept).
type Postgres struct {
	Host                                 string
	Port                                 int // DefaultPort when missing
	Database, User, SSLMode, DatabaseURL string
}

// Databricks are the DATABRICKS_* settings. Token is a secret: never print it.
type Databricks struct{ Host, Profile, Token string }

// Rotation are voyce-auth's own settings.
type Rotation struct{ PostRotateHook, PGCredentialInstance string }

// Load reads envPath. A missing file gives an error that matches ErrNoEnvFile (and fs.ErrNotExist). A bad
// value (POSTGRES_PORT) gives a one-line error naming the key, together with the Settings and File read
// from the rest of the file.
func Load(envPath string, getenv func(string) string) (*Settings, *dotenv.File, error) {
	data, err := os.ReadFile(envPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, &noEnvFileError{path: envPath}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", envPath, err)
	}
	f := dotenv.Parse(data)
	s, err := FromFile(f, getenv)
	if err != nil {
		return s, f, fmt.Errorf("%s: %w", envPath, err)
	}
	return s, f, nil
}

type noEnvFileError struct{ path string }

func (e *noEnvFileError) Error() string { return "no .env file at " + e.path }
func (e *noEnvFileError) Is(target error) bool {
	return target == ErrNoEnvFile || target == fs.ErrNotExist
}

// FromFile reads the settings from an already parsed file (see Load).
func FromFile(f *dotenv.File, getenv func(string) string) (*Settings, error) {
	get := func(key string) string {
		if refKeys[key] {
			return strings.TrimSpace(f.Get(key))
		}
		v, _ := f.Resolve(key, getenv)
		return strings.TrimSpace(v)
	}
	s := &Settings{
		Postgres: Postgres{
			Host:        get(KeyPostgresHost),
			Port:        DefaultPort,
			Database:    or(get(KeyPostgresDB), DefaultDatabase),
			User:        get(KeyPostgresUser),
			SSLMode:     or(get(KeyPostgresSSLMode), DefaultSSLMode),
			DatabaseURL: get(KeyDatabaseURL),
		},
		Databricks: Databricks{
			Host:    get(KeyDatabricksHost),
			Profile: get(KeyDatabricksProfile),
			Token:   get(KeyOAuthToken),
		},
		Rotation: Rotation{
			PostRotateHook:       get(KeyPostRotateHook),
			PGCredentialInstance: get(KeyPGCredentialInstance),
		},
	}
	if p := get(KeyPostgresPort); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return s, fmt.Errorf("%s must be a port number from 1 to 65535, got %q", KeyPostgresPort, p)
		}
		s.Postgres.Port = n
	}
	return s, nil
}

func or(v, dflt string) string {
	if v == "" {
		return dflt
	}
	return v
}

// Edit is a set of .env changes saved in one write.
type Edit struct {
	// Set gives keys new values (references allowed only in POSTGRES_PASSWORD and DATABASE_URL).
	Set map[string]string
	// Unset removes keys (every assignment of each).
	Unset []string
}

// SaveResult says what Save did. ChangedKeys holds key names only, never values.
type SaveResult struct {
	safefile.Result
	ChangedKeys []string // keys whose value changed, were added or removed, in the order written
}

// Save applies e to envPath under the lock, in one atomic write (created 0600 when missing, tightened to
// 0600 when looser, backup in envPath.bak when opts.Backup). Keys already holding the given value are left
// byte for byte; when nothing changes, nothing is written. Any value that cannot be encoded fails the whole
// save, naming the key, and nothing is written.
func Save(envPath string, e Edit, opts safefile.Options) (SaveResult, error) {
	var changed []string
	res, err := safefile.Update(envPath, opts, func(old []byte, _ bool) ([]byte, error) {
		changed = nil
		f := dotenv.Parse(old)
		for _, k := range orderKeys(e.Set) {
			v := e.Set[k]
			var c bool
			var err error
			if refKeys[k] {
				c, err = f.SetWithRefs(k, v)
			} else {
				c, err = f.Set(k, v)
			}
			if err != nil {
				return nil, err
			}
			if c {
				changed = append(changed, k)
			}
		}
		for _, k := range e.Unset {
			if f.Unset(k) {
				changed = append(changed, k)
			}
		}
		return f.Bytes(), nil
	})
	if err != nil {
		return SaveResult{Result: res}, err
	}
	if !res.Changed {
		changed = nil
	}
	return SaveResult{Result: res, ChangedKeys: changed}, nil
}

// orderKeys returns m's keys: known keys in Keys order, then the others sorted.
func orderKeys(m map[string]string) []string {
	var out, other []string
	for _, k := range Keys {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	for k := range m {
		if !contains(Keys, k) {
			other = append(other, k)
		}
	}
	sort.Strings(other)
	return append(out, other...)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
