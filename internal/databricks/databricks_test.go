package databricks_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/internal/databricks"
	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/internal/testutil/fakedatabricks"
	"github.com/voyce/voyce-auth/internal/token"
)

func client(env *fakedatabricks.Env) *databricks.Client {
	return &databricks.Client{Runner: &run.Exec{Environ: env.Environ()}, GOOS: "linux"}
}

func kindIs(t *testing.T, err error, want databricks.Kind) *databricks.Error {
	t.Helper()
	var e *databricks.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *databricks.Error", err)
	}
	if e.Kind != want {
		t.Fatalf("kind %v (%v), want %v", e.Kind, err, want)
	}
	return e
}

func TestVersion(t *testing.T) {
	env := fakedatabricks.Start(t)
	c := client(env)
	ctx := context.Background()
	v, err := c.Version(ctx)
	if err != nil || v.Legacy || v.String() != "v0.240.0" || !v.AtLeast(databricks.MinLogin) || v.CanForceRefresh() {
		t.Errorf("v0.240.0: %v %v", v, err)
	}
	env.Update(func(s *fakedatabricks.State) { s.Version = "Databricks CLI v1.13.0" })
	if v, _ := c.Version(ctx); !v.CanForceRefresh() || v.Require(databricks.MinLogin, "linux") != nil {
		t.Errorf("v1.13.0: %v", v)
	}
	env.Update(func(s *fakedatabricks.State) { s.Version = fakedatabricks.LegacyVersion })
	v, err = c.Version(ctx)
	if err != nil || !v.Legacy {
		t.Fatalf("legacy: %v %v", v, err)
	}
	e := kindIs(t, v.Require(databricks.MinLogin, "darwin"), databricks.KindLegacy)
	if !strings.Contains(e.Fix, "brew tap databricks/tap && brew install databricks") {
		t.Errorf("fix %q", e.Fix)
	}
	// The legacy CLI has no auth command.
	_, err = c.Token(ctx, env.Host, "", false)
	kindIs(t, err, databricks.KindLegacy)
	env.Update(func(s *fakedatabricks.State) { s.Version = "Databricks CLI v0.200.0" })
	v, _ = c.Version(ctx)
	kindIs(t, v.Require(databricks.MinLogin, "linux"), databricks.KindTooOld)
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]string{
		"Databricks CLI v0.240.0\n": "v0.240.0", "Databricks CLI v1.13.0": "v1.13.0", "Version 0.18.0\n": "0.18.0 (legacy)",
	} {
		if v, err := databricks.ParseVersion(in); err != nil || v.String() != want {
			t.Errorf("ParseVersion(%q) = %v, %v", in, v, err)
		}
	}
	_, err := databricks.ParseVersion("<html>")
	kindIs(t, err, databricks.KindGarbage)
}

func TestNotInstalled(t *testing.T) {
	c := &databricks.Client{Runner: &run.Exec{Environ: []string{"PATH=" + t.TempDir()}}, GOOS: "linux"}
	_, err := c.Version(context.Background())
	e := kindIs(t, err, databricks.KindNotInstalled)
	if !strings.Contains(e.Fix, "curl -fsSL https://raw.githubusercontent.com/databricks/setup-cli/main/install.sh | sh") {
		t.Errorf("fix %q", e.Fix)
	}
	if strings.Contains(strings.ReplaceAll(e.Fix, "not 'pip install databricks-cli'", ""), "pip install") {
		t.Errorf("the fix recommends pip: %q", e.Fix)
	}
}

func TestToken(t *testing.T) {
	env := fakedatabricks.Start(t)
	c := client(env)
	ctx := context.Background()
	tok, err := c.Token(ctx, env.Host, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if v := token.Check(tok.AccessToken, time.Now(), env.Host); !v.Valid() || v.Info.Subject != fakedatabricks.DefaultUser {
		t.Errorf("token: %s", v.Message)
	}
	if tok.TokenType != "Bearer" || time.Until(tok.Expiry) < 55*time.Minute {
		t.Errorf("type %q expiry %v", tok.TokenType, tok.Expiry)
	}
	again, err := c.Token(ctx, env.Host, fakedatabricks.DefaultProfile, false)
	if err != nil || again.AccessToken != tok.AccessToken {
		t.Errorf("cached token not returned: %v", err)
	}
	for _, call := range env.Calls() {
		for _, a := range call {
			if strings.Contains(a, tok.AccessToken) {
				t.Error("token in argv")
			}
		}
	}
	// --force-refresh on an old CLI.
	_, err = c.Token(ctx, env.Host, "", true)
	kindIs(t, err, databricks.KindTooOld)
	env.Update(func(s *fakedatabricks.State) { s.Version = "Databricks CLI v0.296.1" })
	forced, err := c.Token(ctx, env.Host, "", true)
	if err != nil || forced.AccessToken == tok.AccessToken {
		t.Errorf("force refresh: %v", err)
	}
}

func TestTokenFailures(t *testing.T) {
	env := fakedatabricks.Start(t)
	c := client(env)
	ctx := context.Background()
	wantFix := "databricks auth login --host " + env.Host + " --profile voyce"

	env.LogOut()
	_, err := c.Token(ctx, env.Host, "voyce", false)
	// --profile voyce is unknown to the CLI now: log in with it.
	if e := kindIs(t, err, databricks.KindNotLoggedIn); e.Fix != wantFix {
		t.Errorf("unknown profile: %v", err)
	}
	_, err = c.Token(ctx, env.Host, "", false)
	if e := kindIs(t, err, databricks.KindNotLoggedIn); e.Fix != wantFix {
		t.Errorf("fix %q", e.Fix)
	}

	env.Update(func(s *fakedatabricks.State) {
		s.LoggedIn = true
		s.Profiles = []string{"voyce"}
		s.RefreshRejected = true
	})
	_, err = c.Token(ctx, env.Host, "voyce", false)
	if e := kindIs(t, err, databricks.KindRefreshRejected); e.Fix != wantFix {
		t.Errorf("fix %q", e.Fix)
	}

	env.Update(func(s *fakedatabricks.State) { s.RefreshRejected = false; s.Profiles = []string{"voyce", "other"} })
	_, err = c.Token(ctx, env.Host, "", false)
	kindIs(t, err, databricks.KindMultipleProfiles)

	env.Update(func(s *fakedatabricks.State) { s.Profiles = []string{"voyce"}; s.Garbage = true })
	_, err = c.Token(ctx, env.Host, "voyce", false)
	if e := kindIs(t, err, databricks.KindGarbage); strings.Contains(e.Error(), "html") {
		t.Errorf("the error repeats the output: %v", e)
	}

	env.Update(func(s *fakedatabricks.State) { s.Garbage = false; s.Hang = true })
	c.TokenTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err = c.Token(ctx, env.Host, "voyce", false)
	if e := kindIs(t, err, databricks.KindTimeout); !e.Transient() || !databricks.IsTransient(err) {
		t.Error("a timeout is transient")
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("the hung CLI was not stopped in time")
	}
}

func TestLoginDescribe(t *testing.T) {
	env := fakedatabricks.Start(t)
	env.LogOut()
	c := client(env)
	ctx := context.Background()
	d, err := c.Describe(ctx, env.Host, "")
	if err != nil || d.OK() {
		t.Fatalf("describe logged out: %+v %v", d, err)
	}
	kindIs(t, d.Err(c, env.Host, "voyce"), databricks.KindNotLoggedIn)

	var out, errOut bytes.Buffer
	if err := c.Login(ctx, env.Host, "voyce", strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("login: %v", err)
	}
	if !strings.Contains(errOut.String(), "Profile voyce was successfully saved") {
		t.Errorf("login output %q", errOut.String())
	}
	d, err = c.Describe(ctx, "", "voyce")
	if err != nil || !d.OK() || d.Username != fakedatabricks.DefaultUser || d.Host != env.Host {
		t.Errorf("describe: %+v %v", d, err)
	}
	if calls := env.Calls(); len(calls) != 3 || strings.Join(calls[1], " ") != "auth login --host "+env.Host+" --profile voyce" {
		t.Errorf("calls %v", calls)
	}
}

func TestGenerateDatabaseCredential(t *testing.T) {
	env := fakedatabricks.Start(t)
	c := client(env)
	cred, err := c.GenerateDatabaseCredential(context.Background(), env.Host, "", "voyce-pg", "6f1c1c0e-0000-4000-8000-000000000001")
	if err != nil || cred.Token == "" || time.Until(cred.ExpirationTime) < 50*time.Minute {
		t.Fatalf("credential: %v", err)
	}
	call := env.Calls()[0]
	if strings.Join(call, " ") != `database generate-database-credential --request-id 6f1c1c0e-0000-4000-8000-000000000001 --json {"instance_names":["voyce-pg"]}` {
		t.Errorf("argv %v", call)
	}
	if _, err := c.GenerateDatabaseCredential(context.Background(), env.Host, "DEFAULT", "voyce-pg", "x"); err != nil {
		t.Errorf("with profile: %v", err)
	}
}

func TestMe(t *testing.T) {
	env := fakedatabricks.Start(t)
	ctx := context.Background()
	tok := env.MintToken("dev.user@example.com", time.Now(), time.Hour)
	u, date, err := databricks.Me(ctx, nil, env.Host, tok)
	if err != nil || u.UserName != "dev.user@example.com" || !u.Active || time.Since(date).Abs() > time.Minute {
		t.Fatalf("Me: %+v %v %v", u, date, err)
	}
	_, _, err = databricks.Me(ctx, nil, env.Host, env.MintToken("dev.user@example.com", time.Now().Add(-3*time.Hour), time.Hour))
	if e := kindIs(t, err, databricks.KindUnauthorized); !strings.Contains(e.Fix, "voyce-auth rotate") || !strings.Contains(e.Msg, "401") {
		t.Errorf("expired: %v", e)
	}
	env.Update(func(s *fakedatabricks.State) { s.ForceMeStatus = http.StatusForbidden })
	_, _, err = databricks.Me(ctx, nil, env.Host, tok)
	if e := kindIs(t, err, databricks.KindUnauthorized); !strings.Contains(e.Msg, "Invalid access token.") || strings.Contains(e.Error(), tok) {
		t.Errorf("invalid: %v", e)
	}
	_, _, err = databricks.Me(ctx, nil, "http://127.0.0.1:1", tok)
	kindIs(t, err, databricks.KindNetwork)
}

func TestValidateHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://adb-1.7.azuredatabricks.net/": "https://adb-1.7.azuredatabricks.net",
		"adb-1.7.azuredatabricks.net":          "https://adb-1.7.azuredatabricks.net",
		"http://127.0.0.1:8080":                "http://127.0.0.1:8080",
	} {
		if got, err := databricks.ValidateHost(in); err != nil || got != want {
			t.Errorf("ValidateHost(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "http://example.com", "https://x.net/path", "ftp://x.net", "https://u:p@x.net"} {
		if _, err := databricks.ValidateHost(bad); err == nil {
			t.Errorf("ValidateHost(%q) accepted", bad)
		}
	}
}
