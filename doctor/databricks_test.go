package doctor

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/internal/testutil/fakedatabricks"
)

func dbDeps(env *fakedatabricks.Env) *Deps {
	return &Deps{Runner: &run.Exec{Environ: env.Environ()}, GOOS: "linux", HTTP: &http.Client{Timeout: 5 * time.Second}}
}

func TestCheckDatabricksCLI(t *testing.T) {
	env := fakedatabricks.Start(t)
	d := dbDeps(env)
	ctx := withTimeout(t, 10*time.Second)
	if r := d.checkDatabricksCLI(ctx); r.Status != StatusOK || r.Message != "Databricks CLI v0.240.0" {
		t.Errorf("modern: %+v", r)
	}
	env.Update(func(s *fakedatabricks.State) { s.Version = fakedatabricks.LegacyVersion })
	r := d.checkDatabricksCLI(ctx)
	if r.Status != StatusFail || !strings.Contains(r.Message, "legacy pip CLI (Version 0.18.0)") ||
		!strings.Contains(r.Fix, "pip uninstall databricks-cli") || !strings.Contains(r.Fix, "install.sh") {
		t.Errorf("legacy: %+v", r)
	}
	env.Update(func(s *fakedatabricks.State) { s.Version = "Databricks CLI v0.200.1" })
	if r := d.checkDatabricksCLI(ctx); r.Status != StatusFail || !strings.Contains(r.Message, "too old") {
		t.Errorf("too old: %+v", r)
	}
	d.Runner = &run.Exec{Environ: []string{"PATH=" + t.TempDir()}}
	if r := d.checkDatabricksCLI(ctx); r.Status != StatusFail || !strings.Contains(r.Message, "not installed") ||
		!strings.Contains(r.Fix, "not 'pip install databricks-cli'") {
		t.Errorf("missing: %+v", r)
	}
}

func TestCheckDatabricksCLIHangsWithinLimit(t *testing.T) {
	env := fakedatabricks.Start(t)
	env.Update(func(s *fakedatabricks.State) { s.HangVersion = true })
	d := dbDeps(env)
	start := time.Now()
	r := d.checkDatabricksCLI(withTimeout(t, 500*time.Millisecond))
	if time.Since(start) > 4*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
	if r.Status != StatusFail || !strings.Contains(r.Message, "did not answer in time") {
		t.Errorf("hang: %+v", r)
	}
}

func TestCheckDatabricksLogin(t *testing.T) {
	env := fakedatabricks.Start(t)
	d := dbDeps(env)
	ctx := withTimeout(t, 10*time.Second)
	r := d.checkDatabricksLogin(ctx, env.Host, fakedatabricks.DefaultProfile)
	if r.Status != StatusOK || !strings.Contains(r.Message, "as "+fakedatabricks.DefaultUser) {
		t.Errorf("logged in: %+v", r)
	}
	env.LogOut()
	r = d.checkDatabricksLogin(ctx, env.Host, "")
	if r.Status != StatusFail || !strings.Contains(r.Message, "not logged in") ||
		!strings.HasPrefix(r.Fix, "databricks auth login --host "+env.Host) {
		t.Errorf("logged out: %+v", r)
	}
	env.Update(func(s *fakedatabricks.State) { s.Version = fakedatabricks.LegacyVersion })
	if r := d.checkDatabricksLogin(ctx, env.Host, ""); r.Status != StatusFail || !strings.Contains(r.Message, "legacy") {
		t.Errorf("legacy: %+v", r)
	}
}

func TestCheckTokenAPI(t *testing.T) {
	env := fakedatabricks.Start(t)
	d := dbDeps(env)
	ctx := withTimeout(t, 10*time.Second)
	now := time.Now()
	tok := env.MintToken(fakedatabricks.DefaultUser, now.Add(-time.Minute), time.Hour)
	if r := d.checkTokenAPI(ctx, env.Host, tok); r.Status != StatusOK ||
		r.Message != "the workspace accepts the token: dev.user@example.com (dev.user)" {
		t.Errorf("ok: %+v", r)
	}
	expired := env.MintToken(fakedatabricks.DefaultUser, now.Add(-2*time.Hour), time.Hour)
	r := d.checkTokenAPI(ctx, env.Host, expired)
	if r.Status != StatusFail || !strings.Contains(r.Message, "HTTP 401") || !strings.Contains(r.Fix, "voyce-auth rotate --force") {
		t.Errorf("401: %+v", r)
	}
	assertNoSecret(t, r, expired)
	env.Update(func(s *fakedatabricks.State) { s.ForceMeStatus = http.StatusForbidden })
	r = d.checkTokenAPI(ctx, env.Host, tok)
	if r.Status != StatusFail || !strings.Contains(r.Message, "HTTP 403") || !strings.Contains(r.Fix, "databricks auth login") {
		t.Errorf("403: %+v", r)
	}
	assertNoSecret(t, r, tok)
}
