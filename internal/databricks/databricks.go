// Package databricks runs the Databricks CLI (version, login, token, describe, database credentials) and
// parses its answers into typed results and classified errors, each with its fix. It also asks the
// workspace who a token belongs to (SCIM Me). Tokens never go into argv or error messages.
package databricks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/internal/run"
)

// Program is the CLI's name in PATH.
const Program = "databricks"

// Default time limits.
const (
	DefaultVersionTimeout    = 10 * time.Second
	DefaultTokenTimeout      = 30 * time.Second
	DefaultDescribeTimeout   = 30 * time.Second
	DefaultCredentialTimeout = 30 * time.Second
	DefaultLoginTimeout      = 10 * time.Minute
)

// Client runs the CLI.
type Client struct {
	Runner run.Runner
	// Program is the CLI to run ("" means "databricks" in PATH; an absolute path is allowed).
	Program string
	// GOOS picks the install hint ("" means Linux's).
	GOOS string
	// Env is added to the CLI's environment.
	Env []string
	// Time limits; zero means the defaults above.
	VersionTimeout, TokenTimeout, DescribeTimeout, CredentialTimeout, LoginTimeout time.Duration
}

func (c *Client) program() string {
	if c.Program == "" {
		return Program
	}
	return c.Program
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Version --------------------------------------------------------------------------------------------

// Version is a CLI version.
type Version struct {
	Major, Minor, Patch int
	// Legacy is the pip package databricks-cli (0.18 and older), which has no `auth` command.
	Legacy bool
	// Raw is the line the CLI printed.
	Raw string
}

// Minimum versions for features.
var (
	MinLogin        = Version{Major: 0, Minor: 205}
	MinForceRefresh = Version{Major: 0, Minor: 296}
)

func (v Version) String() string {
	if v.Legacy {
		return fmt.Sprintf("%d.%d.%d (legacy)", v.Major, v.Minor, v.Patch)
	}
	return fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// AtLeast reports whether v >= min (a legacy CLI is never new enough).
func (v Version) AtLeast(min Version) bool {
	if v.Legacy {
		return false
	}
	if v.Major != min.Major {
		return v.Major > min.Major
	}
	if v.Minor != min.Minor {
		return v.Minor > min.Minor
	}
	return v.Patch >= min.Patch
}

// CanForceRefresh reports whether `auth token --force-refresh` exists in v.
func (v Version) CanForceRefresh() bool { return v.AtLeast(MinForceRefresh) }

var (
	modernRE = regexp.MustCompile(`Databricks CLI v(\d+)\.(\d+)\.(\d+)`)
	legacyRE = regexp.MustCompile(`^Version (\d+)\.(\d+)(?:\.(\d+))?`)
)

// ParseVersion reads `databricks --version` output.
func ParseVersion(out string) (Version, error) {
	line := strings.TrimSpace(out)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = strings.TrimSpace(line[:i])
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	if m := modernRE.FindStringSubmatch(line); m != nil {
		return Version{Major: atoi(m[1]), Minor: atoi(m[2]), Patch: atoi(m[3]), Raw: line}, nil
	}
	if m := legacyRE.FindStringSubmatch(line); m != nil {
		return Version{Major: atoi(m[1]), Minor: atoi(m[2]), Patch: atoi(m[3]), Legacy: true, Raw: line}, nil
	}
	if len(line) > 80 {
		line = line[:80] + "..."
	}
	return Version{}, &Error{Kind: KindGarbage, Msg: fmt.Sprintf("databricks --version printed %q, not a version", line)}
}

// Require returns nil when v is at least min, else a *Error (KindLegacy or KindTooOld) with the install
// command for goos.
func (v Version) Require(min Version, goos string) error {
	if v.Legacy {
		return &Error{Kind: KindLegacy,
			Msg: fmt.Sprintf("the databricks in PATH is the legacy pip CLI (%s), which has no 'auth' command", v.Raw),
			Fix: "pip uninstall databricks-cli, then install the current CLI: " + InstallHint(goos)}
	}
	if !v.AtLeast(min) {
		return &Error{Kind: KindTooOld,
			Msg: fmt.Sprintf("Databricks CLI %s is too old: v%d.%d or newer is needed", v, min.Major, min.Minor),
			Fix: "upgrade it: " + InstallHint(goos)}
	}
	return nil
}

// Version runs `databricks --version`.
func (c *Client) Version(ctx context.Context) (Version, error) {
	res, err := c.run(ctx, orDefault(c.VersionTimeout, DefaultVersionTimeout), run.Cmd{Args: []string{"--version"}})
	if err != nil {
		return Version{}, c.classify(err, res, "", "", "databricks --version")
	}
	return ParseVersion(string(res.Stdout))
}

// run runs the CLI with a time limit and no terminal.
func (c *Client) run(ctx context.Context, limit time.Duration, cmd run.Cmd) (run.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd.Name = c.program()
	cmd.Env = append(append([]string(nil), c.Env...), cmd.Env...)
	if cmd.Stdin == nil {
		cmd.Stdin = strings.NewReader("")
	}
	return c.Runner.Run(ctx, cmd)
}

// classify turns a failed run into a *Error.
func (c *Client) classify(err error, res run.Result, host, profile, what string) error {
	login := LoginCommand(host, profile)
	if errors.Is(err, context.Canceled) {
		return err
	}
	if errors.Is(err, run.ErrNotFound) {
		return &Error{Kind: KindNotInstalled, Msg: "the Databricks CLI (databricks) is not installed or not in PATH",
			Fix: "install it: " + InstallText(c.GOOS), Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: KindTimeout, Msg: what + " did not answer in time", Fix: "check the network and try again; if it keeps hanging, run " + login, Err: err}
	}
	var ee *run.ExitError
	if !errors.As(err, &ee) {
		return &Error{Kind: KindOther, Msg: what + ": " + firstLine(err.Error()), Err: err}
	}
	stderr := string(res.Stderr)
	if stderr == "" {
		stderr = ee.Stderr
	}
	low := strings.ToLower(stderr)
	line := firstLine(stderr)
	switch {
	case strings.Contains(stderr, "No such command 'auth'") || strings.Contains(stderr, "No such command"):
		return &Error{Kind: KindLegacy, Msg: "the databricks in PATH is the legacy pip CLI, which has no 'auth' command",
			Fix: "pip uninstall databricks-cli, then install the current CLI: " + InstallHint(c.GOOS), Err: err}
	case strings.Contains(low, "databricks oauth is not configured for this host"):
		return &Error{Kind: KindNotLoggedIn, Msg: "the Databricks CLI is not logged in to " + orHost(host), Fix: login, Err: err}
	case strings.Contains(low, "profile configured") || strings.Contains(low, "profile not found"):
		return &Error{Kind: KindNotLoggedIn, Msg: fmt.Sprintf("the Databricks CLI has no profile %q (%s)", profile, line), Fix: login, Err: err}
	case strings.Contains(low, "refresh token is invalid") || strings.Contains(low, "invalid_grant") || strings.Contains(low, "invalid refresh token"):
		return &Error{Kind: KindRefreshRejected, Msg: "the workspace rejected the CLI's refresh token (the login has expired or was revoked)", Fix: login, Err: err}
	case strings.Contains(low, "multiple profiles") || strings.Contains(low, "specify a profile") || strings.Contains(low, "non-interactive environment"):
		return &Error{Kind: KindMultipleProfiles, Msg: "the Databricks CLI needs to be told which profile to use (" + line + ")",
			Fix: "set DATABRICKS_CONFIG_PROFILE in .env (voyce-auth setup), or log in with a profile: " + login, Err: err}
	case strings.Contains(low, "unknown flag: --force-refresh"):
		return &Error{Kind: KindTooOld, Msg: "this Databricks CLI has no --force-refresh (v0.296 or newer has it)", Fix: "upgrade it: " + InstallHint(c.GOOS), Err: err}
	case isNetwork(low):
		return &Error{Kind: KindNetwork, Msg: what + " could not reach the workspace (" + line + ")", Fix: "check the network and DATABRICKS_HOST, then try again", Err: err}
	}
	if line == "" {
		line = fmt.Sprintf("exit status %d", ee.ExitCode)
	}
	return &Error{Kind: KindOther, Msg: what + " failed: " + line, Fix: "if it persists, log in again: " + login, Err: err}
}

func orHost(h string) string {
	if h == "" {
		return "the workspace"
	}
	return h
}

func isNetwork(low string) bool {
	for _, s := range []string{"dial tcp", "connection refused", "no such host", "i/o timeout", "tls handshake timeout",
		"network is unreachable", "connection reset", "context deadline exceeded", "temporary failure in name resolution"} {
		if strings.Contains(low, s) {
			return true
		}
	}
	return false
}

// Token ----------------------------------------------------------------------------------------------

// Token is the answer of `databricks auth token`.
type Token struct {
	AccessToken string
	TokenType   string
	Expiry      time.Time // zero when the CLI did not say
	ExpiresIn   int64     // seconds, when the CLI said
}

// TokenArgs returns the argv of `databricks auth token` (without the program name).
func TokenArgs(host, profile string, forceRefresh bool) []string {
	args := []string{"auth", "token"}
	if host != "" {
		args = append(args, "--host", host)
	}
	if profile != "" {
		args = append(args, "--profile", profile)
	}
	if forceRefresh {
		args = append(args, "--force-refresh")
	}
	return args
}

// Token runs `databricks auth token --host H [--profile P] [--force-refresh]` and parses its JSON.
// forceRefresh must only be asked of a CLI that supports it (Version.CanForceRefresh).
func (c *Client) Token(ctx context.Context, host, profile string, forceRefresh bool) (*Token, error) {
	res, err := c.run(ctx, orDefault(c.TokenTimeout, DefaultTokenTimeout), run.Cmd{Args: TokenArgs(host, profile, forceRefresh)})
	if err != nil {
		return nil, c.classify(err, res, host, profile, "databricks auth token")
	}
	return ParseToken(res.Stdout, host, profile)
}

// ParseToken reads `databricks auth token` JSON output. Its errors never contain the output.
func ParseToken(out []byte, host, profile string) (*Token, error) {
	var raw struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		Expiry      string          `json:"expiry"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	garbage := func(why string) error {
		return &Error{Kind: KindGarbage, Msg: fmt.Sprintf("databricks auth token printed %s (%d bytes)", why, len(out)),
			Fix: "run 'databricks auth token --host " + host + "' yourself to see what it says; if it persists, " + LoginCommand(host, profile)}
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, garbage("something that is not JSON")
	}
	if raw.AccessToken == "" {
		return nil, garbage("JSON without access_token")
	}
	t := &Token{AccessToken: raw.AccessToken, TokenType: raw.TokenType}
	if raw.Expiry != "" {
		exp, err := time.Parse(time.RFC3339Nano, raw.Expiry)
		if err != nil {
			return nil, garbage("an unreadable expiry")
		}
		t.Expiry = exp
	}
	if len(raw.ExpiresIn) > 0 {
		var f float64
		if err := json.Unmarshal(raw.ExpiresIn, &f); err == nil {
			t.ExpiresIn = int64(f)
		}
	}
	return t, nil
}

// Login ----------------------------------------------------------------------------------------------

// Login runs `databricks auth login --host H --profile P` attached to the given streams (the person
// completes it in a browser). profile "" uses DefaultProfile.
func (c *Client) Login(ctx context.Context, host, profile string, stdin io.Reader, stdout, stderr io.Writer) error {
	if profile == "" {
		profile = DefaultProfile
	}
	cmd := run.Cmd{Args: []string{"auth", "login", "--host", host, "--profile", profile}, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	ctx, cancel := context.WithTimeout(ctx, orDefault(c.LoginTimeout, DefaultLoginTimeout))
	defer cancel()
	cmd.Name = c.program()
	cmd.Env = append([]string(nil), c.Env...)
	res, err := c.Runner.Run(ctx, cmd)
	if err != nil {
		return c.classify(err, res, host, profile, "databricks auth login")
	}
	return nil
}

// Describe -------------------------------------------------------------------------------------------

// Description is `databricks auth describe -o json`.
type Description struct {
	Status   string // "success" or "error"
	Error    string // when Status is "error"
	Username string
	Host     string
	Profile  string
	AuthType string
}

// OK reports whether the CLI could authenticate.
func (d *Description) OK() bool { return d.Status == "success" }

// Describe runs `databricks auth describe -o json` (which exits 0 even when authentication fails: read
// Status).
func (c *Client) Describe(ctx context.Context, host, profile string) (*Description, error) {
	args := []string{"auth", "describe", "-o", "json"}
	if host != "" {
		args = append(args, "--host", host)
	}
	if profile != "" {
		args = append(args, "--profile", profile)
	}
	res, err := c.run(ctx, orDefault(c.DescribeTimeout, DefaultDescribeTimeout), run.Cmd{Args: args})
	if err != nil {
		return nil, c.classify(err, res, host, profile, "databricks auth describe")
	}
	var raw struct {
		Status   string          `json:"status"`
		Error    json.RawMessage `json:"error"`
		Username string          `json:"username"`
		Details  struct {
			Host     string `json:"host"`
			Profile  string `json:"profile"`
			AuthType string `json:"auth_type"`
		} `json:"details"`
	}
	if err := json.Unmarshal(res.Stdout, &raw); err != nil || raw.Status == "" {
		return nil, &Error{Kind: KindGarbage, Msg: fmt.Sprintf("databricks auth describe printed unexpected output (%d bytes)", len(res.Stdout))}
	}
	d := &Description{Status: raw.Status, Username: raw.Username, Host: raw.Details.Host, Profile: raw.Details.Profile, AuthType: raw.Details.AuthType}
	if len(raw.Error) > 0 && string(raw.Error) != "null" {
		var s string
		if json.Unmarshal(raw.Error, &s) != nil {
			var o struct {
				Message string `json:"message"`
			}
			json.Unmarshal(raw.Error, &o)
			s = o.Message
			if s == "" {
				s = string(raw.Error)
			}
		}
		d.Error = firstLine(s)
	}
	return d, nil
}

// Err classifies a failed description like a failed `auth token` (nil when OK).
func (d *Description) Err(c *Client, host, profile string) error {
	if d.OK() {
		return nil
	}
	return c.classify(&run.ExitError{Cmd: Program, ExitCode: 1, Stderr: "Error: " + d.Error}, run.Result{}, host, profile, "databricks auth describe")
}

// Database credential -------------------------------------------------------------------------------

// DatabaseCredential is a Lakebase OAuth role's short-lived password.
type DatabaseCredential struct {
	Token          string
	ExpirationTime time.Time
}

// GenerateDatabaseCredential runs `databricks database generate-database-credential --request-id ID
// --json '{"instance_names":["INSTANCE"]}'` for the workspace (--profile when given, else DATABRICKS_HOST
// in the CLI's environment).
func (c *Client) GenerateDatabaseCredential(ctx context.Context, host, profile, instance, requestID string) (*DatabaseCredential, error) {
	body, _ := json.Marshal(map[string][]string{"instance_names": {instance}})
	args := []string{"database", "generate-database-credential", "--request-id", requestID, "--json", string(body)}
	var env []string
	if profile != "" {
		args = append(args, "--profile", profile)
	} else if host != "" {
		env = append(env, "DATABRICKS_HOST="+host)
	}
	res, err := c.run(ctx, orDefault(c.CredentialTimeout, DefaultCredentialTimeout), run.Cmd{Args: args, Env: env})
	if err != nil {
		return nil, c.classify(err, res, host, profile, "databricks database generate-database-credential")
	}
	var raw struct {
		ExpirationTime string `json:"expiration_time"`
		Token          string `json:"token"`
	}
	if err := json.Unmarshal(res.Stdout, &raw); err != nil || raw.Token == "" {
		return nil, &Error{Kind: KindGarbage, Msg: fmt.Sprintf("databricks database generate-database-credential printed unexpected output (%d bytes)", len(res.Stdout))}
	}
	cred := &DatabaseCredential{Token: raw.Token}
	if raw.ExpirationTime != "" {
		if t, err := time.Parse(time.RFC3339Nano, raw.ExpirationTime); err == nil {
			cred.ExpirationTime = t
		}
	}
	return cred, nil
}
