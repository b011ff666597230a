// Package fakestate is the state shared between the fake Databricks workspace (running inside the test
// process) and the fake `databricks` executable (a separate process): one JSON file and the workspace's
// signing key in a per-test folder. Both sides read and change it under a file lock.
package fakestate

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// EnvVar names the environment variable that points the fake CLI at its state folder.
const EnvVar = "FAKE_DATABRICKS_STATE"

// File names inside the state folder.
const (
	StateFile = "state.json"
	KeyFile   = "signing-key.pem"
	CallsFile = "calls.jsonl"
	LockFile  = "state.lock"
)

// Default values.
const (
	DefaultVersion  = "Databricks CLI v0.240.0"
	DefaultUser     = "dev.user@example.com"
	DefaultLifetime = time.Hour
	ClientID        = "databricks-cli"
	Scope           = "offline_access all-apis"
)

// State is everything a test can switch. The zero value of each field is the ordinary behaviour.
type State struct {
	// Host is the workspace URL (http://127.0.0.1:PORT); tokens are issued by Host + "/oidc".
	Host string `json:"host"`
	// Version is what `databricks --version` prints: "Databricks CLI v0.240.0", "Databricks CLI v1.13.0",
	// or the legacy "Version 0.18.0" (which also has no `auth` command).
	Version string `json:"version"`
	// User is the token's subject (the user's e-mail) and SCIM userName.
	User string `json:"user"`

	// LoggedIn says the CLI holds a refresh token for Host (set by `auth login`).
	LoggedIn bool `json:"logged_in"`
	// Profiles are the names of the profiles configured for Host. More than one makes `auth token --host H`
	// (without --profile) fail, as the real CLI does without a terminal.
	Profiles []string `json:"profiles,omitempty"`
	// TokenLifetime is the lifetime of each minted access token (0 means one hour).
	TokenLifetime time.Duration `json:"token_lifetime,omitempty"`
	// IncludeExpiresIn adds "expires_in" to `auth token` JSON.
	IncludeExpiresIn bool `json:"include_expires_in,omitempty"`

	// CachedToken is the access token the CLI holds (returned unchanged while more than 5 minutes remain).
	CachedToken  string    `json:"cached_token,omitempty"`
	CachedExpiry time.Time `json:"cached_expiry,omitempty"`

	// RefreshRejected makes every refresh fail with "the refresh token is invalid".
	RefreshRejected bool `json:"refresh_rejected,omitempty"`
	// Hang makes `auth ...` and `database ...` sleep until killed; HangVersion does the same for --version.
	Hang        bool `json:"hang,omitempty"`
	HangVersion bool `json:"hang_version,omitempty"`
	// Garbage makes `auth token` and `database generate-database-credential` print non-JSON with exit 0.
	Garbage bool `json:"garbage,omitempty"`
	// LoginFails makes `auth login` fail.
	LoginFails bool `json:"login_fails,omitempty"`
	// Now fixes the CLI's clock; zero means the real time.
	Now time.Time `json:"now,omitempty"`

	// DatabaseCredential, when set, is the token `generate-database-credential` prints (else a fresh JWT).
	DatabaseCredential string `json:"database_credential,omitempty"`
	// DatabaseCredentialLifetime is its validity (0 means one hour).
	DatabaseCredentialLifetime time.Duration `json:"database_credential_lifetime,omitempty"`

	// Workspace (HTTP server) behaviour.
	// ServerNow fixes the server's clock; zero means real time. ServerSkew is added to it (Date header too).
	ServerNow  time.Time     `json:"server_now,omitempty"`
	ServerSkew time.Duration `json:"server_skew,omitempty"`
	// ForceMeStatus, when 401 or 403, makes SCIM Me answer that status whatever the token.
	ForceMeStatus int `json:"force_me_status,omitempty"`

	// Minted counts the access tokens the CLI has minted (refreshes and logins).
	Minted int `json:"minted,omitempty"`
}

// Version helpers ---------------------------------------------------------------------------------------

// Legacy reports whether the version string is the legacy pip CLI's ("Version 0.18.0").
func (s *State) Legacy() bool { return strings.HasPrefix(s.VersionString(), "Version ") }

// VersionString returns Version or the default.
func (s *State) VersionString() string {
	if s.Version == "" {
		return DefaultVersion
	}
	return s.Version
}

// SemVer returns the version numbers (major, minor, patch), or zeros when unparsable.
func (s *State) SemVer() [3]int {
	v := s.VersionString()
	if i := strings.LastIndexByte(v, ' '); i >= 0 {
		v = v[i+1:]
	}
	v = strings.TrimPrefix(v, "v")
	var out [3]int
	fmt.Sscanf(v, "%d.%d.%d", &out[0], &out[1], &out[2])
	return out
}

// AtLeast reports whether the CLI version is >= major.minor.
func (s *State) AtLeast(major, minor int) bool {
	v := s.SemVer()
	return v[0] > major || v[0] == major && v[1] >= minor
}

// UserName returns User or the default.
func (s *State) UserName() string {
	if s.User == "" {
		return DefaultUser
	}
	return s.User
}

// Lifetime returns TokenLifetime or the default.
func (s *State) Lifetime() time.Duration {
	if s.TokenLifetime == 0 {
		return DefaultLifetime
	}
	return s.TokenLifetime
}

// CLINow is the CLI's notion of now.
func (s *State) CLINow() time.Time {
	if !s.Now.IsZero() {
		return s.Now
	}
	return time.Now()
}

// ServerTime is the workspace's notion of now.
func (s *State) ServerTime() time.Time {
	t := s.ServerNow
	if t.IsZero() {
		t = time.Now()
	}
	return t.Add(s.ServerSkew)
}

// Issuer returns the token issuer for a workspace host.
func Issuer(host string) string { return NormalizeHost(host) + "/oidc" }

// NormalizeHost adds https:// when no scheme is given and drops trailing slashes.
func NormalizeHost(h string) string {
	h = strings.TrimSpace(h)
	if h != "" && !strings.Contains(h, "://") {
		h = "https://" + h
	}
	return strings.TrimRight(h, "/")
}

// Files ------------------------------------------------------------------------------------------------

// Load reads the state from dir.
func Load(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", StateFile, err)
	}
	return &s, nil
}

// Save writes the state to dir atomically.
func Save(dir string, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, StateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, StateFile))
}

// Update changes the state under the lock.
func Update(dir string, fn func(s *State) error) error {
	unlock, err := lock(dir)
	if err != nil {
		return err
	}
	defer unlock()
	s, err := Load(dir)
	if err != nil {
		return err
	}
	if err := fn(s); err != nil {
		return err
	}
	return Save(dir, s)
}

// Read returns the state under the lock.
func Read(dir string) (*State, error) {
	unlock, err := lock(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return Load(dir)
}

// WriteKey stores the signing key in dir (0600).
func WriteKey(dir string, key *rsa.PrivateKey) error {
	b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return os.WriteFile(filepath.Join(dir, KeyFile), b, 0o600)
}

// ReadKey loads the signing key from dir.
func ReadKey(dir string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("signing key: no PEM block")
	}
	return x509.ParsePKCS1PrivateKey(blk.Bytes)
}

// AppendCall records one invocation's arguments (without the program name) as a JSON line.
func AppendCall(dir string, args []string) error {
	if args == nil {
		args = []string{}
	}
	b, _ := json.Marshal(args)
	f, err := os.OpenFile(filepath.Join(dir, CallsFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(b, '\n'))
	return err
}

// ReadCalls returns the recorded invocations.
func ReadCalls(dir string) ([][]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, CallsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var args []string
		if err := json.Unmarshal([]byte(line), &args); err != nil {
			return nil, fmt.Errorf("%s: %w", CallsFile, err)
		}
		out = append(out, args)
	}
	return out, nil
}

// Tokens -----------------------------------------------------------------------------------------------

// Claims are the claims a Databricks workspace puts in a user's OAuth access token.
type Claims struct {
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	jwt.RegisteredClaims
}

// Mint signs an access token for sub issued by host at iat, valid for lifetime.
func Mint(key *rsa.PrivateKey, host, sub string, iat time.Time, lifetime time.Duration) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	iat = iat.Truncate(time.Second)
	c := Claims{
		ClientID: ClientID,
		Scope:    Scope,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   sub,
			Issuer:    Issuer(host),
			Audience:  jwt.ClaimStrings{ClientID},
			IssuedAt:  jwt.NewNumericDate(iat),
			NotBefore: jwt.NewNumericDate(iat),
			ExpiresAt: jwt.NewNumericDate(iat.Add(lifetime)),
			ID:        hex.EncodeToString(jti),
		},
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["typ"] = "at+jwt"
	t.Header["kid"] = "fake-workspace-key"
	return t.SignedString(key)
}
