package wizard

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/prompt"
)

const secret = "s3cret-pass:word"

type harness struct {
	store     *fakeStore
	pg        *fakePG
	db        *fakeDB
	p         *prompt.Scripted
	out       *strings.Builder
	schedules []string
	checks    int
}

func newHarness(answers ...any) *harness {
	return &harness{
		store: &fakeStore{},
		pg:    &fakePG{},
		db:    &fakeDB{},
		p:     &prompt.Scripted{Answers: answers},
	}
}

func (h *harness) run(t *testing.T, opts Options) error {
	t.Helper()
	io, _, _, errOut := iostreams.Test()
	deps := Deps{
		IO: io, Prompter: h.p, Store: h.store, Postgres: h.pg, Databricks: h.db,
		InstallSchedule: func(ctx context.Context, kind string) ([]string, error) {
			h.schedules = append(h.schedules, kind)
			return []string{"Installed the systemd timer voyce-oauth-rotation.timer"}, nil
		},
		Getenv: func(string) string { return "" },
	}
	err := Run(context.Background(), opts, deps)
	h.out = &strings.Builder{}
	h.out.WriteString(errOut.String())
	if strings.Contains(h.out.String(), secret) || strings.Contains(h.out.String(), fakeToken) {
		t.Errorf("output contains a secret")
	}
	if len(h.p.Answers) != 0 {
		t.Errorf("%d scripted answers left unused; asked: %q", len(h.p.Answers), h.p.Asked)
	}
	return err
}

func TestFirstRunInteractive(t *testing.T) {
	h := newHarness(
		"instance-1.database.cloud.databricks.com", // host
		"",                     // port: default
		"",                     // database: default
		"dev.user@example.com", // user
		"",                     // sslmode: default
		secret,                 // password
		true,                   // set up Databricks
		"https://adb-1.azuredatabricks.net/",
		"",                                       // profile: default
		"systemctl --user restart voyce-backend", // hook
		true,                                     // install schedule
	)
	if err := h.run(t, Options{Interactive: true}); err != nil {
		t.Fatalf("Run: %v\n%s", err, h.out)
	}
	if len(h.store.saves) != 3 {
		t.Fatalf("saves = %d, want 3 (postgres, databricks, hook)", len(h.store.saves))
	}
	pg := h.store.saves[0]
	want := Conn{Host: "instance-1.database.cloud.databricks.com", Port: 5432, Database: "databricks_postgres",
		User: "dev.user@example.com", SSLMode: "require"}
	if *pg.Postgres != want || pg.Password == nil || *pg.Password != secret {
		t.Errorf("postgres save = %+v", *pg.Postgres)
	}
	db := h.store.saves[1].Databricks
	if db == nil || db.Host != "https://adb-1.azuredatabricks.net" || db.Profile != DefaultProfile || db.Token != fakeToken {
		t.Errorf("databricks save = %+v", db)
	}
	if hook := h.store.saves[2].Hook; hook == nil || *hook != "systemctl --user restart voyce-backend" {
		t.Errorf("hook save = %v", hook)
	}
	if len(h.db.logins) != 1 || len(h.schedules) != 1 || h.schedules[0] != "auto" {
		t.Errorf("logins %v schedules %v", h.db.logins, h.schedules)
	}
	for _, s := range []string{"Connecting to instance-1.database.cloud.databricks.com:5432", "Summary", "Token for dev.user@example.com"} {
		if !strings.Contains(h.out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, h.out)
		}
	}
}

func TestValidationReasks(t *testing.T) {
	h := newHarness(
		"https://bad/host", "db.example.com", // host re-asked
		"70000", "abc", "6543", // port re-asked twice
		"", "devuser", "", secret,
		false, // no Databricks
	)
	if err := h.run(t, Options{Interactive: true}); err != nil {
		t.Fatalf("Run: %v\n%s", err, h.out)
	}
	out := h.out.String()
	if strings.Count(out, "port must be a number from 1 to 65535") != 2 || !strings.Contains(out, "host must be") {
		t.Errorf("missing re-ask reasons:\n%s", out)
	}
	if !strings.Contains(out, "e-mail") {
		t.Errorf("no warning for a user without @:\n%s", out)
	}
	if c := h.store.saves[0].Postgres; c.Port != 6543 || c.User != "devuser" {
		t.Errorf("saved %+v", c)
	}
}

func TestWrongPasswordReasked(t *testing.T) {
	h := newHarness("h.example.com", "", "", "u@example.com", "", "wrong1", "wrong2", secret, false)
	h.pg.results = []error{errWrongPassword, errWrongPassword}
	if err := h.run(t, Options{Interactive: true}); err != nil {
		t.Fatalf("Run: %v\n%s", err, h.out)
	}
	if got := h.p.Asked[6]; !strings.Contains(got, "try 2 of 3") {
		t.Errorf("second password question = %q", got)
	}
	if len(h.store.saves) != 1 || *h.store.saves[0].Password != secret {
		t.Errorf("saved wrong password")
	}
}

func TestWrongPasswordThreeTimes(t *testing.T) {
	h := newHarness("h.example.com", "", "", "u@example.com", "", "a", "b", "c")
	h.pg.results = []error{errWrongPassword, errWrongPassword, errWrongPassword}
	err := h.run(t, Options{Interactive: true})
	if !errors.Is(err, ErrFailed) || len(h.store.saves) != 0 {
		t.Fatalf("err = %v, saves = %d", err, len(h.store.saves))
	}
	if !strings.Contains(h.out.String(), "refused 3 times") {
		t.Errorf("output:\n%s", h.out)
	}
}

func TestUnreachableChoices(t *testing.T) {
	t.Run("retry then ok", func(t *testing.T) {
		h := newHarness("h.example.com", "", "", "u@example.com", "", secret, "Try again", false)
		h.pg.results = []error{errUnreachable}
		if err := h.run(t, Options{Interactive: true}); err != nil {
			t.Fatal(err)
		}
		if len(h.pg.passwords) != 2 || len(h.store.saves) != 1 {
			t.Errorf("verify calls %d saves %d", len(h.pg.passwords), len(h.store.saves))
		}
	})
	t.Run("save anyway", func(t *testing.T) {
		h := newHarness("h.example.com", "", "", "u@example.com", "", secret, "Save without verifying", false)
		h.pg.results = []error{errUnreachable}
		if err := h.run(t, Options{Interactive: true}); err != nil {
			t.Fatal(err)
		}
		if len(h.store.saves) != 1 || !strings.Contains(h.out.String(), "NOT verified") {
			t.Errorf("saves %d\n%s", len(h.store.saves), h.out)
		}
	})
	t.Run("quit", func(t *testing.T) {
		h := newHarness("h.example.com", "", "", "u@example.com", "", secret, "Quit")
		h.pg.results = []error{errUnreachable}
		if err := h.run(t, Options{Interactive: true}); !errors.Is(err, ErrFailed) || len(h.store.saves) != 0 {
			t.Fatalf("err %v saves %d", err, len(h.store.saves))
		}
	})
	t.Run("change details", func(t *testing.T) {
		h := newHarness("h.example.com", "", "", "u@example.com", "", secret, "Change the connection details",
			"", "", "other_db", "", "", "", false) // password: Enter keeps the one typed? no: asked again
		h.pg.results = []error{errNoDB}
		h.p.Answers[12] = secret
		if err := h.run(t, Options{Interactive: true}); err != nil {
			t.Fatalf("%v\n%s", err, h.out)
		}
		if c := h.pg.conns[1]; c.Database != "other_db" {
			t.Errorf("second try used %+v", c)
		}
	})
}

func TestCtrlC(t *testing.T) {
	t.Run("at a postgres prompt", func(t *testing.T) {
		h := newHarness("h.example.com", "", prompt.ErrInterrupted)
		err := h.run(t, Options{Interactive: true})
		if !errors.Is(err, ErrCancelled) || !errors.Is(err, prompt.ErrInterrupted) || len(h.store.saves) != 0 {
			t.Fatalf("err %v saves %d", err, len(h.store.saves))
		}
	})
	t.Run("after postgres was saved", func(t *testing.T) {
		h := newHarness("h.example.com", "", "", "u@example.com", "", secret, true, prompt.ErrInterrupted)
		err := h.run(t, Options{Interactive: true})
		var ce *CancelledError
		if !errors.As(err, &ce) || !errors.Is(err, ErrCancelled) || len(h.store.saves) != 1 {
			t.Fatalf("err %v saves %d", err, len(h.store.saves))
		}
		if !strings.Contains(h.out.String(), "Kept what was saved above (PostgreSQL)") {
			t.Errorf("output:\n%s", h.out)
		}
	})
}

func existing() *fakeStore {
	c := Conn{Host: "h.example.com", Port: 5432, Database: "databricks_postgres", User: "u@example.com", SSLMode: "require"}
	return &fakeStore{
		state:  State{Conn: c, DatabricksHost: "https://adb-1.azuredatabricks.net", Profile: "voyce", Token: fakeToken},
		pgpass: map[Conn]string{c: "old-password"},
	}
}

func TestExistingSetup(t *testing.T) {
	t.Run("quit changes nothing", func(t *testing.T) {
		h := newHarness("Quit")
		h.store = existing()
		if err := h.run(t, Options{Interactive: true}); err != nil || len(h.store.saves) != 0 {
			t.Fatalf("err %v saves %d", err, len(h.store.saves))
		}
		if !strings.Contains(h.out.String(), "Found an existing setup") {
			t.Errorf("output:\n%s", h.out)
		}
	})
	t.Run("update the password", func(t *testing.T) {
		h := newHarness(0, secret)
		h.store = existing()
		if err := h.run(t, Options{Interactive: true}); err != nil {
			t.Fatal(err)
		}
		if len(h.store.saves) != 1 || *h.store.saves[0].Password != secret {
			t.Errorf("saves %+v", h.store.saves)
		}
	})
	t.Run("reconfigure keeps defaults and saved password", func(t *testing.T) {
		h := newHarness("Reconfigure everything", "", "", "", "", "", "", true, "", "", false, "", false)
		h.store = existing()
		h.db.loggedIn = true
		if err := h.run(t, Options{Interactive: true}); err != nil {
			t.Fatalf("%v\n%s", err, h.out)
		}
		if h.pg.passwords[0] != "old-password" {
			t.Errorf("did not verify with the saved password")
		}
		if s := h.store.saves[0]; s.Password != nil {
			t.Errorf("rewrote .pgpass with the same password")
		}
		if len(h.db.logins) != 0 {
			t.Errorf("logged in again although the token was good")
		}
		if !strings.Contains(h.p.Asked[6], "Enter keeps the saved one") {
			t.Errorf("password question = %q", h.p.Asked[6])
		}
	})
}

func TestDatabricksCLIMissing(t *testing.T) {
	h := newHarness("h.example.com", "", "", "u@example.com", "", secret, true, "https://adb-1.azuredatabricks.net", "",
		"Skip Databricks for now")
	h.db.cliErr = &Problem{Message: "the Databricks CLI is not installed", Fix: "brew install databricks"}
	if err := h.run(t, Options{Interactive: true}); err != nil {
		t.Fatalf("%v\n%s", err, h.out)
	}
	if !strings.Contains(h.out.String(), "brew install databricks") || len(h.store.saves) != 1 {
		t.Errorf("saves %d\n%s", len(h.store.saves), h.out)
	}
}

func TestHeadless(t *testing.T) {
	base := Options{Host: "h.example.com", User: "u@example.com", Password: secret, PasswordSource: "PGPASSWORD",
		DatabricksHost: "https://adb-1.azuredatabricks.net"}
	t.Run("ok", func(t *testing.T) {
		h := newHarness()
		h.db.loggedIn = true
		if err := h.run(t, base); err != nil {
			t.Fatalf("%v\n%s", err, h.out)
		}
		if len(h.store.saves) != 1 || h.store.saves[0].Databricks == nil || *h.store.saves[0].Password != secret {
			t.Fatalf("saves %+v", h.store.saves)
		}
	})
	usage := []struct {
		name string
		mod  func(*Options)
		want string
	}{
		{"no host", func(o *Options) { o.Host = "" }, "--host is required when not running interactively"},
		{"no user", func(o *Options) { o.User = "" }, "--user is required when not running interactively"},
		{"bad port", func(o *Options) { o.Port = "0" }, "--port: port must be a number from 1 to 65535"},
		{"no password", func(o *Options) { o.Password = "" }, "--password-stdin or set PGPASSWORD"},
		{"bad password", func(o *Options) { o.Password = " x" }, "cannot be stored"},
		{"no databricks", func(o *Options) { o.DatabricksHost = "" }, "--databricks-host is required"},
		{"http workspace", func(o *Options) { o.DatabricksHost = "http://x" }, "--databricks-host: "},
		{"bad profile", func(o *Options) { o.Profile = "a b" }, "--profile: "},
		{"bad schedule", func(o *Options) { o.Schedule = "at" }, "--schedule must be one of"},
	}
	for _, tc := range usage {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness()
			o := base
			tc.mod(&o)
			err := h.run(t, o)
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(ue.Msg, tc.want) {
				t.Fatalf("err = %v, want usage error with %q", err, tc.want)
			}
			if len(h.store.saves) != 0 || len(h.pg.passwords) != 0 {
				t.Errorf("wrote or connected on a usage error")
			}
		})
	}
	t.Run("verify fails", func(t *testing.T) {
		h := newHarness()
		h.pg.results = []error{errWrongPassword}
		if err := h.run(t, base); !errors.Is(err, ErrFailed) || len(h.store.saves) != 0 {
			t.Fatalf("err %v saves %d", err, len(h.store.saves))
		}
	})
	t.Run("databricks fails: nothing written", func(t *testing.T) {
		h := newHarness()
		h.db.loginErr = errors.New("login failed")
		if err := h.run(t, base); !errors.Is(err, ErrFailed) || len(h.store.saves) != 0 {
			t.Fatalf("err %v saves %d", err, len(h.store.saves))
		}
	})
	t.Run("skip login, postgres only", func(t *testing.T) {
		h := newHarness()
		o := base
		o.DatabricksHost, o.SkipLogin = "", true
		if err := h.run(t, o); err != nil || len(h.store.saves) != 1 || h.store.saves[0].Databricks != nil {
			t.Fatalf("err %v saves %+v", err, h.store.saves)
		}
	})
	t.Run("saved password reused", func(t *testing.T) {
		h := newHarness()
		h.store = existing()
		h.db.loggedIn = true
		o := base
		o.Password = ""
		if err := h.run(t, o); err != nil {
			t.Fatal(err)
		}
		if h.store.saves[0].Password != nil || h.pg.passwords[0] != "old-password" {
			t.Errorf("did not reuse the saved password")
		}
	})
}

func TestHeadlessSkipVerifyAndSchedule(t *testing.T) {
	h := newHarness()
	h.db.loggedIn = true
	o := Options{Host: "h.example.com", User: "u@example.com", Password: secret, SkipVerify: true,
		DatabricksHost: "https://adb-1.azuredatabricks.net", Schedule: "cron"}
	if err := h.run(t, o); err != nil {
		t.Fatalf("%v\n%s", err, h.out)
	}
	if len(h.pg.passwords) != 0 {
		t.Errorf("connected despite --skip-verify")
	}
	if len(h.schedules) != 1 || h.schedules[0] != "cron" {
		t.Errorf("schedules = %v", h.schedules)
	}
}

func TestScheduleFailureIsReported(t *testing.T) {
	h := newHarness()
	h.db.loggedIn = true
	io, _, _, errOut := iostreams.Test()
	deps := Deps{IO: io, Prompter: h.p, Store: h.store, Postgres: h.pg, Databricks: h.db,
		InstallSchedule: func(ctx context.Context, kind string) ([]string, error) {
			return nil, &Problem{Message: "Failed to connect to bus", Fix: "loginctl enable-linger dev"}
		}}
	o := Options{Host: "h.example.com", User: "u@example.com", Password: secret,
		DatabricksHost: "https://adb-1.azuredatabricks.net", Schedule: "systemd"}
	err := Run(context.Background(), o, deps)
	if !errors.Is(err, ErrFailed) || len(h.store.saves) != 1 {
		t.Fatalf("err %v saves %d", err, len(h.store.saves))
	}
	if !strings.Contains(errOut.String(), "loginctl enable-linger") || !strings.Contains(errOut.String(), "schedule install --kind systemd") {
		t.Errorf("output:\n%s", errOut)
	}
}

func TestEnvPasswordOverrideWarned(t *testing.T) {
	h := newHarness()
	h.db.loggedIn = true
	io, _, _, errOut := iostreams.Test()
	deps := Deps{IO: io, Prompter: h.p, Store: h.store, Postgres: h.pg, Databricks: h.db,
		Getenv: func(k string) string {
			if k == "PGPASSWORD" {
				return "stale-old-password"
			}
			return ""
		}}
	o := Options{Host: "h.example.com", User: "u@example.com", Password: secret, PasswordSource: "--password-stdin",
		SkipLogin: true}
	if err := Run(context.Background(), o, deps); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "PGPASSWORD is set in this shell to a different password") {
		t.Errorf("no override warning:\n%s", errOut)
	}
	if strings.Contains(errOut.String(), "stale-old-password") {
		t.Errorf("printed the environment's password")
	}
}

func TestSpinnerOnTerminal(t *testing.T) {
	io, _, _, errOut := iostreams.Test()
	io.SetTTY(true, true, true)
	w := &wizard{d: Deps{IO: io}, out: errOut, cs: io.ColorScheme()}
	sp := w.startSpinner("Connecting to h:5432")
	sp.stop()
	sp.stop() // twice is fine
	if out := errOut.String(); !strings.Contains(out, "Connecting to h:5432...") || !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("spinner output %q", out)
	}
}

func TestExistingSetupLogInAgain(t *testing.T) {
	h := newHarness("Log in to Databricks again", "", "")
	h.store = existing()
	h.db.loggedIn = true
	if err := h.run(t, Options{Interactive: true}); err != nil {
		t.Fatalf("%v\n%s", err, h.out)
	}
	if len(h.db.logins) != 1 || h.db.logins[0] != "https://adb-1.azuredatabricks.net voyce" {
		t.Errorf("logins = %v", h.db.logins)
	}
	if len(h.store.saves) != 1 || h.store.saves[0].Databricks == nil || h.store.saves[0].Postgres != nil {
		t.Errorf("saves = %+v", h.store.saves)
	}
}
