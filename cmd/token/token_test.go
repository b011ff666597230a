package token

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/testutil/fakedatabricks"
)

var now = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

func runToken(t *testing.T, envText string, jsonOut bool) (string, string, error) {
	t.Helper()
	dir := t.TempDir()
	envFile := filepath.Join(dir, ".env")
	if envText != "" {
		os.WriteFile(envFile, []byte(envText), 0o600)
	}
	ios, _, out, errOut := iostreams.Test()
	err := Run(&Options{IO: ios, Clock: clock.NewFake(now), EnvFile: envFile, JSON: jsonOut, Location: time.FixedZone("CET", 3600)})
	return out.String(), errOut.String(), err
}

func TestValidToken(t *testing.T) {
	env := fakedatabricks.Start(t)
	tok := env.MintToken("dev.user@example.com", now.Add(-18*time.Minute), time.Hour)
	envText := "DATABRICKS_HOST=" + env.Host + "\nDATABRICKS_OAUTH_TOKEN=" + tok + "\n"
	out, _, err := runToken(t, envText, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"subject             dev.user@example.com",
		"client_id           databricks-cli",
		"scopes              offline_access all-apis",
		"issuer              " + env.Host + "/oidc",
		"audience            databricks-cli",
		"issued              2026-11-26 07:42:00 CET (06:42:00 UTC)",
		"expires             2026-11-26 08:42:00 CET (07:42:00 UTC)",
		"expires_in_minutes  42",
		"valid: the token is valid for 42 minutes more",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, tok) || strings.Contains(out, strings.Split(tok, ".")[1]) {
		t.Error("the token was printed")
	}
	out, _, err = runToken(t, envText, true)
	var r map[string]any
	if err != nil || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("--json: %v", err)
	}
	if r["valid"] != true || r["expires_in_minutes"] != 42.0 || r["subject"] != "dev.user@example.com" ||
		r["expires_at_utc"] != "2026-11-26T07:42:00Z" || r["expires_at"] != "2026-11-26T08:42:00+01:00" {
		t.Errorf("json: %s", out)
	}
	if strings.Contains(out, tok) {
		t.Error("the token was printed")
	}
}

func TestInvalidTokens(t *testing.T) {
	env := fakedatabricks.Start(t)
	expired := env.MintToken("dev.user@example.com", now.Add(-65*time.Minute), time.Hour)
	good := env.MintToken("dev.user@example.com", now, time.Hour)
	cases := []struct {
		name, env, status, fix string
	}{
		{"expired", "DATABRICKS_HOST=" + env.Host + "\nDATABRICKS_OAUTH_TOKEN=" + expired + "\nDATABRICKS_CONFIG_PROFILE=voyce\n", "expired",
			"voyce-auth rotate; if the CLI's login has expired too: databricks auth login --host " + env.Host + " --profile voyce"},
		{"missing", "DATABRICKS_HOST=" + env.Host + "\n", "missing", "voyce-auth rotate --force"},
		{"malformed", "DATABRICKS_HOST=" + env.Host + "\nDATABRICKS_OAUTH_TOKEN=abc.def\n", "malformed", "voyce-auth rotate --force"},
		{"issuer", "DATABRICKS_HOST=https://other.cloud.databricks.com\nDATABRICKS_OAUTH_TOKEN=" + good + "\n", "issuer mismatch", "correct DATABRICKS_HOST"},
		{"no host", "DATABRICKS_OAUTH_TOKEN=" + good + "\n", "issuer mismatch", "voyce-auth setup"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := runToken(t, c.env, false)
			if !errors.Is(err, cmdutil.ErrSilent) {
				t.Errorf("err %v, want exit 1", err)
			}
			if !strings.Contains(out, "not valid ("+c.status+")") || !strings.Contains(out, "fix: ") || !strings.Contains(out, c.fix) {
				t.Errorf("output:\n%s", out)
			}
			for _, tok := range []string{expired, good} {
				if strings.Contains(out, tok) {
					t.Error("the token was printed")
				}
			}
			out, _, _ = runToken(t, c.env, true)
			var r Report
			if json.Unmarshal([]byte(out), &r) != nil || r.Valid || r.Status != c.status || r.Fix == "" {
				t.Errorf("json: %s", out)
			}
		})
	}
	_, _, err := runToken(t, "", false)
	if err == nil || !strings.Contains(err.Error(), "no .env file") || !strings.Contains(err.Error(), "voyce-auth setup") {
		t.Errorf("no .env: %v", err)
	}
}
