// Package info implements 'voyce-auth info': the connection details for psql, DBeaver and the backend's
// .env, read from the project's .env and the password file, with secrets masked.
package info

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/internal/config"
	"github.com/voyce/voyce-auth/internal/dburl"
	"github.com/voyce/voyce-auth/internal/dotenv"
	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/pgpass"
)

// Mask stands for every secret in the output; its length says nothing about the secret's.
const Mask = "********"

// Options are the info command's inputs.
type Options struct {
	IO         *iostreams.IOStreams
	EnvFile    string
	PgpassFile string
	Getenv     func(string) string
	JSON       bool
}

// NewCmd returns the 'info' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	opts := &Options{}
	fs := cmdutil.NewFlagSet("info")
	fs.BoolVar(&opts.JSON, "json", false, "print one JSON document instead of text")
	return &cmdutil.Command{
		Name:  "info",
		Short: "Print connection details for psql, DBeaver and the backend .env",
		Usage: "voyce-auth info [flags]",
		Long: `Print the connection details for psql (a correctly encoded URL), DBeaver (host, port, database,
user, SSL mode) and the backend's .env block, read from .env and the password file. Passwords and tokens
are masked; psql and DBeaver take the password from the password file (or type it in).`,
		Examples: `  $ voyce-auth info
  $ voyce-auth info --json | jq -r .psql.url
  $ psql "$(voyce-auth info --json | jq -r .psql.url)" -c 'select 1'`,
		Flags: fs,
		Run: func(args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("info: unexpected argument %q (see 'voyce-auth info --help')", args[0])
			}
			opts.IO = f.IO
			opts.EnvFile = f.EnvFile()
			opts.PgpassFile = f.PgpassFile()
			opts.Getenv = f.Getenv
			return run(opts)
		},
	}
}

// Report is what info prints; it is also the --json document.
type Report struct {
	EnvFile    string     `json:"env_file"`
	PgpassFile string     `json:"pgpass_file"`
	Postgres   Postgres   `json:"postgres"`
	Psql       Psql       `json:"psql"`
	DBeaver    DBeaver    `json:"dbeaver"`
	Backend    Backend    `json:"backend_env"`
	Databricks Databricks `json:"databricks"`
	Notes      []string   `json:"notes"`
}

// Postgres are the connection settings and where the password comes from.
type Postgres struct {
	Host          string `json:"host"`
	Port          int    `json:"port"`
	Database      string `json:"database"`
	User          string `json:"user"`
	SSLMode       string `json:"sslmode"`
	PasswordSaved bool   `json:"password_saved"`
	PasswordLine  int    `json:"password_line,omitempty"` // line of the password file libpq reads it from
	PasswordEnv   bool   `json:"password_in_environment"` // PGPASSWORD is set (and wins over the file)
}

// Psql is the psql command line.
type Psql struct {
	URL     string `json:"url"`
	Command string `json:"command"`
}

// DBeaver are the fields of DBeaver's PostgreSQL connection dialog.
type DBeaver struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Database string `json:"database"`
	Username string `json:"username"`
	Password string `json:"password"` // masked, or "" when none is saved
	SSLMode  string `json:"ssl_mode"`
}

// Backend is the block of .env the backend needs, written as voyce-auth would write it.
type Backend struct {
	Lines []string `json:"lines"`
}

// Databricks are the workspace settings (the token only as set / not set).
type Databricks struct {
	Host     string `json:"host"`
	Profile  string `json:"profile"`
	TokenSet bool   `json:"token_set"`
}

func run(opts *Options) error {
	rep, err := Build(opts.EnvFile, opts.PgpassFile, opts.Getenv)
	if err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "%s\n", err)
		return cmdutil.ErrSilent
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printText(opts.IO.Out, rep)
	return nil
}

// Build reads envFile and pgpassFile and assembles the report. It never holds a password or token.
func Build(envFile, pgpassFile string, getenv func(string) string) (*Report, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	s, file, err := config.Load(envFile, getenv)
	if errors.Is(err, config.ErrNoEnvFile) {
		return nil, fmt.Errorf("no .env file at %s: run 'voyce-auth setup' first, or pass --env-file PATH", envFile)
	}
	if err != nil {
		return nil, err
	}
	pg := s.Postgres
	if pg.Host == "" || pg.User == "" {
		return nil, fmt.Errorf("%s does not name the Postgres host and user (%s, %s): run 'voyce-auth setup' first",
			envFile, config.KeyPostgresHost, config.KeyPostgresUser)
	}
	rep := &Report{
		EnvFile:    envFile,
		PgpassFile: pgpassFile,
		Postgres: Postgres{Host: pg.Host, Port: pg.Port, Database: pg.Database, User: pg.User, SSLMode: pg.SSLMode,
			PasswordEnv: getenv("PGPASSWORD") != ""},
		Databricks: Databricks{Host: s.Databricks.Host, Profile: s.Databricks.Profile, TokenSet: s.Databricks.Token != ""},
		Notes:      []string{},
	}
	if pf, exists, err := pgpass.ReadFile(pgpassFile); err != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("cannot read %s: %v", pgpassFile, err))
	} else if exists {
		if _, line, ok := pf.Lookup(pgpass.Conn{Host: pg.Host, Port: strconv.Itoa(pg.Port), Database: pg.Database, User: pg.User}); ok {
			rep.Postgres.PasswordSaved, rep.Postgres.PasswordLine = true, line
		}
	}
	if !rep.Postgres.PasswordSaved {
		rep.Notes = append(rep.Notes, fmt.Sprintf("no password saved in %s for this connection: run 'voyce-auth setup' (or type the password when asked)", pgpassFile))
	}
	if rep.Postgres.PasswordEnv {
		rep.Notes = append(rep.Notes, "PGPASSWORD is set in this environment: psql and the backend use it instead of the password file")
	}

	rep.Psql.URL = dburl.Libpq(pg.Host, pg.Port, pg.Database, pg.User, pg.SSLMode)
	rep.Psql.Command = `psql "` + rep.Psql.URL + `"`

	rep.DBeaver = DBeaver{Host: pg.Host, Port: pg.Port, Database: pg.Database, Username: pg.User, SSLMode: pg.SSLMode}
	if rep.Postgres.PasswordSaved {
		rep.DBeaver.Password = Mask
	}

	url := dburl.Update(pg.DatabaseURL, pg.Host, pg.Port, pg.Database, pg.User, pg.SSLMode)
	if pg.DatabaseURL != "" && pg.DatabaseURL != url {
		note := fmt.Sprintf("%s in %s differs from the one below", config.KeyDatabaseURL, envFile)
		if u, err := dburl.Parse(pg.DatabaseURL); err == nil && u.WrongTLSParam() == "sslmode" {
			note += " (it uses sslmode=, which asyncpg rejects: the backend needs ssl=)"
		}
		rep.Notes = append(rep.Notes, note+": 'voyce-auth setup' rewrites it")
	}
	block := []struct{ key, value string }{
		{config.KeyPostgresHost, pg.Host},
		{config.KeyPostgresPort, strconv.Itoa(pg.Port)},
		{config.KeyPostgresDB, pg.Database},
		{config.KeyPostgresUser, pg.User},
		{config.KeyPostgresPassword, config.PasswordReference},
		{config.KeyDatabaseURL, url},
	}
	if s.Databricks.Host != "" {
		block = append(block, struct{ key, value string }{config.KeyDatabricksHost, s.Databricks.Host})
	}
	if s.Databricks.Token != "" {
		block = append(block, struct{ key, value string }{config.KeyOAuthToken, Mask})
	}
	for _, kv := range block {
		if kv.value == Mask {
			rep.Backend.Lines = append(rep.Backend.Lines, kv.key+"="+Mask)
			continue
		}
		if cur, ok := file.Lookup(kv.key); ok && cur == kv.value {
			raw, _ := file.RawValue(kv.key)
			rep.Backend.Lines = append(rep.Backend.Lines, kv.key+"="+raw) // as the file has it
			continue
		}
		v, err := dotenv.EncodeValue(kv.key, kv.value)
		if err != nil {
			v = "# " + err.Error()
		}
		rep.Backend.Lines = append(rep.Backend.Lines, kv.key+"="+v)
	}
	return rep, nil
}

func printText(w io.Writer, r *Report) {
	pw := "not saved"
	if r.Postgres.PasswordSaved {
		pw = fmt.Sprintf("%s (saved in %s, line %d)", Mask, r.PgpassFile, r.Postgres.PasswordLine)
	}
	fmt.Fprintf(w, "Connection details from %s\n\n", r.EnvFile)
	fmt.Fprintf(w, "psql (takes the password from %s):\n  %s\n\n", r.PgpassFile, r.Psql.Command)
	fmt.Fprintf(w, "DBeaver (New Database Connection > PostgreSQL):\n")
	rows := [][2]string{
		{"Host", r.DBeaver.Host},
		{"Port", strconv.Itoa(r.DBeaver.Port)},
		{"Database", r.DBeaver.Database},
		{"Username", r.DBeaver.Username},
		{"Password", pw},
		{"SSL mode", r.DBeaver.SSLMode + " (SSL tab: Use SSL, SSL mode " + r.DBeaver.SSLMode + ")"},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-10s %s\n", row[0]+":", row[1])
	}
	fmt.Fprintf(w, "\nBackend .env (the password itself is never in .env; ${PGPASSWORD} refers to it):\n")
	for _, l := range r.Backend.Lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
	if r.Databricks.Host != "" || r.Databricks.Profile != "" {
		fmt.Fprintf(w, "\nDatabricks:\n")
		if r.Databricks.Host != "" {
			fmt.Fprintf(w, "  %-10s %s\n", "Workspace:", r.Databricks.Host)
		}
		if r.Databricks.Profile != "" {
			fmt.Fprintf(w, "  %-10s %s\n", "Profile:", r.Databricks.Profile)
		}
		tok := "not set"
		if r.Databricks.TokenSet {
			tok = Mask + " (" + config.KeyOAuthToken + " in .env; 'voyce-auth token' shows its expiry)"
		}
		fmt.Fprintf(w, "  %-10s %s\n", "Token:", tok)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range r.Notes {
			fmt.Fprintf(w, "Note: %s\n", strings.TrimSpace(n))
		}
	}
}
