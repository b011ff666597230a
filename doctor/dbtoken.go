package doctor

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/voyce/voyce-auth/internal/token"
)

// TokenWarnBefore is how long before expiry oauth-token starts warning.
const TokenWarnBefore = 15 * time.Minute

// MaxClockSkew is the clock difference clock-skew tolerates before warning.
const MaxClockSkew = 2 * time.Minute

// checkToken judges the token stored in .env at now, for the workspace host.
func checkToken(raw, host string, now time.Time) Result {
	const refresh = "voyce-auth rotate --force"
	v := token.Check(raw, now, host)
	switch v.Status {
	case token.Missing:
		return Fail(refresh+"   (gets a token from the Databricks CLI and saves it in .env)",
			"DATABRICKS_OAUTH_TOKEN is not set in .env")
	case token.Malformed, token.NoExpiry:
		return Fail(refresh, "DATABRICKS_OAUTH_TOKEN: %s", v.Message)
	case token.Expired:
		return Fail(refresh+"\nthen keep it fresh: voyce-auth schedule install", "%s", upperFirst(v.Message)).
			WithDetails(tokenDetails(v.Info)...)
	case token.IssuerMismatch:
		return Fail("Check DATABRICKS_HOST in .env, then: "+refresh, "%s", upperFirst(v.Message)).
			WithDetails(tokenDetails(v.Info)...)
	}
	if v.Remaining < TokenWarnBefore {
		return Warn("voyce-auth rotate", "the token expires in %s (at %s)", token.Human(v.Remaining),
			v.Info.ExpiresAt.UTC().Format("15:04 UTC")).WithDetails(tokenDetails(v.Info)...)
	}
	return OK("valid for %s more, for %s", token.Human(v.Remaining), v.Info.Subject).
		WithDetails(tokenDetails(v.Info)...)
}

func tokenDetails(i *token.Info) []string {
	if i == nil {
		return nil
	}
	return []string{
		"subject: " + i.Subject,
		"issuer: " + i.Issuer,
		"expires: " + i.ExpiresAt.UTC().Format(time.RFC3339),
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	if c := s[0]; c >= 'a' && c <= 'z' {
		return string(c-'a'+'A') + s[1:]
	}
	return s
}

// checkClockSkew compares the local clock with the workspace's Date header.
func (d *Deps) checkClockSkew(ctx context.Context, host string) Result {
	host = token.NormalizeHost(host)
	url := host + "/oidc/.well-known/oauth-authorization-server"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Fail("Check DATABRICKS_HOST in .env (e.g. https://dbc-1234.cloud.databricks.com)",
			"DATABRICKS_HOST %q is not a usable URL", host)
	}
	client := d.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	clk := d.clock()
	before := clk.Now()
	resp, err := client.Do(req)
	after := clk.Now()
	if err != nil {
		return Warn("Check your network or VPN and DATABRICKS_HOST in .env",
			"could not reach %s to compare clocks", host).WithDetails(err.Error())
	}
	resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return Skip("%s sent no usable Date header", host)
	}
	local := before.Add(after.Sub(before) / 2)
	skew := date.Sub(local)
	abs := skew
	if abs < 0 {
		abs = -abs
	}
	// The header has whole seconds: a difference under 2s is noise.
	if abs < 2*time.Second {
		return OK("the local clock agrees with the workspace's").WithDetails("workspace Date: " + date.Format(time.RFC1123))
	}
	way := "behind"
	if skew < 0 {
		way = "ahead of"
	}
	msg := fmt.Sprintf("the local clock is %s %s the workspace's", roundSkew(abs), way)
	if abs <= MaxClockSkew {
		return OK("%s (fine)", msg)
	}
	return Warn(d.timeSyncFix(), "%s: token expiry times will be off by as much", msg).
		WithDetails("workspace Date: "+date.Format(time.RFC1123), "local time:     "+local.UTC().Format(time.RFC1123))
}

func roundSkew(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	}
	// The Date header has whole seconds: say "about".
	return "about " + token.Human(d.Round(time.Minute))
}

func (d *Deps) timeSyncFix() string {
	switch d.GOOS {
	case "darwin":
		return "Turn on 'Set time and date automatically' (System Settings > General > Date & Time), or: sudo sntp -sS time.apple.com"
	case "windows":
		return "Turn on 'Set time automatically' (Settings > Time & language), or: w32tm /resync"
	default:
		return "Turn on time synchronisation: sudo timedatectl set-ntp true"
	}
}
