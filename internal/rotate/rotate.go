// Package rotate is the rotation engine behind `voyce-auth rotate`: is the token due, the rotation lock,
// the refresh through the Databricks CLI (with retries for transient failures), the checks on the answer,
// the .env write, the log line, the post-rotate hook, and the optional Lakebase database credential.
//
// It is safe to run as often as you like: a token valid for longer than the threshold costs one file read
// and no subprocess.
package rotate

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/config"
	"github.com/voyce/voyce-auth/internal/databricks"
	"github.com/voyce/voyce-auth/internal/dotenv"
	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/internal/safefile"
	"github.com/voyce/voyce-auth/internal/token"
)

// Defaults.
const (
	DefaultThreshold   = 15 * time.Minute
	DefaultLockWait    = 5 * time.Second
	DefaultHookTimeout = 2 * time.Minute
	DefaultRetries     = 2
	DefaultBackoff     = 2 * time.Second
)

// Options say what to do.
type Options struct {
	EnvFile string // the project's .env (absolute)
	LogFile string // "" means LogFile(EnvFile)
	// Threshold: a token valid for longer than this is left alone.
	Threshold time.Duration
	Force     bool // rotate whatever the expiry
	DryRun    bool // say what would be done, change nothing
	// Hook overrides VOYCE_POST_ROTATE_HOOK when not "".
	Hook        string
	HookTimeout time.Duration
	// PGInstance overrides VOYCE_PG_CREDENTIAL_INSTANCE when not "".
	PGInstance string
	// PG is where the database credential is stored; nil means the .pgpass entry (in PgpassFile) for the
	// .env's Postgres connection.
	PG         PGStore
	PgpassFile string
	// LockWait is how long a second rotation waits for the first before giving up (exit 0).
	LockWait time.Duration
	// CLITimeout is the time limit of each `databricks` run (0: the databricks package's defaults).
	CLITimeout time.Duration
	// Retries of a transient failure (timeout, network) within one run, with exponential backoff.
	Retries int
	Backoff time.Duration
}

// PGStore reads and writes the Postgres password the Lakebase credential goes to.
type PGStore interface {
	// Current returns the password now stored for the role (ok false when there is none).
	Current() (password string, ok bool, err error)
	// Save stores a new password.
	Save(password string) error
	// Describe names the entry in messages (no secret).
	Describe() string
}

// Deps are the injected seams.
type Deps struct {
	Runner run.Runner
	Clock  clock.Clock
	// Sleep waits between retries; nil means a real, context-aware sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// Getenv resolves ${NAME} references in .env; nil means none.
	Getenv func(string) string
	// NewRequestID returns a UUID for generate-database-credential; nil means a random v4 UUID.
	NewRequestID func() string
	GOOS         string
	// Program is the Databricks CLI ("" means databricks in PATH).
	Program string
}

// Outcome is what a run did.
type Outcome string

const (
	StillValid Outcome = "still-valid" // nothing was due: no subprocess, no change
	Rotated    Outcome = "rotated"     // a new token (or credential) was written
	SameToken  Outcome = "same-token"  // the CLI handed back the token it had cached (older CLIs): no change
	Busy       Outcome = "busy"        // another rotation holds the lock
	DryRun     Outcome = "dry-run"     // --dry-run: said what it would do
	Failed     Outcome = "failed"      // nothing changed (or the hook failed after a rotation)
)

// TokenState describes a token without the token.
type TokenState struct {
	Status    string    `json:"status,omitempty"` // valid, missing, malformed, expired, missing exp, issuer mismatch
	Message   string    `json:"message"`
	Subject   string    `json:"subject,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// ExpiresInMinutes is the whole minutes left at the time of the run (negative once expired).
	ExpiresInMinutes int `json:"expires_in_minutes"`
	// Remaining is the exact time left at the time of the run.
	Remaining time.Duration `json:"-"`
}

func stateOf(v token.Verdict) TokenState {
	if v.Message == "" { // not judged (the settings could not be read)
		return TokenState{}
	}
	ts := TokenState{Status: v.Status.String(), Message: v.Message}
	if v.Info != nil {
		ts.Subject = v.Info.Subject
		ts.ExpiresAt = v.Info.ExpiresAt.UTC()
		ts.ExpiresInMinutes = int(v.Remaining / time.Minute)
		ts.Remaining = v.Remaining
	}
	return ts
}

// PGResult says what happened to the database credential.
type PGResult struct {
	Instance  string    `json:"instance"`
	Entry     string    `json:"entry"`
	Outcome   Outcome   `json:"outcome"`
	Message   string    `json:"message"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Result is the report of one run (it never holds a token).
type Result struct {
	Outcome   Outcome       `json:"outcome"`
	Message   string        `json:"message"`
	Fix       string        `json:"fix,omitempty"`
	EnvFile   string        `json:"env_file"`
	Host      string        `json:"host,omitempty"`
	Threshold time.Duration `json:"-"`
	Before    TokenState    `json:"before"`
	After     *TokenState   `json:"after,omitempty"`
	// Command is the CLI command run (or that would be run), for messages.
	Command  string      `json:"command,omitempty"`
	Attempts int         `json:"attempts,omitempty"`
	Would    []string    `json:"would,omitempty"` // --dry-run: the steps it would take
	PG       *PGResult   `json:"pg_credential,omitempty"`
	Hook     *HookResult `json:"hook,omitempty"`
	LogFile  string      `json:"log_file,omitempty"`
	// LogError is set when the log line could not be written (the run's outcome stands).
	LogError string `json:"log_error,omitempty"`
}

// Error is a failed run: the message and the fix, one line each.
type Error struct {
	Msg, Fix string
	Err      error
}

func (e *Error) Error() string {
	if e.Fix == "" {
		return e.Msg
	}
	return e.Msg + "; fix: " + e.Fix
}
func (e *Error) Unwrap() error { return e.Err }

func (o *Options) defaults() {
	if o.Threshold <= 0 {
		o.Threshold = DefaultThreshold
	}
	if o.LogFile == "" {
		o.LogFile = LogFile(o.EnvFile)
	}
	if o.LockWait == 0 {
		o.LockWait = DefaultLockWait
	}
	if o.HookTimeout <= 0 {
		o.HookTimeout = DefaultHookTimeout
	}
	if o.Retries < 0 {
		o.Retries = 0
	} else if o.Retries == 0 {
		o.Retries = DefaultRetries
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
}

func (d *Deps) defaults() {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Sleep == nil {
		d.Sleep = clock.Sleep
	}
	if d.NewRequestID == nil {
		d.NewRequestID = NewUUID
	}
}

// NewUUID returns a random (version 4) UUID.
func NewUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// plan is what is due.
type plan struct {
	s        Settings
	host     string
	before   token.Verdict
	tokenDue bool
	why      string
	pgDue    bool
	pgWhy    string
	pgBefore time.Time
}

func (p plan) due() bool { return p.tokenDue || p.pgDue }

// assess reads .env (and the PG entry) and decides what is due. It starts no process.
func assess(o *Options, d *Deps) (plan, error) {
	var p plan
	s, err := ReadSettings(o.EnvFile, d.Getenv)
	if err != nil {
		if errors.Is(err, ErrNoEnv) {
			return p, &Error{Msg: err.Error(), Fix: "run voyce-auth setup (or pass --env-file PATH)", Err: err}
		}
		return p, &Error{Msg: "cannot read " + o.EnvFile + ": " + err.Error(), Err: err}
	}
	if o.Hook != "" {
		s.Hook = o.Hook
	}
	if o.PGInstance != "" {
		s.PGInstance = o.PGInstance
	}
	p.s = s
	if strings.TrimSpace(s.Host) == "" {
		return p, &Error{Msg: config.KeyDatabricksHost + " is not set in " + o.EnvFile, Fix: "run voyce-auth setup"}
	}
	host, err := databricks.ValidateHost(s.Host)
	if err != nil {
		return p, &Error{Msg: err.Error(), Fix: "correct " + config.KeyDatabricksHost + " in " + o.EnvFile + " (or run voyce-auth setup)"}
	}
	p.host = host
	now := d.Clock.Now()
	p.before = token.Check(s.Token, now, host)
	switch {
	case o.Force:
		p.tokenDue, p.why = true, "--force was given"
	case !p.before.Valid():
		p.tokenDue, p.why = true, p.before.Message
	case p.before.Remaining <= o.Threshold:
		p.tokenDue, p.why = true, fmt.Sprintf("it expires in %s, within the %s threshold", token.Human(p.before.Remaining), token.Human(o.Threshold))
	}
	if s.PGInstance != "" {
		if o.PG == nil && o.PgpassFile != "" {
			if s.PostgresErr != nil {
				return p, &Error{Msg: s.PostgresErr.Error(), Fix: "correct it in " + o.EnvFile + " (or run voyce-auth setup)"}
			}
			st, err := NewPgpassStore(o.PgpassFile, s.Postgres)
			if err != nil {
				return p, &Error{Msg: "a database credential for " + s.PGInstance + " was asked for, but " + err.Error(), Fix: "run voyce-auth setup"}
			}
			o.PG = st
		}
		if o.PG == nil {
			return p, &Error{Msg: "a database credential for " + s.PGInstance + " was asked for, but the Postgres connection (POSTGRES_HOST, POSTGRES_USER) is not set in .env", Fix: "run voyce-auth setup"}
		}
		cur, ok, err := o.PG.Current()
		if err != nil {
			return p, &Error{Msg: "cannot read the Postgres password entry " + o.PG.Describe() + ": " + err.Error(), Err: err}
		}
		switch {
		case o.Force:
			p.pgDue, p.pgWhy = true, "--force was given"
		case !ok:
			p.pgDue, p.pgWhy = true, "there is no credential in "+o.PG.Describe()
		default:
			info, err := token.Decode(cur)
			switch {
			case err != nil || info.ExpiresAt.IsZero():
				p.pgDue, p.pgWhy = true, "the stored credential's expiry cannot be read"
			case info.ExpiresAt.Sub(now) <= o.Threshold:
				p.pgBefore = info.ExpiresAt
				p.pgDue, p.pgWhy = true, fmt.Sprintf("it expires in %s", token.Human(info.ExpiresAt.Sub(now)))
			default:
				p.pgBefore = info.ExpiresAt
			}
		}
	}
	return p, nil
}

// Run does one rotation. The error is nil for the outcomes that exit 0 (still valid, rotated, same token,
// busy, dry run) and an *Error otherwise; the Result is always filled in.
func Run(ctx context.Context, o Options, d Deps) (*Result, error) {
	o.defaults()
	d.defaults()
	res := &Result{EnvFile: o.EnvFile, Threshold: o.Threshold}
	p, err := assess(&o, &d)
	res.Host = p.host
	res.Before = stateOf(p.before)
	if err != nil {
		return fail(res, &o, &d, err)
	}
	if !p.due() {
		res.Outcome = StillValid
		res.Message = fmt.Sprintf("the token is valid for %s more, longer than the %s threshold: nothing to do",
			token.Human(p.before.Remaining), token.Human(o.Threshold))
		if p.s.PGInstance != "" {
			res.PG = &PGResult{Instance: p.s.PGInstance, Entry: o.PG.Describe(), Outcome: StillValid, ExpiresAt: p.pgBefore.UTC(),
				Message: fmt.Sprintf("valid for %s more", token.Human(p.pgBefore.Sub(d.Clock.Now())))}
		}
		return res, nil
	}
	res.Command = "databricks " + strings.Join(databricks.TokenArgs(p.host, p.s.Profile, false), " ")
	if o.DryRun {
		res.Outcome = DryRun
		if p.tokenDue {
			res.Would = append(res.Would,
				fmt.Sprintf("refresh the token (%s) with: %s [--force-refresh when the CLI is v0.296 or newer]", p.why, res.Command),
				"write the new token to DATABRICKS_OAUTH_TOKEN in "+o.EnvFile)
		}
		if p.pgDue {
			res.Would = append(res.Would, fmt.Sprintf("generate a database credential for %s (%s) and store it in %s", p.s.PGInstance, p.pgWhy, o.PG.Describe()))
		}
		res.Would = append(res.Would, "log one line to "+o.LogFile)
		if p.s.Hook != "" {
			res.Would = append(res.Would, "run the post-rotate hook: "+p.s.Hook)
		}
		res.Message = "dry run: nothing was changed"
		return res, nil
	}

	// The rotation lock: a second rotation waits briefly, then leaves it to the first.
	if err := os.MkdirAll(filepath.Dir(o.LogFile), 0o700); err != nil {
		return fail(res, &o, &d, &Error{Msg: "cannot create the log folder: " + err.Error(), Err: err})
	}
	unlock, err := safefile.Lock(filepath.Join(filepath.Dir(o.LogFile), "rotate"), o.LockWait)
	if errors.Is(err, safefile.ErrLockTimeout) {
		res.Outcome = Busy
		res.Message = "another voyce-auth rotate is running; leaving it to that one"
		return res, nil
	}
	if err != nil {
		return fail(res, &o, &d, &Error{Msg: "cannot take the rotation lock: " + err.Error(), Err: err})
	}
	defer unlock()
	// Another rotation may have finished while we waited: decide again.
	if p, err = assess(&o, &d); err != nil {
		return fail(res, &o, &d, err)
	}
	res.Before = stateOf(p.before)
	if !p.due() {
		res.Outcome = StillValid
		res.Message = fmt.Sprintf("another rotation refreshed it meanwhile: valid for %s more", token.Human(p.before.Remaining))
		return res, nil
	}

	client := &databricks.Client{Runner: d.Runner, Program: d.Program, GOOS: d.GOOS,
		VersionTimeout: o.CLITimeout, TokenTimeout: o.CLITimeout, CredentialTimeout: o.CLITimeout}
	rotated := []string{}
	var newExpiry time.Time
	subject := ""
	if p.before.Info != nil {
		subject = p.before.Info.Subject
	}
	if p.tokenDue {
		after, same, err := refreshToken(ctx, res, &o, &d, client, p)
		if err != nil {
			return fail(res, &o, &d, err)
		}
		res.After = after
		subject = after.Subject
		if same {
			res.Outcome = SameToken
			res.Message = fmt.Sprintf("the Databricks CLI returned the token it already had (valid for %s more): CLIs older than v0.296 refresh only in a token's last 5 minutes, so a later run will get the new one", token.Human(after.Remaining))
		} else {
			rotated = append(rotated, "token")
			newExpiry = after.ExpiresAt
		}
	}
	if p.pgDue {
		pr, err := refreshPG(ctx, &o, &d, client, p)
		res.PG = pr
		if err != nil {
			if len(rotated) > 0 {
				res.Outcome = Rotated
			}
			return fail(res, &o, &d, err)
		}
		rotated = append(rotated, "pg-credential")
		if newExpiry.IsZero() {
			newExpiry = pr.ExpiresAt
		}
	}
	if len(rotated) > 0 {
		res.Outcome = Rotated
		res.Message = "rotated: the database credential for " + p.s.PGInstance + " was renewed"
		if res.After != nil && !res.After.ExpiresAt.IsZero() {
			res.Message = fmt.Sprintf("rotated: the new token is valid for %s (until %s)", token.Human(res.After.Remaining), res.After.ExpiresAt.Format("15:04 UTC"))
			if res.PG != nil {
				res.Message += "; database credential renewed"
			}
		}
	}
	fields := map[string]string{"outcome": string(res.Outcome), "subject": subject}
	if res.After != nil {
		fields["expiry"] = res.After.ExpiresAt.Format(time.RFC3339)
	}
	if res.PG != nil {
		fields["pg_credential"] = string(res.PG.Outcome)
		fields["pg_expiry"] = res.PG.ExpiresAt.Format(time.RFC3339)
	}
	if len(rotated) > 0 && p.s.Hook != "" {
		env := []string{"VOYCE_ROTATED=" + strings.Join(rotated, ","), "VOYCE_ENV_FILE=" + o.EnvFile}
		if res.After != nil {
			env = append(env, "VOYCE_TOKEN_EXPIRY="+res.After.ExpiresAt.Format(time.RFC3339), "VOYCE_TOKEN_SUBJECT="+subject)
		} else if p.before.Info != nil && !p.before.Info.ExpiresAt.IsZero() {
			env = append(env, "VOYCE_TOKEN_EXPIRY="+p.before.Info.ExpiresAt.UTC().Format(time.RFC3339))
		}
		if res.PG != nil {
			env = append(env, "VOYCE_PG_CREDENTIAL_EXPIRY="+res.PG.ExpiresAt.Format(time.RFC3339))
		}
		res.Hook = runHook(ctx, d.Runner, p.s.Hook, d.GOOS, filepath.Dir(o.EnvFile), o.HookTimeout, env,
			[]string{config.KeyOAuthToken, "DATABRICKS_TOKEN", "PGPASSWORD"}, d.Clock.Now)
		if res.Hook.OK {
			fields["hook"] = "ok"
		} else {
			fields["hook"] = "failed"
			fields["hook_error"] = res.Hook.Error
		}
	}
	writeLog(res, &o, &d, fields)
	if res.Hook != nil && !res.Hook.OK {
		res.Fix = "check the hook command (" + config.KeyPostRotateHook + " in .env, or --hook); the new token is written"
		return res, &Error{Msg: "the post-rotate hook failed: " + res.Hook.Error, Fix: res.Fix}
	}
	return res, nil
}

func writeLog(res *Result, o *Options, d *Deps, fields map[string]string) {
	res.LogFile = o.LogFile
	if err := appendLog(o.LogFile, d.Clock.Now(), fields, []string{"outcome", "subject", "expiry", "pg_credential", "pg_expiry", "hook"}); err != nil {
		res.LogError = err.Error()
	}
}

// fail records a failed run (log line with the fix) and returns the error.
func fail(res *Result, o *Options, d *Deps, err error) (*Result, error) {
	if res.Outcome == "" {
		res.Outcome = Failed
	}
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Msg: err.Error(), Err: err}
	}
	res.Message, res.Fix = e.Msg, e.Fix
	fields := map[string]string{"outcome": string(res.Outcome), "error": e.Msg, "fix": e.Fix, "subject": res.Before.Subject}
	if res.After != nil && res.Outcome == Rotated {
		fields["expiry"] = res.After.ExpiresAt.Format(time.RFC3339)
	}
	if !errors.Is(err, ErrNoEnv) {
		writeLog(res, o, d, fields)
	}
	return res, e
}

// refreshToken asks the CLI for a new token, checks it and writes it. same reports the CLI's cached token.
func refreshToken(ctx context.Context, res *Result, o *Options, d *Deps, c *databricks.Client, p plan) (*TokenState, bool, error) {
	login := databricks.LoginCommand(p.host, p.s.Profile)
	v, err := c.Version(ctx)
	if err == nil {
		err = v.Require(databricks.MinLogin, d.GOOS)
	}
	if err != nil {
		return nil, false, cliError(err, login)
	}
	force := v.CanForceRefresh()
	res.Command = "databricks " + strings.Join(databricks.TokenArgs(p.host, p.s.Profile, force), " ")
	var tok *databricks.Token
	for attempt := 0; ; attempt++ {
		res.Attempts = attempt + 1
		tok, err = c.Token(ctx, p.host, p.s.Profile, force)
		if err == nil || !databricks.IsTransient(err) || attempt >= o.Retries {
			break
		}
		if serr := d.Sleep(ctx, o.Backoff<<attempt); serr != nil {
			return nil, false, &Error{Msg: "interrupted while waiting to retry", Err: serr}
		}
	}
	if err != nil {
		return nil, false, cliError(err, login)
	}
	now := d.Clock.Now()
	v2 := token.Check(tok.AccessToken, now, p.host)
	if !v2.Valid() {
		return nil, false, &Error{Msg: "databricks auth token returned an unusable token: " + v2.Message, Fix: login}
	}
	after := stateOf(v2)
	if b := p.before.Info; b != nil && p.before.Status != token.IssuerMismatch && p.before.Status != token.Malformed {
		if !strings.EqualFold(b.Subject, v2.Info.Subject) {
			return nil, false, &Error{Msg: fmt.Sprintf("the Databricks CLI is logged in as %s, but the token in .env belongs to %s", v2.Info.Subject, b.Subject),
				Fix: "log the CLI in as " + b.Subject + " (" + login + "), or run voyce-auth setup to switch user"}
		}
	}
	if tok.AccessToken == p.s.Token {
		return &after, true, nil
	}
	if _, err := safefile.Update(o.EnvFile, safefile.Options{}, func(old []byte, exists bool) ([]byte, error) {
		if !exists {
			return nil, fmt.Errorf("%s disappeared", o.EnvFile)
		}
		f := dotenv.Parse(old)
		if _, err := f.Set(config.KeyOAuthToken, tok.AccessToken); err != nil {
			return nil, err
		}
		return f.Bytes(), nil
	}); err != nil {
		return nil, false, &Error{Msg: "cannot write the new token to " + o.EnvFile + ": " + err.Error(), Err: err}
	}
	return &after, false, nil
}

func cliError(err error, login string) error {
	var de *databricks.Error
	if errors.As(err, &de) {
		fix := de.Fix
		if fix == "" {
			fix = login
		}
		return &Error{Msg: de.Msg, Fix: fix, Err: err}
	}
	return &Error{Msg: err.Error(), Fix: login, Err: err}
}

// refreshPG gets a new database credential and stores it.
func refreshPG(ctx context.Context, o *Options, d *Deps, c *databricks.Client, p plan) (*PGResult, error) {
	pr := &PGResult{Instance: p.s.PGInstance, Entry: o.PG.Describe(), Outcome: Failed}
	login := databricks.LoginCommand(p.host, p.s.Profile)
	var cred *databricks.DatabaseCredential
	var err error
	for attempt := 0; ; attempt++ {
		cred, err = c.GenerateDatabaseCredential(ctx, p.host, p.s.Profile, p.s.PGInstance, d.NewRequestID())
		if err == nil || !databricks.IsTransient(err) || attempt >= o.Retries {
			break
		}
		if serr := d.Sleep(ctx, o.Backoff<<attempt); serr != nil {
			return pr, &Error{Msg: "interrupted while waiting to retry", Err: serr}
		}
	}
	if err != nil {
		e := cliError(err, login).(*Error)
		e.Msg = "database credential for " + p.s.PGInstance + ": " + e.Msg
		pr.Message = e.Msg
		return pr, e
	}
	if err := o.PG.Save(cred.Token); err != nil {
		pr.Message = "cannot store the database credential in " + o.PG.Describe() + ": " + err.Error()
		return pr, &Error{Msg: pr.Message, Err: err}
	}
	pr.Outcome = Rotated
	pr.ExpiresAt = cred.ExpirationTime.UTC()
	pr.Message = "new database credential stored in " + o.PG.Describe()
	return pr, nil
}
