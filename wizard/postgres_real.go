package wizard

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/internal/pg"
)

// PG is the real Postgres side of the wizard, built on internal/pg (the one place that validates
// connection fields and classifies connection failures).
type PG struct {
	// ConnectTimeout bounds one connection attempt; 0 means pg.DefaultConnectTimeout.
	ConnectTimeout time.Duration
}

// Validate implements Postgres.
func (PG) Validate(field, value string) (string, error) {
	if err := pg.ValidateField(field, value); err != nil {
		return "", err
	}
	switch {
	case field == "user" && !strings.Contains(value, "@"):
		return fmt.Sprintf("%q has no '@': on Lakebase the user is your Databricks e-mail (kept as typed)", value), nil
	case field == "sslmode" && (value == "disable" || value == "allow" || value == "prefer"):
		return fmt.Sprintf("sslmode=%s can connect without encryption; Lakebase needs require or stricter", value), nil
	}
	return "", nil
}

// Verify implements Postgres.
func (p PG) Verify(ctx context.Context, c Conn, password string) (string, error) {
	params := pg.Params{Host: c.Host, Port: c.Port, Database: c.Database, User: c.User, Password: password,
		SSLMode: c.SSLMode, ConnectTimeout: p.ConnectTimeout}
	info, err := pg.Verify(ctx, params)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		pr := pg.Classify(err, params)
		cause := CauseOther
		switch {
		case pr.Cause == pg.CauseWrongPassword:
			cause = CauseWrongPassword
		case pr.Cause.Unreachable():
			cause = CauseUnreachable
		}
		return "", &Problem{Cause: cause, Message: pr.Message, Fix: pr.Fix}
	}
	return describeServer(info), nil
}

// describeServer is "PostgreSQL 16.4, encrypted (TLSv1.3)" from the server's answers.
func describeServer(info *pg.ServerInfo) string {
	v := info.Version
	if f := strings.Fields(v); len(f) >= 2 {
		v = f[0] + " " + f[1]
	}
	switch {
	case info.SSL && info.SSLVersion != "":
		return v + " over " + info.SSLVersion
	case info.SSL:
		return v + " over TLS"
	}
	return v + ", NOT encrypted"
}
