package doctor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/voyce/voyce-auth/internal/config"
	"github.com/voyce/voyce-auth/internal/dotenv"
	"github.com/voyce/voyce-auth/internal/pg"
	"github.com/voyce/voyce-auth/internal/safefile"
)

// project is the .env as read once per Deps (every check sees the same file).
type project struct {
	settings *config.Settings
	file     *dotenv.File
	err      error
}

func (d *Deps) project() *project {
	d.loadOnce.Do(func() {
		s, f, err := config.Load(d.EnvFile, d.getenv)
		d.loaded = &project{settings: s, file: f, err: err}
	})
	return d.loaded
}

// settings returns the loaded settings; checks that run after env-file passed can rely on it.
func (d *Deps) settings() (*config.Settings, error) {
	p := d.project()
	if p.settings == nil {
		if p.err == nil {
			return nil, errors.New("no settings")
		}
		return nil, p.err
	}
	return p.settings, nil
}

// pgParams are the Postgres connection settings from .env, without a password.
func (d *Deps) pgParams() (pg.Params, error) {
	s, err := d.settings()
	if err != nil {
		return pg.Params{}, err
	}
	return pg.Params{Host: s.Postgres.Host, Port: s.Postgres.Port, Database: s.Postgres.Database,
		User: s.Postgres.User, SSLMode: s.Postgres.SSLMode}, nil
}

const setupFix = "voyce-auth setup   (asks for the connection details and writes .env)"

func (d *Deps) checkEnvFile(ctx context.Context) Result {
	shown := d.display(d.EnvFile)
	p := d.project()
	if errors.Is(p.err, config.ErrNoEnvFile) {
		return Fail(setupFix, "no .env file at %s", d.EnvFile)
	}
	if p.settings == nil {
		return Fail("Check that you can read "+shown, "cannot read %s: %v", shown, p.err)
	}
	if p.err != nil { // read, but a value is unusable (e.g. the port)
		return Fail("Correct it in "+shown+", or run: voyce-auth setup", "%v", strings.TrimPrefix(p.err.Error(), d.EnvFile+": "))
	}
	var missing []string
	for _, k := range []string{config.KeyPostgresHost, config.KeyPostgresUser} {
		if v, _ := p.file.Lookup(k); strings.TrimSpace(v) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return Fail(setupFix, "%s has no %s", shown, strings.Join(missing, " or "))
	}
	params, _ := d.pgParams()
	if err := params.Validate(); err != nil {
		return Fail("Correct it in "+shown+", or run: voyce-auth setup", "%v", err)
	}
	var defaulted []string
	for _, k := range []string{config.KeyPostgresPort, config.KeyPostgresDB, config.KeyPostgresPassword} {
		if _, ok := p.file.Lookup(k); !ok {
			defaulted = append(defaulted, k)
		}
	}
	summary := fmt.Sprintf("%s@%s/%s", params.User, params.Addr(), params.Database)
	if len(defaulted) > 0 {
		return Warn(fmt.Sprintf("voyce-auth setup   (or add to %s: POSTGRES_PORT=%d, POSTGRES_DB=%s, POSTGRES_PASSWORD=%s)",
			shown, config.DefaultPort, config.DefaultDatabase, config.PasswordReference),
			"%s lacks %s, which the backend reads (voyce-auth assumes %s)", shown, strings.Join(defaulted, ", "), summary)
	}
	return OK("%s has the POSTGRES_* settings: %s", shown, summary).WithDetails("sslmode: " + params.SSLMode)
}

func (d *Deps) checkPgDNS(ctx context.Context) Result {
	p, err := d.pgParams()
	if err != nil {
		return Skip("no Postgres settings")
	}
	return checkDNS(ctx, p)
}

func (d *Deps) checkPgTCP(ctx context.Context) Result {
	p, err := d.pgParams()
	if err != nil {
		return Skip("no Postgres settings")
	}
	return checkTCP(ctx, p)
}

// Databricks settings -----------------------------------------------------------------------------------

func (d *Deps) databricksSettings() (config.Databricks, Result, bool) {
	s, err := d.settings()
	if err != nil {
		return config.Databricks{}, Skip("no settings"), false
	}
	if s.Databricks.Host == "" {
		return s.Databricks, Fail(setupFix, "%s has no %s", d.display(d.EnvFile), config.KeyDatabricksHost), false
	}
	return s.Databricks, Result{}, true
}

func (d *Deps) checkDatabricksLoginConfigured(ctx context.Context) Result {
	db, r, ok := d.databricksSettings()
	if !ok {
		return r
	}
	return d.checkDatabricksLogin(ctx, db.Host, db.Profile)
}

func (d *Deps) checkOAuthToken(ctx context.Context) Result {
	s, err := d.settings()
	if err != nil {
		return Skip("no settings")
	}
	if s.Databricks.Token == "" && s.Databricks.Host == "" {
		return Fail(setupFix, "%s has neither %s nor %s: Databricks is not set up", d.display(d.EnvFile),
			config.KeyDatabricksHost, config.KeyOAuthToken)
	}
	return checkToken(s.Databricks.Token, s.Databricks.Host, d.clock().Now())
}

func (d *Deps) checkOAuthTokenAPI(ctx context.Context) Result {
	db, r, ok := d.databricksSettings()
	if !ok {
		return r
	}
	return d.checkTokenAPI(ctx, db.Host, db.Token)
}

func (d *Deps) checkClockSkewConfigured(ctx context.Context) Result {
	db, _, ok := d.databricksSettings()
	if !ok {
		return Skip("no DATABRICKS_HOST to compare clocks with")
	}
	return d.checkClockSkew(ctx, db.Host)
}

// Security ----------------------------------------------------------------------------------------------

// tooOpen reports whether mode gives access beyond the owner's read/write.
func tooOpen(mode fs.FileMode) bool { return mode.Perm()&^0o600 != 0 }

func (d *Deps) checkEnvFileMode(ctx context.Context) Result {
	if d.GOOS == "windows" {
		return Skip("file modes do not apply on Windows")
	}
	shown := d.display(d.EnvFile)
	fi, err := os.Stat(d.EnvFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Skip("no .env file yet")
	}
	if err != nil {
		return Fail("", "cannot read %s: %v", shown, err)
	}
	mode := fi.Mode().Perm()
	if !tooOpen(mode) {
		return OK("%s is %04o (only you can read it)", shown, mode)
	}
	fix := "chmod 600 " + shellQuote(shown) + "   (or: voyce-auth doctor --fix)"
	if s, err := d.settings(); err == nil && s.Databricks.Token != "" {
		return Fail(fix, "%s holds a Databricks token but is %04o: other users can read it", shown, mode)
	}
	return Warn(fix, "%s is %04o: other users can read it (it will hold a Databricks token)", shown, mode)
}

func (d *Deps) planEnvFileMode(r Result) string {
	fi, err := os.Stat(d.EnvFile)
	if err != nil || !tooOpen(fi.Mode()) {
		return ""
	}
	return fmt.Sprintf("chmod 600 %s (now %04o)", d.display(d.EnvFile), fi.Mode().Perm())
}

func (d *Deps) fixEnvFileMode(ctx context.Context, r Result) error {
	_, err := safefile.Tighten(d.EnvFile)
	return err
}

// shellStartupFiles are the files a shell reads at start-up, relative to the home folder.
var shellStartupFiles = []string{".profile", ".bashrc", ".bash_profile", ".bash_login", ".zshenv", ".zprofile",
	".zshrc", ".config/fish/config.fish"}

// exportRE matches a line that sets PGPASSWORD for every program the shell starts.
var exportRE = regexp.MustCompile(`^\s*(?:export\s+PGPASSWORD=|set\s+(?:-[a-zA-Z]*x[a-zA-Z]*\s+)+PGPASSWORD\s)\s*(.*)$`)

// literalValue reports whether a shell value is a literal (not empty, not a $VAR or $(command)).
func literalValue(v string) bool {
	v = strings.TrimSpace(v)
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	v = strings.Trim(v, `'"`)
	return v != "" && !strings.HasPrefix(v, "$") && !strings.HasPrefix(v, "`")
}

func (d *Deps) checkHardcodedPassword(ctx context.Context) Result {
	var found []string
	var fixes []string
	if p := d.project(); p.file != nil {
		for _, k := range []string{config.KeyPostgresPassword, "PGPASSWORD"} {
			if v, ok := p.file.Lookup(k); ok && strings.TrimSpace(v) != "" && !dotenv.HasReference(v) {
				found = append(found, fmt.Sprintf("%s in %s", k, d.display(d.EnvFile)))
				fixes = append(fixes, fmt.Sprintf("in %s write %s=%s (the password then comes from ~/.pgpass or PGPASSWORD)",
					d.display(d.EnvFile), config.KeyPostgresPassword, config.PasswordReference))
			}
		}
	}
	if d.HomeDir != "" {
		for _, rel := range shellStartupFiles {
			path := filepath.Join(d.HomeDir, filepath.FromSlash(rel))
			for _, n := range exportLines(path) {
				found = append(found, fmt.Sprintf("line %d of %s", n, d.display(path)))
				fixes = append(fixes, fmt.Sprintf("delete line %d of %s, then open a new terminal", n, d.display(path)))
			}
		}
	}
	if len(found) == 0 {
		return OK("no literal password in .env or in shell start-up files")
	}
	fixes = append(fixes, "keep the password in ~/.pgpass instead: voyce-auth password")
	return Warn(strings.Join(fixes, "\n"), "a literal password is written in %s", strings.Join(found, ", "))
}

// exportLines returns the 1-based numbers of the lines in path that export a literal PGPASSWORD.
func exportLines(path string) []int {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines []int
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if m := exportRE.FindStringSubmatch(line); m != nil && literalValue(m[1]) {
			lines = append(lines, n)
		}
	}
	return lines
}

// checkPgLogin logs in with the configured settings and the password libpq would use.
func (d *Deps) checkPgLogin(ctx context.Context) Result {
	p, err := d.pgParams()
	if err != nil {
		return Skip("no Postgres settings")
	}
	pw, source, err := pg.ResolvePassword(p, d.getenv, d.PgpassFile)
	if err != nil {
		return Fail(storePasswordFix, "no usable password: %v", err)
	}
	if pw == "" {
		return Skip("no password to log in with (see pg-password-source)")
	}
	p.Password = pw
	from := "PGPASSWORD"
	if source == pg.SourcePassfile {
		from = d.display(d.PgpassFile)
	}
	return checkLogin(ctx, p).WithDetails("password from: " + from)
}
