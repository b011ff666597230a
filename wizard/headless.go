package wizard

import (
	"strconv"
	"strings"
)

// headless runs the same flow from the options, the environment and the existing .env, with no prompt.
// Every answer is checked before anything runs; everything is written in one step at the end, only when
// every check passed.
func (w *wizard) headless() error {
	if err := checkSchedule(w.opts.Schedule); err != nil {
		return err
	}
	a, err := w.headlessPostgres()
	if err != nil {
		return err
	}
	dbHost, profile, err := w.headlessDatabricks()
	if err != nil {
		return err
	}

	if w.opts.SkipVerify {
		w.printf("%s Not checking the PostgreSQL connection (--skip-verify).\n", w.cs.WarningIcon())
	} else {
		p, err := w.verify(&a)
		if err != nil {
			return err
		}
		if p != nil {
			w.printf("Nothing was written.\n")
			return ErrFailed
		}
	}

	ch := Changes{Postgres: &a.conn}
	if !a.keep {
		ch.Password = &a.password
	}
	if dbHost != "" {
		if w.d.Databricks == nil {
			w.printf("%s Databricks login is not available in this build. Nothing was written.\n", w.cs.FailureIcon())
			return ErrFailed
		}
		tok, info, err := w.databricksLogin(dbHost, profile, false)
		if err != nil {
			if !isInterrupt(err) {
				w.printf("Nothing was written.\n")
			}
			return err
		}
		w.printTokenInfo(info)
		ch.Databricks = &DatabricksSettings{Host: dbHost, Profile: profile, Token: tok}
		w.hasToken = true
	}
	if w.opts.PostRotateHook != nil {
		if hook, changed, _ := w.askHook(); changed {
			ch.Hook = &hook
		}
	}
	if err := w.save("setup", ch); err != nil {
		return err
	}
	w.warnEnvPassword(a)
	w.installSchedule(w.opts.Schedule)
	if err := w.quickChecks(); err != nil {
		return err
	}
	if w.problems > 0 {
		return ErrFailed
	}
	return nil
}

// headlessPostgres takes the Postgres answers from the options, then .env, then the defaults; a missing
// or invalid value is a usage error naming its flag.
func (w *wizard) headlessPostgres() (pgAnswers, error) {
	o, st := w.opts, w.state.Conn
	pick := func(flag, opt, saved, def string) (string, error) {
		v := strings.TrimSpace(opt)
		if v == "" {
			v = saved
		}
		if v == "" {
			v = def
		}
		if v == "" {
			return "", usagef("--%s is required when not running interactively", flag)
		}
		warn, err := w.d.Postgres.Validate(flag, v)
		if err != nil {
			return "", usagef("--%s: %s", flag, err)
		}
		if warn != "" {
			w.printf("%s %s\n", w.cs.WarningIcon(), warn)
		}
		return v, nil
	}
	var a pgAnswers
	var err error
	if a.conn.Host, err = pick("host", o.Host, st.Host, ""); err != nil {
		return a, err
	}
	savedPort := ""
	if st.Port != 0 {
		savedPort = strconv.Itoa(st.Port)
	}
	port, err := pick("port", o.Port, savedPort, strconv.Itoa(DefaultPort))
	if err != nil {
		return a, err
	}
	a.conn.Port, _ = strconv.Atoi(port)
	if a.conn.Database, err = pick("database", o.Database, st.Database, DefaultDatabase); err != nil {
		return a, err
	}
	if a.conn.User, err = pick("user", o.User, st.User, ""); err != nil {
		return a, err
	}
	if a.conn.SSLMode, err = pick("sslmode", o.SSLMode, st.SSLMode, DefaultSSLMode); err != nil {
		return a, err
	}
	switch {
	case o.Password != "":
		if err := w.d.Store.CheckPassword(o.Password); err != nil {
			return a, usagef("the password from %s cannot be stored: %s", orDefault(o.PasswordSource, "PGPASSWORD"), problemText(err))
		}
		a.password = o.Password
	default:
		p, ok, err := w.d.Store.SavedPassword(a.conn)
		if err != nil || !ok {
			return a, usagef("a password is required when not running interactively: pipe it to --password-stdin or set PGPASSWORD")
		}
		a.password, a.keep = p, true
	}
	return a, nil
}

// headlessDatabricks returns the workspace and profile to log in to ("" host: leave Databricks out).
func (w *wizard) headlessDatabricks() (string, string, error) {
	o, st := w.opts, w.state
	host := strings.TrimSpace(o.DatabricksHost)
	if host == "" {
		host = st.DatabricksHost
	}
	if host == "" {
		if o.SkipLogin {
			return "", "", nil
		}
		return "", "", usagef("--databricks-host is required when not running interactively (or --skip-login to leave Databricks out)")
	}
	if w.d.Databricks != nil {
		h, err := w.d.Databricks.ValidateHost(host)
		if err != nil {
			return "", "", usagef("--databricks-host: %s", problemText(err))
		}
		host = h
	}
	profile := orDefault(strings.TrimSpace(o.Profile), orDefault(st.Profile, DefaultProfile))
	if err := ValidateProfile(profile); err != nil {
		return "", "", usagef("--profile: %s", err)
	}
	return host, profile, nil
}
