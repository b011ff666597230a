package fakedatabricks_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/internal/testutil/fakedatabricks"
)

func cli(t *testing.T, env *fakedatabricks.Env, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.CLIPath, args...)
	cmd.Env = env.Environ()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running databricks %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

func hash(s string) string { return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s)))[:20] }

type tokenJSON struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Expiry      string `json:"expiry"`
}

func authToken(t *testing.T, env *fakedatabricks.Env, args ...string) tokenJSON {
	t.Helper()
	out, errOut, code := cli(t, env, append([]string{"auth", "token", "--host", env.Host}, args...)...)
	if code != 0 {
		t.Fatalf("auth token: exit %d, stderr %q", code, errOut)
	}
	var tj tokenJSON
	if err := json.Unmarshal([]byte(out), &tj); err != nil {
		t.Fatalf("auth token output is not JSON (%d bytes): %v", len(out), err)
	}
	return tj
}

func TestVersionText(t *testing.T) {
	env := fakedatabricks.Start(t)
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, _, code := cli(t, env, args...)
		if code != 0 || out != "Databricks CLI v0.240.0\n" {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
	// Found through PATH by the real runner.
	res, err := (&run.Exec{Environ: env.Environ()}).Run(context.Background(), run.Cmd{Name: "databricks", Args: []string{"--version"}})
	if err != nil || string(res.Stdout) != "Databricks CLI v0.240.0\n" {
		t.Errorf("through run.Exec: %v, %q", err, res.Stdout)
	}
	env.Update(func(s *fakedatabricks.State) { s.Version = "Databricks CLI v1.13.0" })
	if out, _, _ := cli(t, env, "--version"); out != "Databricks CLI v1.13.0\n" {
		t.Errorf("v1: %q", out)
	}
}

func TestLegacyVersion(t *testing.T) {
	env := fakedatabricks.Start(t)
	env.Update(func(s *fakedatabricks.State) { s.Version = fakedatabricks.LegacyVersion })
	out, _, code := cli(t, env, "--version")
	if code != 0 || out != "Version 0.18.0\n" {
		t.Errorf("--version: exit %d, %q", code, out)
	}
	_, errOut, code := cli(t, env, "auth", "token", "--host", env.Host)
	if code != 2 || !strings.Contains(errOut, "Error: No such command 'auth'.") {
		t.Errorf("legacy auth: exit %d, stderr %q", code, errOut)
	}
}

func TestAuthTokenJSON(t *testing.T) {
	env := fakedatabricks.Start(t)
	out, errOut, code := cli(t, env, "auth", "token", "--host", env.Host)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.HasSuffix(out, "\n") {
		t.Error("auth token output ends with a newline; the real CLI prints none")
	}
	if !strings.HasPrefix(out, "{\n  \"access_token\": ") {
		t.Errorf("output is not indented JSON starting with access_token (%d bytes)", len(out))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["refresh_token"]; ok {
		t.Error("refresh_token must never appear")
	}
	if m["token_type"] != "Bearer" {
		t.Errorf("token_type = %v", m["token_type"])
	}
	exp, err := time.Parse(time.RFC3339Nano, m["expiry"].(string))
	if err != nil {
		t.Fatalf("expiry: %v", err)
	}
	if d := time.Until(exp); d < 55*time.Minute || d > 61*time.Minute {
		t.Errorf("expiry in %v, want about 1h", d)
	}
	// The token is a real RS256 JWT with the workspace's claims.
	raw := m["access_token"].(string)
	tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if err != nil {
		t.Fatalf("token does not parse: %v", err)
	}
	c := tok.Claims.(jwt.MapClaims)
	if tok.Header["alg"] != "RS256" || tok.Header["typ"] != "at+jwt" {
		t.Errorf("header %v", tok.Header)
	}
	if c["sub"] != fakedatabricks.DefaultUser || c["iss"] != env.Host+"/oidc" || c["client_id"] != "databricks-cli" ||
		c["scope"] != "offline_access all-apis" || c["jti"] == nil {
		t.Errorf("claims: sub=%v iss=%v client_id=%v scope=%v", c["sub"], c["iss"], c["client_id"], c["scope"])
	}
	if c["exp"].(float64)-c["iat"].(float64) != 3600 {
		t.Errorf("exp-iat = %v", c["exp"].(float64)-c["iat"].(float64))
	}
	// By profile too.
	out2, _, code := cli(t, env, "auth", "token", "--profile", fakedatabricks.DefaultProfile)
	if code != 0 || !strings.Contains(out2, raw) {
		t.Errorf("by profile: exit %d, token %s vs %s", code, hash(out2), hash(raw))
	}
}

func TestNotLoggedIn(t *testing.T) {
	env := fakedatabricks.Start(t)
	env.LogOut()
	out, errOut, code := cli(t, env, "auth", "token", "--host", env.Host)
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "Error: ") || !strings.Contains(errOut, fakedatabricks.NotConfigured) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Another host is not configured either.
	_, errOut, code = cli(t, fakedatabricks.Start(t), "auth", "token", "--host", "https://other.cloud.databricks.com")
	if code != 1 || !strings.Contains(errOut, fakedatabricks.NotConfigured) {
		t.Errorf("other host: exit %d, stderr %q", code, errOut)
	}
}

func TestCacheRule(t *testing.T) {
	env := fakedatabricks.Start(t)
	now := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	env.Update(func(s *fakedatabricks.State) { s.Now = now })
	first := authToken(t, env)
	// 12 minutes left: the same token comes back.
	env.Update(func(s *fakedatabricks.State) { s.Now = now.Add(48 * time.Minute) })
	if again := authToken(t, env); again.AccessToken != first.AccessToken {
		t.Error("with 12 minutes left the CLI must return the cached token unchanged")
	}
	// 4 minutes left: refreshed.
	env.Update(func(s *fakedatabricks.State) { s.Now = now.Add(56 * time.Minute) })
	if fresh := authToken(t, env); fresh.AccessToken == first.AccessToken {
		t.Error("with 4 minutes left the CLI must refresh")
	}
	if n := env.State().Minted; n != 2 {
		t.Errorf("minted %d tokens, want 2", n)
	}
}

func TestForceRefresh(t *testing.T) {
	env := fakedatabricks.Start(t)
	_, errOut, code := cli(t, env, "auth", "token", "--host", env.Host, "--force-refresh")
	if code != 1 || strings.TrimSpace(errOut) != "Error: unknown flag: --force-refresh" {
		t.Errorf("v0.240 --force-refresh: exit %d, stderr %q", code, errOut)
	}
	env.Update(func(s *fakedatabricks.State) { s.Version = "Databricks CLI v0.296.0" })
	first := authToken(t, env)
	if again := authToken(t, env); again.AccessToken != first.AccessToken {
		t.Error("without --force-refresh the cached token comes back")
	}
	if forced := authToken(t, env, "--force-refresh"); forced.AccessToken == first.AccessToken {
		t.Error("--force-refresh must mint a new token")
	}
	out, _, code := cli(t, env, "auth", "token", "--host", env.Host, "-o", "text")
	if code != 0 || strings.Count(out, ".") != 2 || strings.Contains(out, "{") {
		t.Errorf("-o text: exit %d, %d bytes", code, len(out))
	}
}

func TestRefreshRejectedMultipleProfilesGarbage(t *testing.T) {
	env := fakedatabricks.Start(t)
	env.Update(func(s *fakedatabricks.State) { s.RefreshRejected = true })
	_, errOut, code := cli(t, env, "auth", "token", "--profile", "DEFAULT")
	if code != 1 || !strings.Contains(errOut, "the refresh token is invalid") || !strings.Contains(errOut, "databricks auth login --profile DEFAULT") {
		t.Errorf("refresh rejected: exit %d, stderr %q", code, errOut)
	}
	env.Update(func(s *fakedatabricks.State) { s.RefreshRejected = false; s.Profiles = []string{"DEFAULT", "voyce"} })
	_, errOut, code = cli(t, env, "auth", "token", "--host", env.Host)
	if code != 1 || !strings.Contains(errOut, "--profile") {
		t.Errorf("multiple profiles: exit %d, stderr %q", code, errOut)
	}
	authToken(t, env, "--profile", "voyce")
	env.Update(func(s *fakedatabricks.State) { s.Profiles = []string{"DEFAULT"}; s.Garbage = true })
	out, _, code := cli(t, env, "auth", "token", "--host", env.Host)
	if code != 0 || json.Valid([]byte(out)) {
		t.Errorf("garbage: exit %d, %q", code, out)
	}
}

func TestHang(t *testing.T) {
	env := fakedatabricks.Start(t)
	env.Update(func(s *fakedatabricks.State) { s.Hang = true })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.CLIPath, "auth", "token", "--host", env.Host)
	cmd.Env = env.Environ()
	err := cmd.Run()
	if ctx.Err() == nil {
		t.Fatalf("a hanging CLI returned: %v", err)
	}
}

func TestLoginDescribeAndCalls(t *testing.T) {
	env := fakedatabricks.Start(t)
	env.LogOut()
	_, errOut, code := cli(t, env, "auth", "login", "--host", env.Host, "--profile", "voyce")
	if code != 0 || !strings.Contains(errOut, "Please complete authentication by opening this link in your browser:\n"+env.Host+"/oidc/v1/authorize?") ||
		!strings.Contains(errOut, "Profile voyce was successfully saved") {
		t.Fatalf("login: exit %d, stderr %q", code, errOut)
	}
	cfg, _ := os.ReadFile(env.ConfigFile)
	if !strings.Contains(string(cfg), "[voyce]\nhost      = "+env.Host+"\nauth_type = databricks-cli\n") {
		t.Errorf("config file: %q", cfg)
	}
	out, _, code := cli(t, env, "auth", "describe", "--profile", "voyce", "-o", "json")
	var d struct {
		Status, Username string
	}
	json.Unmarshal([]byte(out), &d)
	if code != 0 || d.Status != "success" || d.Username != fakedatabricks.DefaultUser {
		t.Errorf("describe: exit %d, %q", code, out)
	}
	env.LogOut()
	out, _, code = cli(t, env, "auth", "describe", "--host", env.Host, "-o", "json")
	json.Unmarshal([]byte(out), &d)
	if code != 0 || d.Status != "error" {
		t.Errorf("describe logged out: exit %d, %q", code, out)
	}
	if calls := env.Calls(); len(calls) != 3 || calls[0][1] != "login" {
		t.Errorf("calls: %v", calls)
	}
	if env.CallCount("auth", "describe") != 2 {
		t.Errorf("describe calls: %d", env.CallCount("auth", "describe"))
	}
}

func TestDatabaseCredential(t *testing.T) {
	env := fakedatabricks.Start(t)
	out, errOut, code := cli(t, env, "database", "generate-database-credential", "--profile", "DEFAULT",
		"--request-id", "0b6c1c0e-0000-4000-8000-000000000001", "--json", `{"instance_names":["voyce-pg"]}`)
	var c struct {
		ExpirationTime string `json:"expiration_time"`
		Token          string `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &c); code != 0 || err != nil || c.Token == "" || c.ExpirationTime == "" {
		t.Fatalf("exit %d, err %v, stderr %q", code, err, errOut)
	}
	env.Update(func(s *fakedatabricks.State) { s.DatabaseCredential = "fixed-credential" })
	out, _, _ = cli(t, env, "database", "generate-database-credential", "--profile", "DEFAULT", "--json", `{"instance_names":["voyce-pg"]}`)
	json.Unmarshal([]byte(out), &c)
	if c.Token != "fixed-credential" {
		t.Errorf("fixed credential not returned")
	}
}

func TestWorkspaceMe(t *testing.T) {
	env := fakedatabricks.Start(t)
	get := func(tok string) (int, string, http.Header) {
		req, _ := http.NewRequest("GET", env.Host+"/api/2.0/preview/scim/v2/Me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String(), resp.Header
	}
	good := env.MintToken("dev.user@example.com", time.Now(), time.Hour)
	code, body, hdr := get(good)
	if code != 200 || !strings.Contains(body, `"userName":"dev.user@example.com"`) {
		t.Errorf("valid token: %d %s", code, body)
	}
	if d, err := http.ParseTime(hdr.Get("Date")); err != nil || time.Since(d).Abs() > time.Minute {
		t.Errorf("Date header %q", hdr.Get("Date"))
	}
	if code, _, _ := get(env.MintToken("dev.user@example.com", time.Now().Add(-2*time.Hour), time.Hour)); code != 401 {
		t.Errorf("expired token: %d", code)
	}
	if code, body, _ := get(good[:len(good)-4] + "AAAA"); code != 403 || !strings.Contains(body, `"message":"Invalid access token."`) {
		t.Errorf("bad signature: %d %s", code, body)
	}
	env.Update(func(s *fakedatabricks.State) { s.ServerSkew = 3 * time.Hour })
	code, _, hdr = get(good)
	if d, _ := http.ParseTime(hdr.Get("Date")); code != 401 || time.Until(d) < 2*time.Hour {
		t.Errorf("skewed: %d, Date %q", code, hdr.Get("Date"))
	}
	env.Update(func(s *fakedatabricks.State) { s.ServerSkew = 0; s.ForceMeStatus = 403 })
	if code, _, _ := get(good); code != 403 {
		t.Errorf("forced 403: %d", code)
	}
	resp, err := http.Get(env.Host + "/oidc/.well-known/oauth-authorization-server")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("discovery: %v", err)
	}
	resp.Body.Close()
}
