package wizard

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/databricks"
	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/internal/testutil/fakedatabricks"
)

func newDB(t *testing.T) (*DB, *fakedatabricks.Env, *bytes.Buffer) {
	env := fakedatabricks.Start(t)
	var out bytes.Buffer
	return &DB{
		Client: &databricks.Client{Runner: &run.Exec{Environ: env.Environ()}},
		Clock:  clock.System{}, GOOS: "linux",
		In: strings.NewReader(""), Out: &out, ErrOut: &out,
	}, env, &out
}

func TestDBAgainstStandIn(t *testing.T) {
	ctx := context.Background()
	d, env, out := newDB(t)
	v, err := d.CheckCLI(ctx)
	if err != nil || !strings.Contains(v, "0.240") {
		t.Fatalf("CheckCLI = %q, %v", v, err)
	}
	host, err := d.ValidateHost(env.Host + "/")
	if err != nil || host != env.Host {
		t.Fatalf("ValidateHost = %q, %v", host, err)
	}
	if _, err := d.ValidateHost("http://example.com"); err == nil {
		t.Errorf("http on a non-loopback host was accepted")
	}

	env.LogOut()
	_, err = d.Token(ctx, host, "voyce")
	var p *Problem
	if !errors.As(err, &p) || p.Cause != CauseNotLoggedIn || !strings.Contains(p.Fix, "databricks auth login") {
		t.Fatalf("Token when logged out: %v", err)
	}
	if err := d.Login(ctx, host, "voyce"); err != nil {
		t.Fatalf("Login: %v (%s)", err, out)
	}
	tok, err := d.Token(ctx, host, "voyce")
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	info, err := d.Inspect(tok, host)
	if err != nil || info.Subject != fakedatabricks.DefaultUser || info.Remaining < 50*time.Minute || len(info.Scopes) == 0 {
		t.Fatalf("Inspect = %+v, %v", info, err)
	}
	if _, err := d.Inspect(tok, "https://other.example.com"); err == nil {
		t.Errorf("token of another workspace accepted")
	}
	if _, err := d.Inspect(env.MintToken("x@example.com", time.Now().Add(-2*time.Hour), time.Hour), host); err == nil {
		t.Errorf("expired token accepted")
	}
}

func TestDBLegacyAndOld(t *testing.T) {
	ctx := context.Background()
	d, env, _ := newDB(t)
	env.Update(func(s *fakedatabricks.State) { s.Version = fakedatabricks.LegacyVersion })
	_, err := d.CheckCLI(ctx)
	var p *Problem
	if !errors.As(err, &p) || !strings.Contains(p.Message+p.Fix, "pip") {
		t.Fatalf("legacy CLI: %v", err)
	}
	env.Update(func(s *fakedatabricks.State) { s.Version = "Databricks CLI v0.200.0" })
	if _, err := d.CheckCLI(ctx); err == nil {
		t.Fatalf("v0.200 accepted")
	}
	d.Client.Runner = &run.Exec{Environ: []string{"PATH=/nonexistent"}}
	_, err = d.CheckCLI(ctx)
	if !errors.As(err, &p) || !strings.Contains(p.Fix, "install") {
		t.Fatalf("missing CLI: %v", err)
	}
}
