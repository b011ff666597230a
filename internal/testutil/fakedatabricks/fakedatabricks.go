// Package fakedatabricks is the Databricks stand-in for tests: a `databricks` executable (built once per
// test binary, put first on PATH) and a fake workspace HTTP server on 127.0.0.1, both following
// shared/reference/databricks-cli.md. Behaviour is switched per test through Env.Update.
//
//	env := fakedatabricks.Start(t)
//	env.Update(func(s *fakedatabricks.State) { s.TokenLifetime = 10 * time.Minute })
//	runner := &run.Exec{Environ: env.Environ()}
package fakedatabricks

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/voyce/voyce-auth/internal/testutil/fakedatabricks/fakestate"
)

// State is the switchable behaviour; see fakestate.State for the fields.
type State = fakestate.State

// Defaults, re-exported.
const (
	DefaultVersion = fakestate.DefaultVersion
	DefaultUser    = fakestate.DefaultUser
	DefaultProfile = "DEFAULT"
	LegacyVersion  = "Version 0.18.0"
	// NotConfigured is the stable part of the CLI's "not logged in" message.
	NotConfigured = "databricks OAuth is not configured for this host"
)

// Env is one test's Databricks: a workspace server, a state folder and the CLI on PATH.
type Env struct {
	Host       string // http://127.0.0.1:PORT
	BinDir     string // holds the `databricks` executable; put it first on PATH
	CLIPath    string // BinDir/databricks
	StateDir   string // per-test state folder (FAKE_DATABRICKS_STATE)
	ConfigFile string // DATABRICKS_CONFIG_FILE, inside StateDir

	t      testing.TB
	key    *rsa.PrivateKey
	server *httptest.Server
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error

	keyOnce sync.Once
	sharedK *rsa.PrivateKey
	keyErr  error
)

// Start builds the CLI (once per test binary), starts the workspace and a fresh state folder: logged in,
// with one profile (DEFAULT) for the workspace in ConfigFile. Everything is cleaned up by t.Cleanup.
func Start(t testing.TB) *Env {
	t.Helper()
	buildOnce.Do(func() { buildDir, buildErr = build() })
	if buildErr != nil {
		t.Fatalf("fakedatabricks: building the fake databricks CLI: %v", buildErr)
	}
	keyOnce.Do(func() { sharedK, keyErr = rsa.GenerateKey(rand.Reader, 2048) })
	if keyErr != nil {
		t.Fatalf("fakedatabricks: signing key: %v", keyErr)
	}
	e := &Env{
		BinDir:   buildDir,
		CLIPath:  filepath.Join(buildDir, exeName()),
		StateDir: t.TempDir(),
		t:        t,
		key:      sharedK,
	}
	e.ConfigFile = filepath.Join(e.StateDir, "databrickscfg")
	e.server = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.server.Close)
	e.Host = e.server.URL
	if err := fakestate.WriteKey(e.StateDir, e.key); err != nil {
		t.Fatalf("fakedatabricks: %v", err)
	}
	st := &State{Host: e.Host, Version: DefaultVersion, User: DefaultUser, LoggedIn: true, Profiles: []string{DefaultProfile}}
	if err := fakestate.Save(e.StateDir, st); err != nil {
		t.Fatalf("fakedatabricks: %v", err)
	}
	e.writeConfig(st.Profiles)
	return e
}

func exeName() string {
	if runtime.GOOS == "windows" {
		return "databricks.exe"
	}
	return "databricks"
}

// build compiles cmd/databricks into a folder keyed by a hash of the stand-in's sources, so repeated test
// runs reuse it and a changed source gets a new build.
func build() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the fakedatabricks sources")
	}
	srcDir := filepath.Dir(file)
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	err := filepath.WalkDir(srcDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	// The module's dependency versions too (go.sum at the module root).
	for d := srcDir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.sum")); err == nil {
			h.Write(b)
			break
		}
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("voyce-auth-fakedatabricks-%d", os.Getuid()), hex.EncodeToString(h.Sum(nil))[:16])
	exe := filepath.Join(dir, exeName())
	if fi, err := os.Stat(exe); err == nil && fi.Mode().IsRegular() {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if p, lerr := exec.LookPath("go"); lerr == nil {
			goBin = p
		}
	}
	tmp := fmt.Sprintf("%s.tmp%d", exe, os.Getpid())
	cmd := exec.Command(goBin, "build", "-o", tmp, "./cmd/databricks")
	cmd.Dir = srcDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return dir, os.Rename(tmp, exe)
}

// Environ returns the process environment with BinDir first on PATH, FAKE_DATABRICKS_STATE,
// DATABRICKS_CONFIG_FILE and BROWSER=none set, and any DATABRICKS_* credentials of the real user removed.
// HOME is left as it is.
func (e *Env) Environ() []string {
	var out []string
	path := ""
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "PATH":
			path = v
			continue
		case k == fakestate.EnvVar, k == "BROWSER", strings.HasPrefix(k, "DATABRICKS_"):
			continue
		}
		out = append(out, kv)
	}
	if path != "" {
		path = e.BinDir + string(os.PathListSeparator) + path
	} else {
		path = e.BinDir
	}
	return append(out, "PATH="+path, fakestate.EnvVar+"="+e.StateDir, "DATABRICKS_CONFIG_FILE="+e.ConfigFile, "BROWSER=none")
}

// Update changes the behaviour. Changes to Profiles are written to ConfigFile (each profile pointing at
// the workspace).
func (e *Env) Update(fn func(s *State)) {
	e.t.Helper()
	var before, after []string
	err := fakestate.Update(e.StateDir, func(s *State) error {
		before = slices.Clone(s.Profiles)
		fn(s)
		after = slices.Clone(s.Profiles)
		return nil
	})
	if err != nil {
		e.t.Fatalf("fakedatabricks: update state: %v", err)
	}
	if !slices.Equal(before, after) {
		e.writeConfig(after)
	}
}

// State returns a copy of the current state.
func (e *Env) State() State {
	e.t.Helper()
	s, err := fakestate.Read(e.StateDir)
	if err != nil {
		e.t.Fatalf("fakedatabricks: read state: %v", err)
	}
	return *s
}

// LogOut forgets the login and every profile (the config file is emptied).
func (e *Env) LogOut() {
	e.Update(func(s *State) {
		s.LoggedIn = false
		s.CachedToken, s.CachedExpiry = "", time.Time{}
		s.Profiles = nil
	})
}

func (e *Env) writeConfig(profiles []string) {
	var b strings.Builder
	for i, p := range profiles {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "[%s]\nhost      = %s\nauth_type = databricks-cli\n", p, e.Host)
	}
	if err := os.WriteFile(e.ConfigFile, []byte(b.String()), 0o600); err != nil {
		e.t.Fatalf("fakedatabricks: %v", err)
	}
}

// Calls returns the arguments (without the program name) of each CLI invocation so far.
func (e *Env) Calls() [][]string {
	e.t.Helper()
	c, err := fakestate.ReadCalls(e.StateDir)
	if err != nil {
		e.t.Fatalf("fakedatabricks: %v", err)
	}
	return c
}

// CallCount returns how many invocations had args starting with prefix (all of them when prefix is empty).
func (e *Env) CallCount(prefix ...string) int {
	n := 0
	for _, c := range e.Calls() {
		if len(c) >= len(prefix) && slices.Equal(c[:len(prefix)], prefix) {
			n++
		}
	}
	return n
}

// MintToken returns a valid access token for sub, signed with the workspace key and issued by Host.
func (e *Env) MintToken(sub string, iat time.Time, lifetime time.Duration) string {
	e.t.Helper()
	tok, err := fakestate.Mint(e.key, e.Host, sub, iat, lifetime)
	if err != nil {
		e.t.Fatalf("fakedatabricks: mint: %v", err)
	}
	return tok
}

// SetCachedToken makes tok (expiring at exp) the token the CLI holds.
func (e *Env) SetCachedToken(tok string, exp time.Time) {
	e.Update(func(s *State) { s.CachedToken, s.CachedExpiry = tok, exp })
}

// Workspace ------------------------------------------------------------------------------------------

func (e *Env) serve(w http.ResponseWriter, r *http.Request) {
	st, err := fakestate.Read(e.StateDir)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	now := st.ServerTime()
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	switch r.URL.Path {
	case "/oidc/.well-known/oauth-authorization-server":
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                                e.Host + "/oidc",
			"authorization_endpoint":                e.Host + "/oidc/v1/authorize",
			"token_endpoint":                        e.Host + "/oidc/v1/token",
			"jwks_uri":                              e.Host + "/oidc/jwks.json",
			"response_types_supported":              []string{"code", "id_token"},
			"grant_types_supported":                 []string{"client_credentials", "authorization_code", "refresh_token"},
			"code_challenge_methods_supported":      []string{"S256"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
			"scopes_supported":                      []string{"all-apis", "offline_access", "openid", "profile", "email"},
		})
	case "/api/2.0/preview/scim/v2/Me":
		e.me(w, r, st, now)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error_code": "ENDPOINT_NOT_FOUND", "message": "No API found for '" + r.Method + " " + r.URL.Path + "'"})
	}
}

func (e *Env) me(w http.ResponseWriter, r *http.Request, st *State, now time.Time) {
	invalid := func() {
		writeJSON(w, http.StatusForbidden, map[string]any{"error_code": 403, "message": "Invalid access token."})
	}
	expired := func() {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error_code": 401, "message": "Token is expired."})
	}
	switch st.ForceMeStatus {
	case http.StatusUnauthorized:
		expired()
		return
	case http.StatusForbidden:
		invalid()
		return
	}
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error_code": 401, "message": "Unauthorized"})
		return
	}
	var claims fakestate.Claims
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return &e.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithIssuer(e.Host+"/oidc"), jwt.WithExpirationRequired())
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		expired()
		return
	case err != nil:
		invalid()
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"id":          "1234567890123456",
		"userName":    claims.Subject,
		"displayName": strings.SplitN(claims.Subject, "@", 2)[0],
		"active":      true,
		"emails":      []map[string]any{{"type": "work", "value": claims.Subject, "primary": true}},
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
