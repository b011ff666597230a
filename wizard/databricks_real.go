package wizard

import (
	"context"
	"errors"
	"io"

	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/databricks"
	"github.com/voyce/voyce-auth/internal/token"
)

// DB is the real Databricks side of the wizard, built on internal/databricks (running the CLI, classifying
// its failures, install hints) and internal/token (judging the JWT).
type DB struct {
	Client *databricks.Client
	Clock  clock.Clock
	// GOOS picks the install hint for a missing or legacy CLI.
	GOOS string
	// The terminal `databricks auth login` is attached to.
	In          io.Reader
	Out, ErrOut io.Writer
}

// CheckCLI implements Databricks: the CLI must be the modern one, v0.205 or newer (auth login).
func (d *DB) CheckCLI(ctx context.Context) (string, error) {
	v, err := d.Client.Version(ctx)
	if err != nil {
		return "", d.problem(ctx, err)
	}
	if err := v.Require(databricks.MinLogin, d.GOOS); err != nil {
		return "", d.problem(ctx, err)
	}
	return v.String(), nil
}

// Login implements Databricks.
func (d *DB) Login(ctx context.Context, host, profile string) error {
	if err := d.Client.Login(ctx, host, profile, d.In, d.Out, d.ErrOut); err != nil {
		return d.problem(ctx, err)
	}
	return nil
}

// Token implements Databricks.
func (d *DB) Token(ctx context.Context, host, profile string) (string, error) {
	t, err := d.Client.Token(ctx, host, profile, false)
	if err != nil {
		return "", d.problem(ctx, err)
	}
	return t.AccessToken, nil
}

// Inspect implements Databricks.
func (d *DB) Inspect(raw, host string) (TokenInfo, error) {
	v := token.Check(raw, d.Clock.Now(), host)
	if !v.Valid() {
		return TokenInfo{}, &Problem{Cause: CauseNotLoggedIn, Message: "the token is not usable: " + v.Message,
			Fix: databricks.LoginCommand(host, "")}
	}
	return TokenInfo{Subject: v.Info.Subject, Scopes: v.Info.Scopes, Expiry: v.Info.ExpiresAt,
		Remaining: v.Remaining}, nil
}

// ValidateHost implements Databricks.
func (d *DB) ValidateHost(raw string) (string, error) { return databricks.ValidateHost(raw) }

// problem turns a classified CLI failure into the wizard's Problem (a cancelled context stays itself).
func (d *DB) problem(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var e *databricks.Error
	if !errors.As(err, &e) {
		return err
	}
	cause := CauseOther
	switch e.Kind {
	case databricks.KindNotLoggedIn, databricks.KindRefreshRejected, databricks.KindUnauthorized:
		cause = CauseNotLoggedIn
	case databricks.KindTimeout, databricks.KindNetwork:
		cause = CauseUnreachable
	}
	return &Problem{Cause: cause, Message: e.Msg, Fix: e.Fix}
}
