// Package pgtest runs a real, throwaway PostgreSQL server for tests, shaped like Lakebase: TLS only
// (`hostssl ... scram-sha-256` in pg_hba.conf, a self-signed certificate), a login role named by an e-mail
// (dev.user@example.com) and a database databricks_postgres. One server per test binary is started lazily by
// Shared and stopped by Main:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestX(t *testing.T) {
//		srv := pgtest.Shared(t)
//		conn, err := pgx.Connect(ctx, srv.ConnString(srv.User, srv.Password))
//		...
//	}
//
// The server binaries (initdb, postgres) are found on PATH, else under /usr/lib/postgresql/*/bin (newest
// version). When they are missing the test fails with an install hint; it never skips. As root the server
// runs as the `postgres` system user (PostgreSQL refuses to run as root); otherwise as the current user.
package pgtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voyce/voyce-auth/internal/pg/scram"
)

// InstallHint is the message given when the server binaries cannot be found.
const InstallHint = "PostgreSQL server binaries not found (initdb, postgres); install them: " +
	"apt-get install postgresql (Debian/Ubuntu) or brew install postgresql (macOS)"

// Names used on every server.
const (
	DefaultDatabase  = "databricks_postgres"
	DefaultUser      = "dev.user@example.com"
	DefaultSuperUser = "pgtest_admin"
)

// Options select how a separate server started with Start differs from the shared one.
type Options struct {
	// NoTLS turns TLS off (ssl=off, `host` lines in pg_hba.conf), to test "server refused TLS connection".
	NoTLS bool
}

// Server is a running throwaway PostgreSQL.
type Server struct {
	Host     string // "127.0.0.1"
	Port     int
	Database string // databricks_postgres
	User     string // dev.user@example.com, a LOGIN role with CONNECT on Database
	Password string // User's password (random)

	SuperUser, SuperPassword string

	DataDir string // the cluster's data folder
	LogPath string // the server's stderr (its log), kept until Stop
	BinDir  string // where initdb and postgres were found
	CAFile  string // the self-signed server certificate (PEM), usable as sslrootcert; "" when TLS is off
	TLS     bool   // ssl=on and hostssl-only pg_hba.conf

	root     string
	cmd      *exec.Cmd
	exited   chan struct{}
	logFile  *os.File
	stopOnce sync.Once
}

var (
	registryMu sync.Mutex
	registry   = map[*Server]struct{}{}

	sharedMu  sync.Mutex
	shared    *Server
	sharedErr error

	roleSeq atomic.Int64
)

// Main runs the tests and then stops every server this test binary started. Use it in TestMain:
// os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	StopAll()
	return code
}

// StopAll stops every server started by this process (Main calls it).
func StopAll() {
	registryMu.Lock()
	servers := make([]*Server, 0, len(registry))
	for s := range registry {
		servers = append(servers, s)
	}
	registryMu.Unlock()
	for _, s := range servers {
		s.Stop()
	}
	sharedMu.Lock()
	shared, sharedErr = nil, nil
	sharedMu.Unlock()
}

// Shared returns the test binary's server, starting it on first use (TLS on). It fails the test with an
// install hint when the server binaries are missing, and with the reason (and the server log's tail) when the
// server does not start.
func Shared(t testing.TB) *Server {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = Start(Options{})
	}
	if sharedErr != nil {
		t.Fatalf("pgtest: %v", sharedErr)
	}
	return shared
}

// BinDir finds the folder holding initdb and postgres: PATH first, then /usr/lib/postgresql/*/bin (the
// highest version).
func BinDir() (string, error) { return findBinDir(exec.LookPath, "/usr/lib/postgresql/*/bin") }

func findBinDir(lookPath func(string) (string, error), glob string) (string, error) {
	if p, err := lookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		dir := filepath.Dir(p)
		if isExecutable(filepath.Join(dir, exe("postgres"))) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(glob)
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", errors.New(InstallHint)
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func exe(name string) string {
	if filepath.Separator == '\\' {
		return name + ".exe"
	}
	return name
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && (fi.Mode()&0o111 != 0 || filepath.Separator == '\\')
}

// PsqlPath returns the psql client's path (PATH first, then /usr/lib/postgresql/*/bin), failing the test with
// an install hint when it is missing.
func PsqlPath(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("psql"); err == nil {
		return p
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, dir := range dirs {
		if p := filepath.Join(dir, "psql"); isExecutable(p) {
			return p
		}
	}
	t.Fatal("pgtest: psql not found; install it: apt-get install postgresql-client (Debian/Ubuntu) or " +
		"brew install libpq (macOS)")
	return ""
}

type runAs struct{ uid, gid uint32 }

// Start starts a separate server (stop it with Stop; Main stops it too).
func Start(opts Options) (s *Server, err error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	var as *runAs
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("running as root, the server must run as the 'postgres' system user, " +
				"which does not exist; install the server package (apt-get install postgresql) or run the tests " +
				"as an ordinary user")
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		as = &runAs{uid: uint32(uid), gid: uint32(gid)}
	}

	root, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s = &Server{
		Host: "127.0.0.1", Database: DefaultDatabase, User: DefaultUser, Password: randomPassword(),
		SuperUser: DefaultSuperUser, SuperPassword: randomPassword(),
		DataDir: filepath.Join(root, "data"), LogPath: filepath.Join(root, "server.log"), BinDir: bin,
		TLS: !opts.NoTLS, root: root,
	}
	defer func() {
		if err != nil {
			s.Stop()
			s = nil
		}
	}()
	// The server user must be able to reach its data folder.
	if err := os.Chmod(root, 0o755); err != nil {
		return s, err
	}
	if err := os.Mkdir(s.DataDir, 0o700); err != nil {
		return s, err
	}
	if err := s.own(as, s.DataDir); err != nil {
		return s, err
	}
	if err := s.initdb(as); err != nil {
		return s, err
	}
	if err := s.configure(as); err != nil {
		return s, err
	}
	registryMu.Lock()
	registry[s] = struct{}{}
	registryMu.Unlock()

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return s, err
		}
		s.Port = port
		lastErr = s.startServer(as)
		if lastErr == nil {
			break
		}
		if !strings.Contains(s.logTail(), "could not bind") {
			break
		}
	}
	if lastErr != nil {
		return s, lastErr
	}
	if err := s.createObjects(); err != nil {
		return s, err
	}
	return s, nil
}

func (s *Server) own(as *runAs, paths ...string) error {
	if as == nil {
		return nil
	}
	for _, p := range paths {
		if err := os.Chown(p, int(as.uid), int(as.gid)); err != nil {
			return err
		}
	}
	return nil
}

// childEnv is the environment without libpq's PG* variables (they would change what the tools do).
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C", "LANG=C")
}

func (s *Server) initdb(as *runAs) error {
	pwfile := filepath.Join(s.root, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.SuperPassword+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	if err := s.own(as, pwfile); err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(s.BinDir, exe("initdb")),
		"-D", s.DataDir, "-U", s.SuperUser, "--pwfile="+pwfile, "--auth=scram-sha-256",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	cmd.Dir = s.root
	cmd.Env = childEnv()
	cmd.SysProcAttr = procAttr(as, false)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb failed (%v): %s", err, tail(string(out), 1500))
	}
	return nil
}

func (s *Server) configure(as *runAs) error {
	conf := []string{
		"",
		"# pgtest",
		"listen_addresses = '127.0.0.1'",
		"unix_socket_directories = ''",
		"password_encryption = 'scram-sha-256'",
		"log_connections = on",
		"logging_collector = off",
		"log_min_messages = warning",
		"fsync = off",
		"synchronous_commit = off",
		"full_page_writes = off",
		"max_connections = 100",
		"shared_buffers = 32MB",
	}
	hbaType := "host"
	if s.TLS {
		hbaType = "hostssl"
		certPEM, keyPEM, err := selfSignedCert()
		if err != nil {
			return err
		}
		crt, key := filepath.Join(s.DataDir, "server.crt"), filepath.Join(s.DataDir, "server.key")
		if err := os.WriteFile(crt, certPEM, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(key, keyPEM, 0o600); err != nil {
			return err
		}
		if err := s.own(as, crt, key); err != nil {
			return err
		}
		s.CAFile = filepath.Join(s.root, "ca.crt")
		if err := os.WriteFile(s.CAFile, certPEM, 0o644); err != nil {
			return err
		}
		conf = append(conf, "ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'")
	} else {
		conf = append(conf, "ssl = off")
	}
	f, err := os.OpenFile(filepath.Join(s.DataDir, "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(strings.Join(conf, "\n") + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	hba := fmt.Sprintf("# pgtest: TCP only, SCRAM only\n%[1]s all all 127.0.0.1/32 scram-sha-256\n"+
		"%[1]s all all ::1/128 scram-sha-256\n", hbaType)
	// The file exists (initdb wrote it), so rewriting it keeps its owner.
	return os.WriteFile(filepath.Join(s.DataDir, "pg_hba.conf"), []byte(hba), 0o600)
}

func (s *Server) startServer(as *runAs) error {
	logFile, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(s.BinDir, exe("postgres")), "-D", s.DataDir, "-p", strconv.Itoa(s.Port))
	cmd.Dir = s.root
	cmd.Env = childEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = procAttr(as, true)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(exited)
	}()
	s.cmd, s.exited, s.logFile = cmd, exited, logFile

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var lastErr error
	for {
		select {
		case <-exited:
			s.cmd = nil
			return fmt.Errorf("postgres exited during start-up; server log:\n%s", s.logTail())
		default:
		}
		cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
		conn, err := pgx.Connect(cctx, s.connString(s.SuperUser, s.SuperPassword, "postgres"))
		ccancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections within 60s (last error: %v); server log:\n%s",
				lastErr, s.logTail())
		case <-exited:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) createObjects() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.connString(s.SuperUser, s.SuperPassword, "postgres"))
	if err != nil {
		return fmt.Errorf("connecting as superuser: %w", err)
	}
	defer conn.Close(context.Background())
	verifier, err := scram.Verifier(s.Password)
	if err != nil {
		return err
	}
	user := pgx.Identifier{s.User}.Sanitize()
	db := pgx.Identifier{s.Database}.Sanitize()
	for _, q := range []string{
		"CREATE ROLE " + user + " LOGIN PASSWORD '" + verifier + "'",
		"CREATE DATABASE " + db,
		// As on Lakebase, only granted roles may connect (so "no CONNECT privilege" can be tested).
		"REVOKE CONNECT ON DATABASE " + db + " FROM PUBLIC",
		"GRANT CONNECT ON DATABASE " + db + " TO " + user,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("setting up roles and database: %w", err)
		}
	}
	return nil
}

// Stop stops the server (fast shutdown, then kill) and removes its folder. It is safe to call twice.
func (s *Server) Stop() {
	if s == nil {
		return
	}
	s.stopOnce.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
				_ = s.cmd.Process.Kill()
			}
			select {
			case <-s.exited:
			case <-time.After(20 * time.Second):
				_ = s.cmd.Process.Kill()
				<-s.exited
			}
		}
		if s.root != "" {
			_ = os.RemoveAll(s.root)
		}
		registryMu.Lock()
		delete(registry, s)
		registryMu.Unlock()
	})
}

// ConnString returns a keyword/value connection string for user and password on the server's database:
// "host='127.0.0.1' port='…' dbname='…' user='…' password='…' sslmode='require'" (sslmode 'disable' on a
// NoTLS server).
func (s *Server) ConnString(user, password string) string {
	return s.connString(user, password, s.Database)
}

func (s *Server) connString(user, password, db string) string {
	mode := "require"
	if !s.TLS {
		mode = "disable"
	}
	return fmt.Sprintf("host=%s port=%s dbname=%s user=%s password=%s sslmode=%s connect_timeout=10",
		quote(s.Host), quote(strconv.Itoa(s.Port)), quote(db), quote(user), quote(password), quote(mode))
}

// quote quotes a keyword/value connection-string value.
func quote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// Admin returns a superuser connection to the server's database, closed when the test ends.
func (s *Server) Admin(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.ConnString(s.SuperUser, s.SuperPassword))
	if err != nil {
		t.Fatalf("pgtest: superuser connection: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// NewRole creates a fresh LOGIN role named like an e-mail ("t3.user@example.com") with password (sent as a
// SCRAM verifier) and CONNECT on the database, and returns its name. Tests that change a password use their
// own role so they do not disturb others.
func (s *Server) NewRole(t testing.TB, password string) string {
	t.Helper()
	name := fmt.Sprintf("t%d.user@example.com", roleSeq.Add(1))
	verifier, err := scram.Verifier(password)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	conn := s.Admin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := pgx.Identifier{name}.Sanitize()
	for _, q := range []string{
		"CREATE ROLE " + id + " LOGIN PASSWORD '" + verifier + "'",
		"GRANT CONNECT ON DATABASE " + pgx.Identifier{s.Database}.Sanitize() + " TO " + id,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("pgtest: creating role %s: %v", name, err)
		}
	}
	return name
}

// Log returns the server log written so far.
func (s *Server) Log(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		t.Fatalf("pgtest: reading server log: %v", err)
	}
	return string(b)
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.LogPath)
	return tail(string(b), 2000)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// SilentListener returns a 127.0.0.1 port that accepts TCP connections and never answers, for timeout
// tests. It is closed when the test ends.
func SilentListener(t testing.TB) (port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pgtest: listen: %v", err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().(*net.TCPAddr).Port
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// randomPassword returns 32 URL-safe characters from crypto/rand (safe in .pgpass, URLs and .env).
func randomPassword() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// RandomPassword returns a fresh random password (32 URL-safe characters) for tests.
func RandomPassword() string { return randomPassword() }

func selfSignedCert() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"voyce-auth pgtest"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}
