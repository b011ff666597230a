package doctor

// Groups, in the order the report shows them.
const (
	GroupPostgres   = "PostgreSQL"
	GroupDatabricks = "Databricks"
	GroupRotation   = "Rotation"
	GroupSecurity   = "Security"
)

// All returns every check, in the report's order.
func All(d *Deps) []Check {
	return []Check{
		&Func{Name: "env-file", Area: GroupPostgres,
			About: ".env exists, parses, and has the POSTGRES_* settings",
			Do:    d.checkEnvFile},
		&Func{Name: "pgpass-file", Area: GroupPostgres,
			About: "the password file is a regular file, 0600, every line well formed",
			Do:    d.checkPgpassFile, Plan: d.planPgpassMode, Apply: d.fixPgpassMode},
		&Func{Name: "pg-password-source", Area: GroupPostgres, Deps: []string{"env-file"},
			About: "PGPASSWORD is set or the password file has an entry for the connection (and no wildcard line hides it)",
			Do:    d.checkPasswordSource},
		&Func{Name: "pg-dns", Area: GroupPostgres, Deps: []string{"env-file"},
			About: "POSTGRES_HOST resolves",
			Do:    d.checkPgDNS},
		&Func{Name: "pg-tcp", Area: GroupPostgres, Deps: []string{"pg-dns"},
			About: "POSTGRES_HOST:POSTGRES_PORT accepts TCP connections",
			Do:    d.checkPgTCP},
		&Func{Name: "pg-login", Area: GroupPostgres, Deps: []string{"env-file", "pg-password-source", "pg-tcp"},
			About: "logs in over TLS and runs SELECT version(); says whether the session is encrypted",
			Do:    d.checkPgLogin},
		&Func{Name: "database-url", Area: GroupPostgres, Deps: []string{"env-file"},
			About: "DATABASE_URL matches POSTGRES_*, encodes the user, fits its scheme's TLS parameter, has no literal password",
			Do:    d.checkDatabaseURL},

		&Func{Name: "databricks-cli", Area: GroupDatabricks,
			About: "the Databricks CLI is installed and modern (v0.205+, not the legacy pip CLI)",
			Do:    d.checkDatabricksCLI},
		&Func{Name: "databricks-login", Area: GroupDatabricks, Deps: []string{"env-file", "databricks-cli"},
			About: "the CLI is logged in to DATABRICKS_HOST (databricks auth describe)",
			Do:    d.checkDatabricksLoginConfigured},
		&Func{Name: "oauth-token", Area: GroupDatabricks, Deps: []string{"env-file"},
			About: "DATABRICKS_OAUTH_TOKEN is a JWT from DATABRICKS_HOST, not expired (warns under 15 minutes)",
			Do:    d.checkOAuthToken},
		&Func{Name: "oauth-token-api", Area: GroupDatabricks, Deps: []string{"oauth-token"},
			About: "the workspace accepts the token (SCIM Me answers 200)",
			Do:    d.checkOAuthTokenAPI},
		&Func{Name: "clock-skew", Area: GroupDatabricks, Deps: []string{"env-file"},
			About: "the local clock agrees with the workspace's Date header (warns over 2 minutes)",
			Do:    d.checkClockSkewConfigured},

		&Func{Name: "rotation-schedule", Area: GroupRotation,
			About: "the rotation schedule is installed, active, and still matches this binary and project",
			Do:    d.checkRotationSchedule},
		&Func{Name: "rotation-log", Area: GroupRotation,
			About: "the last rotation in logs/oauth-rotation.log succeeded and is recent",
			Do:    d.checkRotationLog},

		&Func{Name: "secrets-ignored", Area: GroupSecurity,
			About: ".env, .pgpass copies and logs/ are git-ignored",
			Do:    d.checkSecretsIgnored, Plan: d.planSecretsIgnored, Apply: d.fixSecretsIgnored},
		&Func{Name: "secrets-tracked", Area: GroupSecurity,
			About: ".env is not tracked by git (and never was)",
			Do:    d.checkSecretsTracked},
		&Func{Name: "env-file-mode", Area: GroupSecurity,
			About: ".env (which holds the token) is readable only by you (0600)",
			Do:    d.checkEnvFileMode, Plan: d.planEnvFileMode, Apply: d.fixEnvFileMode},
		&Func{Name: "hardcoded-password", Area: GroupSecurity,
			About: "no literal password in .env or as export PGPASSWORD=... in shell start-up files",
			Do:    d.checkHardcodedPassword},
	}
}
