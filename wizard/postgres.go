package wizard

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxPasswordTries is how many times a refused password is asked for before setup stops.
const MaxPasswordTries = 3

// pgAnswers are the Postgres answers, with the password kept apart.
type pgAnswers struct {
	conn     Conn
	password string
	// keep: the password is the one already saved in .pgpass; .pgpass is not rewritten.
	keep bool
	// verified: a connection succeeded with these answers; server describes it.
	verified bool
	server   string
}

// startConn is the connection the questions start from: options over .env over the defaults.
func (w *wizard) startConn() Conn {
	c := w.state.Conn
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.SSLMode == "" {
		c.SSLMode = DefaultSSLMode
	}
	o := w.opts
	if o.Host != "" {
		c.Host = o.Host
	}
	if o.Port != "" {
		if p, err := strconv.Atoi(strings.TrimSpace(o.Port)); err == nil {
			c.Port = p
		}
	}
	if o.Database != "" {
		c.Database = o.Database
	}
	if o.User != "" {
		c.User = o.User
	}
	if o.SSLMode != "" {
		c.SSLMode = o.SSLMode
	}
	return c
}

// postgresSection asks, verifies and saves the Postgres settings (interactive).
func (w *wizard) postgresSection() error {
	w.printf("\n%s\n", w.cs.Bold("PostgreSQL (Lakebase)"))
	w.printf("Lakebase hosts look like instance-<uuid>.database.cloud.databricks.com, and the\n")
	w.printf("user is your Databricks e-mail. Enter keeps the value shown in parentheses.\n")
	w.spacer()
	a := pgAnswers{conn: w.startConn()}
	askAll := false
	for {
		var err error
		if a.conn, err = w.askConn(a.conn, askAll); err != nil {
			return err
		}
		if err = w.askPassword(&a, "Password", true, true); err != nil {
			return err
		}
		next, err := w.verifyInteractive(&a)
		if err != nil {
			return err
		}
		if next == nextChange {
			askAll = true
			continue
		}
		break
	}
	return w.savePostgres(a)
}

func (w *wizard) savePostgres(a pgAnswers) error {
	ch := Changes{Postgres: &a.conn}
	if !a.keep {
		ch.Password = &a.password
	}
	if err := w.save("PostgreSQL", ch); err != nil {
		return err
	}
	state := "verified"
	if !a.verified {
		state = "NOT verified"
	}
	line := fmt.Sprintf("PostgreSQL  %s at %s/%s, %s", a.conn.User, a.conn.Addr(), a.conn.Database, state)
	if a.server != "" {
		line += " (" + a.server + ")"
	}
	w.summary = append(w.summary, line)
	w.warnEnvPassword(a)
	return nil
}

// warnEnvPassword says when PGPASSWORD in this shell overrides the saved password.
func (w *wizard) warnEnvPassword(a pgAnswers) {
	env := w.getenv("PGPASSWORD")
	if env == "" || env == a.password {
		return
	}
	w.printf("%s PGPASSWORD is set in this shell to a different password; it overrides %s for psql.\n",
		w.cs.WarningIcon(), w.d.Store.PgpassFile())
	w.printf("  Run 'unset PGPASSWORD' (and remove it from your shell start-up file), or set it to the new one.\n")
}

// askConn asks the connection questions whose answers did not come from the options (all of them when
// askAll), each re-asked with the reason until accepted.
func (w *wizard) askConn(c Conn, askAll bool) (Conn, error) {
	o := w.opts
	var err error
	if askAll || !w.given("host", o.Host) {
		if c.Host, err = w.askField("host", "Host", c.Host); err != nil {
			return c, err
		}
	}
	if askAll || !w.given("port", o.Port) {
		p, err := w.askField("port", "Port", strconv.Itoa(c.Port))
		if err != nil {
			return c, err
		}
		c.Port, _ = strconv.Atoi(p)
	}
	if askAll || !w.given("database", o.Database) {
		if c.Database, err = w.askField("database", "Database", c.Database); err != nil {
			return c, err
		}
	}
	if askAll || !w.given("user", o.User) {
		if c.User, err = w.askField("user", "User", c.User); err != nil {
			return c, err
		}
	}
	if askAll || !w.given("sslmode", o.SSLMode) {
		if c.SSLMode, err = w.askField("sslmode", "SSL mode", c.SSLMode); err != nil {
			return c, err
		}
	}
	return c, nil
}

// given reports whether an option answers field; an invalid one is reported and then asked for.
func (w *wizard) given(field, v string) bool {
	if v == "" {
		return false
	}
	if _, err := w.d.Postgres.Validate(field, v); err != nil {
		w.printf("%s --%s: %s\n", w.cs.FailureIcon(), field, err)
		return false
	}
	return true
}

// askField asks one question until the answer is accepted; a refused answer is re-asked with the reason,
// a warning is shown and the answer kept.
func (w *wizard) askField(field, label, def string) (string, error) {
	for {
		v, err := w.d.Prompter.Input(label, def)
		if err != nil {
			return "", err
		}
		v = strings.TrimSpace(v)
		warn, verr := w.d.Postgres.Validate(field, v)
		if verr != nil {
			w.printf("%s %s\n", w.cs.FailureIcon(), verr)
			continue
		}
		if warn != "" {
			w.printf("%s %s\n", w.cs.WarningIcon(), warn)
		}
		return v, nil
	}
}

// askPassword fills a.password. label is the question; first offers the password from the options
// (PGPASSWORD) and, with allowKeep, keeping the one saved in .pgpass by pressing Enter.
func (w *wizard) askPassword(a *pgAnswers, label string, first, allowKeep bool) error {
	a.keep = false
	if first && w.opts.Password != "" {
		src := orDefault(w.opts.PasswordSource, "PGPASSWORD")
		use, err := w.d.Prompter.Confirm(fmt.Sprintf("Use the password from %s?", src), true)
		if err != nil {
			return err
		}
		if use {
			if err := w.d.Store.CheckPassword(w.opts.Password); err != nil {
				w.printf("%s The password from %s cannot be stored: %s\n", w.cs.FailureIcon(), src, problemText(err))
			} else {
				a.password = w.opts.Password
				return nil
			}
		}
	}
	saved, hasSaved := "", false
	if allowKeep {
		if p, ok, err := w.d.Store.SavedPassword(a.conn); err == nil && ok {
			saved, hasSaved = p, true
			label += " (Enter keeps the saved one)"
		}
	}
	for {
		p, err := w.d.Prompter.Password(label)
		if err != nil {
			return err
		}
		if p == "" {
			if hasSaved {
				a.password, a.keep = saved, true
				return nil
			}
			w.printf("%s A password is required.\n", w.cs.FailureIcon())
			continue
		}
		if err := w.d.Store.CheckPassword(p); err != nil {
			w.printf("%s %s\n", w.cs.FailureIcon(), problemText(err))
			continue
		}
		a.password = p
		return nil
	}
}

type next int

const (
	nextSave next = iota
	nextChange
)

// verifyInteractive connects until it works, the person chooses to save anyway or change the answers, or
// gives up.
func (w *wizard) verifyInteractive(a *pgAnswers) (next, error) {
	if w.opts.SkipVerify {
		w.printf("%s Not checking the connection (--skip-verify).\n", w.cs.WarningIcon())
		return nextSave, nil
	}
	tries := 1
	for {
		p, err := w.verify(a)
		if err != nil {
			return nextSave, err
		}
		if p == nil {
			return nextSave, nil
		}
		if p.Cause == CauseWrongPassword {
			if tries >= MaxPasswordTries {
				w.printf("%s The password was refused %d times; nothing was saved.\n", w.cs.FailureIcon(), tries)
				return nextSave, ErrFailed
			}
			tries++
			label := fmt.Sprintf("Password (try %d of %d)", tries, MaxPasswordTries)
			if err := w.askPassword(a, label, false, false); err != nil {
				return nextSave, err
			}
			continue
		}
		options := []string{"Try again", "Change the connection details", "Save without verifying", "Quit"}
		def := 0
		if p.Cause != CauseUnreachable {
			def = 1
		}
		choice, err := w.d.Prompter.Select("What now?", options, def)
		if err != nil {
			return nextSave, err
		}
		switch choice {
		case 0:
			continue
		case 1:
			return nextChange, nil
		case 2:
			w.printf("%s Saving without a working connection.\n", w.cs.WarningIcon())
			return nextSave, nil
		default:
			return nextSave, w.quit()
		}
	}
}

// verify connects once, showing what it is doing. It returns the problem (nil on success), or an error
// when cancelled.
func (w *wizard) verify(a *pgAnswers) (*Problem, error) {
	sp := w.startSpinner(fmt.Sprintf("Connecting to %s as %s (sslmode=%s)", a.conn.Addr(), a.conn.User, a.conn.SSLMode))
	server, err := w.d.Postgres.Verify(w.ctx, a.conn, a.password)
	sp.stop()
	if err == nil {
		a.verified, a.server = true, server
		w.printf("%s Connected to %s: %s\n", w.cs.SuccessIcon(), a.conn.Addr(), server)
		return nil, nil
	}
	if w.ctx.Err() != nil {
		return nil, w.ctx.Err()
	}
	p := problemOf(err)
	if p.Cause == CauseWrongPassword && w.opts.Interactive {
		// The shared fix names other commands; here the next step is simply to type it again.
		w.printf("%s %s\n", w.cs.FailureIcon(), p.Message)
		w.printf("  Check the password, and that %q is the right user (on Lakebase: your Databricks e-mail).\n", a.conn.User)
		return p, nil
	}
	w.printProblem(p)
	return p, nil
}

func (w *wizard) printProblem(p *Problem) {
	w.printf("%s %s\n", w.cs.FailureIcon(), p.Message)
	if p.Fix != "" {
		for _, line := range strings.Split(strings.TrimRight(p.Fix, "\n"), "\n") {
			w.printf("  %s\n", line)
		}
	}
}

// passwordOnly is the "update the password" choice of the existing-setup menu.
func (w *wizard) passwordOnly() error {
	w.printf("\n%s\n", w.cs.Bold("PostgreSQL password"))
	a := pgAnswers{conn: w.startConn()}
	w.printf("For %s\n", a.conn.describe())
	if err := w.askPassword(&a, "New password", true, false); err != nil {
		return err
	}
	for {
		next, err := w.verifyInteractive(&a)
		if err != nil {
			return err
		}
		if next == nextChange {
			if a.conn, err = w.askConn(a.conn, true); err != nil {
				return err
			}
			continue
		}
		break
	}
	return w.savePostgres(a)
}
