package wizard

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/voyce/voyce-auth/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestPGVerify(t *testing.T) {
	srv := pgtest.Shared(t)
	c := Conn{Host: srv.Host, Port: srv.Port, Database: srv.Database, User: srv.User, SSLMode: "require"}
	ctx := context.Background()
	server, err := PG{}.Verify(ctx, c, srv.Password)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !strings.HasPrefix(server, "PostgreSQL ") || !strings.Contains(server, " over TLS") {
		t.Errorf("server = %q", server)
	}

	_, err = PG{}.Verify(ctx, c, "wrong-"+srv.Password)
	var p *Problem
	if !errors.As(err, &p) || p.Cause != CauseWrongPassword {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(p.Message+p.Fix, srv.Password) {
		t.Errorf("problem text contains the password")
	}

	closed := c
	closed.Port = pgtest.SilentListener(t) // accepts and never answers
	_, err = PG{ConnectTimeout: 300e6}.Verify(ctx, closed, srv.Password)
	if !errors.As(err, &p) || p.Cause != CauseUnreachable {
		t.Fatalf("silent port: %v", err)
	}

	noDB := c
	noDB.Database = "nosuchdb"
	_, err = PG{}.Verify(ctx, noDB, srv.Password)
	if !errors.As(err, &p) || p.Cause != CauseOther || p.Fix == "" {
		t.Fatalf("missing database: %v", err)
	}
}

func TestPGValidate(t *testing.T) {
	for _, tc := range []struct {
		field, value string
		warn, bad    bool
	}{
		{"host", "instance-1.database.cloud.databricks.com", false, false},
		{"host", "https://x.example.com", false, true},
		{"port", "0", false, true},
		{"port", "65535", false, false},
		{"user", "", false, true},
		{"user", "devuser", true, false},
		{"user", "dev.user@example.com", false, false},
		{"sslmode", "disable", true, false},
		{"sslmode", "nope", false, true},
	} {
		warn, err := PG{}.Validate(tc.field, tc.value)
		if (err != nil) != tc.bad || (warn != "") != tc.warn {
			t.Errorf("Validate(%s, %q) = %q, %v", tc.field, tc.value, warn, err)
		}
	}
}
