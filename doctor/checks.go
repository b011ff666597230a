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
		&Func{Name: "secrets-ignored", Area: GroupSecurity,
			About: ".env, .pgpass copies and logs/ are git-ignored",
			Do:    d.checkSecretsIgnored, Plan: d.planSecretsIgnored, Apply: d.fixSecretsIgnored},
		&Func{Name: "secrets-tracked", Area: GroupSecurity,
			About: ".env is not tracked by git (and never was)",
			Do:    d.checkSecretsTracked},
	}
}
