//go:build !windows

package setup_test

import (
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	expect "github.com/Netflix/go-expect"
	"github.com/creack/pty"
	"github.com/hinshun/vt10x"
	"golang.org/x/sys/unix"

	"github.com/voyce/voyce-auth/internal/dotenv"
	"github.com/voyce/voyce-auth/internal/testutil/pgtest"
)

// session is voyce-auth running on a real pseudo-terminal, driven the way survey's own tests drive it:
// go-expect reads the program's output and types the answers, vt10x renders the screen.
type session struct {
	t    *testing.T
	c    *expect.Console
	term vt10x.Terminal
	cmd  *exec.Cmd
	done chan int
	// ttyFd is a duplicate of the terminal's descriptor, for reading its mode (raw or canonical) without
	// racing the goroutine that closes the terminal when the program exits. It is closed then too (under
	// ttyMu; -1 after), since the reader sees EOF only once no descriptor of the terminal is open.
	ttyMu  sync.Mutex
	ttyFd  int
	exited chan struct{}
}

func (fx *fixture) startPTY(t *testing.T, args ...string) *session {
	t.Helper()
	// The rendered terminal answers the program's queries (survey asks for the cursor position) by
	// typing the answer back, as a real terminal does.
	back := &lateWriter{}
	term := vt10x.New(vt10x.WithSize(120, 40), vt10x.WithWriter(back))
	c, err := expect.NewConsole(expect.WithStdout(term), expect.WithDefaultTimeout(30*time.Second))
	if err != nil {
		t.Fatalf("opening a pseudo-terminal: %v", err)
	}
	back.set(c)
	if err := pty.Setsize(c.Tty(), &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatalf("pty size: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = fx.proj
	cmd.Env = append(append([]string(nil), fx.environ...), "COLUMNS=120", "LINES=40")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Tty(), c.Tty(), c.Tty()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting voyce-auth: %v", err)
	}
	ttyFd, err := unix.Dup(int(c.Tty().Fd()))
	if err != nil {
		t.Fatalf("dup terminal: %v", err)
	}
	s := &session{t: t, c: c, term: term, cmd: cmd, done: make(chan int, 1), ttyFd: ttyFd, exited: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		s.done <- code
		close(s.exited)
		s.ttyMu.Lock()
		unix.Close(s.ttyFd)
		s.ttyFd = -1
		s.ttyMu.Unlock()
		c.Tty().Close() // the reader sees EOF once the program is gone
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		c.Close()
	})
	return s
}

// lateWriter forwards writes to a writer set after it was created.
type lateWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lateWriter) set(w io.Writer) { l.mu.Lock(); l.w = w; l.mu.Unlock() }

func (l *lateWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return len(p), nil
	}
	return l.w.Write(p)
}

func (s *session) expect(text string) {
	s.t.Helper()
	if _, err := s.c.ExpectString(text); err != nil {
		s.t.Fatalf("waiting for %q: %v\nscreen:\n%s", text, err, s.screen())
	}
}

func (s *session) send(text string) {
	s.t.Helper()
	if _, err := s.c.Send(text); err != nil {
		s.t.Fatalf("typing: %v", err)
	}
}

// answer waits for a question and types a line.
func (s *session) answer(question, line string) {
	s.t.Helper()
	s.expect(question)
	s.waitLineReader()
	s.send(line + "\r")
}

// waitLineReader waits until a survey text question (Input, Password, Confirm) reads keys. Before reading,
// survey asks the terminal twice where the cursor is (ESC[6n: once for the size, once for the position)
// and reads each answer with a throw-away buffered reader up to the answer's final 'R': keys that arrive
// together with an answer are dropped, and an 'R' among keys typed before it (a random password often has
// one) leaves survey waiting forever. A person types long after that; the test must wait for it. So: let
// the rendered terminal answer both questions, then wait until the program has read the answers and is in
// raw mode. (A fixed sleep made this flaky on a loaded machine.)
func (s *session) waitLineReader() {
	s.t.Helper()
	s.expect("\x1b[6n")
	s.expect("\x1b[6n") // the rendered terminal has answered both once these return
	s.waitRaw()
}

// waitRaw waits until the terminal is in raw mode (survey switches just after drawing a question; typed
// earlier, an answer would be echoed) and the program has read everything sent to it: the terminal's input
// queue stays empty for a while (what the test side writes reaches the queue asynchronously, so one empty
// reading is not enough).
func (s *session) waitRaw() {
	s.t.Helper()
	s.waitTermios(false, "raw mode (a question waiting for input)")
	const quiet = 150 * time.Millisecond
	deadline := time.Now().Add(30 * time.Second)
	var emptySince time.Time
	for time.Now().Before(deadline) {
		s.ttyMu.Lock()
		n, err := -1, error(nil)
		if s.ttyFd >= 0 {
			n, err = unix.IoctlGetInt(s.ttyFd, ioctlInputQueue)
		}
		s.ttyMu.Unlock()
		switch {
		case n < 0 && err == nil:
			s.t.Fatalf("voyce-auth exited while the test waited to type\nscreen:\n%s", s.screen())
		case err != nil:
			s.t.Fatalf("reading the terminal's input queue: %v", err)
		case n > 0:
			emptySince = time.Time{}
		case emptySince.IsZero():
			emptySince = time.Now()
		case time.Since(emptySince) >= quiet:
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	s.t.Fatalf("voyce-auth never read its pending input\nscreen:\n%s", s.screen())
}

// waitCooked waits until the terminal is back in canonical mode, where Ctrl-C is a real SIGINT.
func (s *session) waitCooked() {
	s.t.Helper()
	s.waitTermios(true, "canonical mode")
}

func (s *session) waitTermios(canonical bool, what string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			s.t.Fatalf("voyce-auth exited while the test waited for %s\nscreen:\n%s", what, s.screen())
		default:
		}
		s.ttyMu.Lock()
		fd := s.ttyFd
		var tio *unix.Termios
		var err error
		if fd >= 0 {
			tio, err = unix.IoctlGetTermios(fd, ioctlGetTermios)
		}
		s.ttyMu.Unlock()
		if fd < 0 {
			s.t.Fatalf("voyce-auth exited while the test waited for %s\nscreen:\n%s", what, s.screen())
		}
		if err != nil {
			s.t.Fatalf("reading the terminal's mode: %v", err)
		}
		if (tio.Lflag&unix.ICANON != 0) == canonical {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.t.Fatalf("the terminal never entered %s\nscreen:\n%s", what, s.screen())
}

func (s *session) screen() string { return s.term.String() }

// wait returns the exit code, reading the rest of the output.
func (s *session) wait() int {
	s.t.Helper()
	s.c.ExpectEOF()
	select {
	case code := <-s.done:
		return code
	case <-time.After(30 * time.Second):
		s.t.Fatalf("voyce-auth did not exit\nscreen:\n%s", s.screen())
	}
	return -1
}

func TestInteractiveFirstRunWithWrongPassword(t *testing.T) {
	fx := newFixture(t)
	s := fx.startPTY(t, "setup")
	s.expect("Voyce developer setup")
	s.answer("Host", fx.srv.Host)
	s.answer("Port", strconv.Itoa(fx.srv.Port))
	s.answer("Database", "") // Enter keeps databricks_postgres
	s.answer("User", fx.role)
	s.answer("SSL mode", "")
	s.answer("Password", "not-the-password")
	s.expect("password") // the refusal, with its fix
	s.answer("Password (try 2 of 3)", fx.password)
	s.expect("Connected to")
	s.expect("Saved:")
	s.answer("Set up Databricks OAuth", "") // Enter: yes
	s.answer("Workspace URL", fx.db.Host)
	s.answer("profile name", "") // Enter keeps voyce
	s.expect("Token for")
	s.answer("Post-rotate command", "")
	s.answer("Install automatic token rotation", "n")
	s.expect("Summary")
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d\nscreen:\n%s", code, s.screen())
	}
	screen := s.screen()
	t.Logf("final screen:\n%s", screen)
	fx.noSecrets(t, screen)
	if strings.Contains(screen, "not-the-password") {
		t.Errorf("the typed password was echoed")
	}
	f := dotenv.Parse([]byte(read(t, fx.envFile)))
	if v, _ := f.Lookup("POSTGRES_USER"); v != fx.role {
		t.Errorf("POSTGRES_USER = %q", v)
	}
	if v, _ := f.Lookup("DATABRICKS_CONFIG_PROFILE"); v != "voyce" {
		t.Errorf("DATABRICKS_CONFIG_PROFILE = %q", v)
	}
	if ok, stderr := fx.psqlLogin(t); !ok {
		t.Fatalf("psql did not log in with the saved entry: %s", stderr)
	}

	// Run again: the existing setup is recognised, and quitting changes nothing.
	before := fx.snapshot(t)
	s = fx.startPTY(t, "setup")
	s.expect("Found an existing setup")
	s.expect("What would you like to do?")
	s.waitRaw()
	s.send("\x1b[B\r") // from the default (Reconfigure everything), down once: Quit
	if code := s.wait(); code != 0 {
		t.Fatalf("quit: exit %d\nscreen:\n%s", code, s.screen())
	}
	sameSnapshot(t, before, fx.snapshot(t))
}

func TestInteractiveCtrlC(t *testing.T) {
	fx := newFixture(t)
	before := fx.snapshot(t)
	s := fx.startPTY(t, "setup")
	s.answer("Host", fx.srv.Host)
	s.answer("Port", strconv.Itoa(fx.srv.Port))
	s.answer("Database", "")
	s.answer("User", fx.role)
	s.answer("SSL mode", "")
	s.expect("Password")
	s.waitLineReader()
	s.send("half-typed\x03") // Ctrl-C in the middle of the password
	s.expect("Cancelled; nothing was changed.")
	if code := s.wait(); code != 130 {
		t.Fatalf("exit %d, want 130\nscreen:\n%s", code, s.screen())
	}
	sameSnapshot(t, before, fx.snapshot(t))
}

// TestInteractiveCtrlCWhileConnecting: Ctrl-C while the connection attempt waits (the terminal is not in raw
// mode then, so it is a real SIGINT) stops at once, exits 130 and writes nothing.
func TestInteractiveCtrlCWhileConnecting(t *testing.T) {
	fx := newFixture(t)
	silent := pgtest.SilentListener(t) // accepts TCP and never answers: the attempt waits
	before := fx.snapshot(t)
	s := fx.startPTY(t, "setup", "--host", fx.srv.Host, "--port", strconv.Itoa(silent), "--user", fx.role,
		"--database", fx.srv.Database, "--sslmode", "require") // flags answer their questions
	s.answer("Password", fx.password)
	s.expect("Connecting to")
	s.waitCooked()
	s.send("\x03")
	s.expect("Cancelled; nothing was changed.")
	if code := s.wait(); code != 130 {
		t.Fatalf("exit %d, want 130\nscreen:\n%s", code, s.screen())
	}
	sameSnapshot(t, before, fx.snapshot(t))
}
