package doctor

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// closedPort returns a 127.0.0.1 port nothing listens on.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func assertNoSecret(t *testing.T, r Result, secret string) {
	t.Helper()
	all := r.Message + r.Fix + strings.Join(r.Details, "\n")
	if secret != "" && strings.Contains(all, secret) {
		t.Errorf("result contains the secret (length %d)", len(secret))
	}
}
