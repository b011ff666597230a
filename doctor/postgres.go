package doctor

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/internal/pg"
)

// remaining is the time left before ctx's deadline (the fallback when it has none).
func remaining(ctx context.Context, fallback time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left > 0 {
			return left
		}
		return time.Millisecond
	}
	return fallback
}

// checkDNS resolves the Postgres host.
func checkDNS(ctx context.Context, p pg.Params) Result {
	if ip := net.ParseIP(p.Host); ip != nil {
		return OK("%s is an IP address (nothing to resolve)", p.Host)
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, p.Host)
	if err == nil && len(addrs) == 0 {
		err = &net.DNSError{Err: "no addresses", Name: p.Host, IsNotFound: true}
	}
	if err != nil {
		var dnsErr *net.DNSError
		if ctx.Err() != nil || errors.As(err, &dnsErr) && dnsErr.IsTimeout {
			return Fail("Check your network connection, VPN or DNS settings, then run 'voyce-auth doctor' again",
				"no DNS answer for %s in time (offline, or behind a VPN that is not connected?)", p.Host).
				WithDetails(err.Error())
		}
		pr := pg.Classify(err, p)
		return Fail(pr.Fix, "%s", pr.Message).WithDetails(err.Error())
	}
	shown := addrs
	if len(shown) > 3 {
		shown = append(shown[:3:3], "…")
	}
	return OK("%s resolves to %s", p.Host, strings.Join(shown, ", ")).WithDetails(addrs...)
}

// checkTCP opens (and closes) a TCP connection to the Postgres port.
func checkTCP(ctx context.Context, p pg.Params) Result {
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", p.Addr())
	if err != nil {
		p.ConnectTimeout = remaining(ctx, pg.DefaultConnectTimeout).Round(100 * time.Millisecond)
		pr := pg.Classify(err, p)
		return Fail(pr.Fix, "%s", pr.Message).WithDetails(err.Error())
	}
	remote := conn.RemoteAddr().String()
	conn.Close()
	return OK("%s accepts TCP connections", p.Addr()).WithDetails("connected to " + remote)
}

// checkLogin logs in with pgx (TLS as p.SSLMode says) and asks the server for its version and whether the
// session is encrypted.
func checkLogin(ctx context.Context, p pg.Params) Result {
	p.ConnectTimeout = remaining(ctx, pg.DefaultConnectTimeout)
	info, err := pg.Verify(ctx, p)
	if err != nil {
		p.ConnectTimeout = p.ConnectTimeout.Round(100 * time.Millisecond)
		pr := pg.Classify(err, p)
		return Fail(pr.Fix, "%s", pr.Message).WithDetails("cause: "+string(pr.Cause), "connection: "+p.String())
	}
	version := shortVersion(info.Version)
	details := []string{"server: " + info.Version, "connection: " + p.String()}
	if !info.SSL {
		return Warn("Set sslmode=require for this connection (Lakebase accepts only TLS); see database-url and .env",
			"logged in as %s, but the session is NOT encrypted (%s)", p.User, version).WithDetails(details...)
	}
	tls := "TLS"
	if info.SSLVersion != "" {
		tls = info.SSLVersion
	}
	return OK("logged in as %s to %s over %s (%s)", p.User, p.Database, tls, version).WithDetails(details...)
}

// shortVersion turns "PostgreSQL 16.4 (Debian 16.4-1) on x86_64-pc-linux-gnu, ..." into "PostgreSQL 16.4".
func shortVersion(v string) string {
	f := strings.Fields(v)
	if len(f) >= 2 {
		return strings.TrimSuffix(f[0]+" "+f[1], ",")
	}
	return v
}
