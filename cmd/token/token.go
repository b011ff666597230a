// Package token implements 'voyce-auth token': what the Databricks OAuth token in .env is and when it
// expires. It never prints the token itself.
package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/config"
	"github.com/voyce/voyce-auth/internal/databricks"
	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/token"
)

// Options are the command's inputs.
type Options struct {
	IO       *iostreams.IOStreams
	Clock    clock.Clock
	Getenv   func(string) string
	EnvFile  string
	JSON     bool
	Location *time.Location // local time zone for display; nil means time.Local
}

// NewCmd returns the 'token' command.
func NewCmd(f *cmdutil.Factory) *cmdutil.Command {
	opts := &Options{}
	fs := cmdutil.NewFlagSet("token")
	fs.BoolVar(&opts.JSON, "json", false, "print the same as one JSON object")
	return &cmdutil.Command{
		Name:  "token",
		Short: "Show what the current Databricks OAuth token is and when it expires",
		Usage: "voyce-auth token [--json]",
		Long: `Show what the Databricks OAuth token in .env (DATABRICKS_OAUTH_TOKEN) is: subject, client_id, scopes,
issuer, audience, issued and expiry times (local and UTC), minutes left, and whether it is valid
(well-formed, exp present and in the future, issuer matching DATABRICKS_HOST). The token itself is never
printed. Exit 0 when valid, 1 otherwise (with the fix).`,
		Examples: `  $ voyce-auth token
  $ voyce-auth token --json | jq .expires_in_minutes
  $ voyce-auth token --env-file ~/src/voyce/.env`,
		Flags: fs,
		Run: func(args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("token: takes no arguments, got %q", args[0])
			}
			opts.IO, opts.Clock, opts.Getenv = f.IO, f.Clock, f.Getenv
			opts.EnvFile = f.EnvFile()
			return Run(opts)
		},
	}
}

// Report is the --json output.
type Report struct {
	EnvFile          string    `json:"env_file"`
	Host             string    `json:"host,omitempty"`
	Valid            bool      `json:"valid"`
	Status           string    `json:"status"`
	Message          string    `json:"message"`
	Fix              string    `json:"fix,omitempty"`
	Subject          string    `json:"subject,omitempty"`
	ClientID         string    `json:"client_id,omitempty"`
	Scopes           []string  `json:"scopes,omitempty"`
	Issuer           string    `json:"issuer,omitempty"`
	ExpectedIssuer   string    `json:"expected_issuer,omitempty"`
	Audience         []string  `json:"audience,omitempty"`
	IssuedAt         time.Time `json:"issued_at,omitzero"`
	IssuedAtUTC      time.Time `json:"issued_at_utc,omitzero"`
	ExpiresAt        time.Time `json:"expires_at,omitzero"`
	ExpiresAtUTC     time.Time `json:"expires_at_utc,omitzero"`
	ExpiresInMinutes *int      `json:"expires_in_minutes,omitempty"`
}

// Inspect builds the report for the token in envFile.
func Inspect(envFile string, now time.Time, loc *time.Location, getenv func(string) string) (*Report, error) {
	s, _, err := config.Load(envFile, getenv)
	if s == nil {
		if errors.Is(err, config.ErrNoEnvFile) {
			return nil, fmt.Errorf("%w; run voyce-auth setup (or pass --env-file PATH)", err)
		}
		return nil, err
	}
	if loc == nil {
		loc = time.Local
	}
	host := s.Databricks.Host
	r := &Report{EnvFile: envFile, Host: host, ExpectedIssuer: token.ExpectedIssuer(host)}
	v := token.Check(s.Databricks.Token, now, host)
	r.Status, r.Message, r.Valid = v.Status.String(), v.Message, v.Valid()
	if i := v.Info; i != nil {
		r.Subject, r.ClientID, r.Scopes, r.Issuer, r.Audience = i.Subject, i.ClientID, i.Scopes, i.Issuer, i.Audience
		if !i.IssuedAt.IsZero() {
			r.IssuedAt, r.IssuedAtUTC = i.IssuedAt.In(loc), i.IssuedAt.UTC()
		}
		if !i.ExpiresAt.IsZero() {
			r.ExpiresAt, r.ExpiresAtUTC = i.ExpiresAt.In(loc), i.ExpiresAt.UTC()
			m := int(i.ExpiresAt.Sub(now) / time.Minute)
			r.ExpiresInMinutes = &m
		}
	}
	login := databricks.LoginCommand(host, s.Databricks.Profile)
	switch v.Status {
	case token.Missing:
		r.Message = config.KeyOAuthToken + " is not set in " + envFile
		r.Fix = "voyce-auth rotate --force (it asks the Databricks CLI for a token); if the CLI is not logged in: " + login
	case token.Malformed, token.NoExpiry:
		r.Fix = "voyce-auth rotate --force (replaces it with a fresh token from the Databricks CLI)"
	case token.Expired:
		r.Fix = "voyce-auth rotate; if the CLI's login has expired too: " + login
	case token.IssuerMismatch:
		r.Fix = "voyce-auth rotate --force (gets a token for DATABRICKS_HOST), or correct DATABRICKS_HOST in " + envFile
	}
	if host == "" && v.Status == token.Valid {
		r.Valid, r.Status = false, "issuer mismatch"
		r.Message = config.KeyDatabricksHost + " is not set in " + envFile + ", so the token's issuer cannot be checked"
		r.Fix = "voyce-auth setup"
	} else if host == "" {
		r.Fix = "voyce-auth setup"
	}
	return r, nil
}

// Run runs the command.
func Run(opts *Options) error {
	r, err := Inspect(opts.EnvFile, opts.Clock.Now(), opts.Location, opts.Getenv)
	if err != nil {
		return err
	}
	if opts.JSON {
		b, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintln(opts.IO.Out, string(b))
	} else {
		printText(opts.IO, r)
	}
	if !r.Valid {
		return cmdutil.ErrSilent
	}
	return nil
}

func printText(io *iostreams.IOStreams, r *Report) {
	cs := io.ColorScheme()
	w := io.Out
	if r.Subject != "" || r.Issuer != "" || r.ExpiresInMinutes != nil {
		fmt.Fprintf(w, "Databricks OAuth token in %s\n", r.EnvFile)
		row := func(k, v string) {
			if v != "" {
				fmt.Fprintf(w, "  %-19s %s\n", k, v)
			}
		}
		row("subject", r.Subject)
		row("client_id", r.ClientID)
		row("scopes", strings.Join(r.Scopes, " "))
		row("issuer", r.Issuer)
		row("audience", strings.Join(r.Audience, " "))
		if !r.IssuedAt.IsZero() {
			row("issued", both(r.IssuedAt, r.IssuedAtUTC))
		}
		if !r.ExpiresAt.IsZero() {
			row("expires", both(r.ExpiresAt, r.ExpiresAtUTC))
		}
		if r.ExpiresInMinutes != nil {
			row("expires_in_minutes", fmt.Sprint(*r.ExpiresInMinutes))
		}
	}
	if r.Valid {
		fmt.Fprintf(w, "%s valid: %s\n", cs.SuccessIcon(), r.Message)
		return
	}
	fmt.Fprintf(w, "%s not valid (%s): %s\n", cs.FailureIcon(), r.Status, r.Message)
	if r.Fix != "" {
		fmt.Fprintf(w, "  fix: %s\n", r.Fix)
	}
}

func both(local, utc time.Time) string {
	if _, off := local.Zone(); off == 0 && local.Format("MST") == "UTC" {
		return utc.Format("2006-01-02 15:04:05 UTC")
	}
	return local.Format("2006-01-02 15:04:05 MST") + " (" + utc.Format("15:04:05 UTC") + ")"
}
