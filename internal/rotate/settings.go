package rotate

import (
	"github.com/voyce/voyce-auth/internal/config"
)

// Settings are the values rotation reads from .env (through internal/config).
type Settings struct {
	Host, Profile, Token, Hook, PGInstance string
	// Postgres is the connection the database credential is for.
	Postgres config.Postgres
	// PostgresErr is a bad POSTGRES_* value (it matters only for the database credential).
	PostgresErr error
}

// ErrNoEnv matches the error for a missing .env file.
var ErrNoEnv = config.ErrNoEnvFile

// ReadSettings reads the rotation settings from envFile, resolving references the python-dotenv way.
func ReadSettings(envFile string, getenv func(string) string) (Settings, error) {
	s, _, err := config.Load(envFile, getenv)
	if s == nil {
		return Settings{}, err
	}
	out := Settings{
		Host: s.Databricks.Host, Profile: s.Databricks.Profile, Token: s.Databricks.Token,
		Hook: s.Rotation.PostRotateHook, PGInstance: s.Rotation.PGCredentialInstance,
		Postgres: s.Postgres, PostgresErr: err,
	}
	return out, nil
}
