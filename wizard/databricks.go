package wizard

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/voyce/voyce-auth/internal/token"
)

var profileRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidateProfile checks a Databricks CLI profile name (a section name in ~/.databrickscfg).
func ValidateProfile(p string) error {
	if !profileRE.MatchString(p) {
		return fmt.Errorf("profile %q is not accepted: use letters, digits, '.', '_' and '-' (e.g. %s)", p, DefaultProfile)
	}
	return nil
}

// errSkip means the person chose to skip the Databricks part.
type skipError struct{}

func (skipError) Error() string { return "skipped" }

// databricksSection asks for the workspace and profile, makes sure the CLI is logged in, checks the token
// and saves it (interactive). relogin: the person asked to log in again.
func (w *wizard) databricksSection(relogin bool) error {
	w.printf("\n%s\n", w.cs.Bold("Databricks OAuth"))
	if w.d.Databricks == nil {
		w.printf("%s Databricks login is not available in this build; skipped.\n", w.cs.WarningIcon())
		return nil
	}
	if !relogin && w.opts.DatabricksHost == "" {
		ok, err := w.d.Prompter.Confirm("Set up Databricks OAuth (DATABRICKS_OAUTH_TOKEN for the backend) now?", true)
		if err != nil {
			return err
		}
		if !ok {
			w.printf("Skipped. Run 'voyce-auth setup' again to add it later.\n")
			w.summary = append(w.summary, "Databricks  skipped")
			return nil
		}
	}
	host, err := w.askWorkspace()
	if err != nil {
		return err
	}
	profile, err := w.askProfile()
	if err != nil {
		return err
	}
	tok, info, err := w.databricksLogin(host, profile, relogin)
	if _, ok := err.(skipError); ok {
		w.summary = append(w.summary, "Databricks  skipped")
		return nil
	}
	if err != nil {
		return err
	}
	w.printTokenInfo(info)
	if err := w.save("Databricks", Changes{Databricks: &DatabricksSettings{Host: host, Profile: profile, Token: tok}}); err != nil {
		return err
	}
	w.hasToken = true
	w.summary = append(w.summary, fmt.Sprintf("Databricks  %s (profile %s) as %s, token %s", host, profile,
		info.Subject, w.expiryText(info)))
	return nil
}

func (w *wizard) askWorkspace() (string, error) {
	if w.opts.DatabricksHost != "" {
		h, err := w.d.Databricks.ValidateHost(w.opts.DatabricksHost)
		if err == nil {
			return h, nil
		}
		w.printf("%s --databricks-host: %s\n", w.cs.FailureIcon(), problemText(err))
	}
	def := w.state.DatabricksHost
	w.printf("The workspace URL is the address you open Databricks at,\n")
	w.printf("e.g. https://adb-1234567890123456.7.azuredatabricks.net\n")
	w.spacer()
	for {
		v, err := w.d.Prompter.Input("Workspace URL", def)
		if err != nil {
			return "", err
		}
		h, err := w.d.Databricks.ValidateHost(strings.TrimSpace(v))
		if err != nil {
			w.printf("%s %s\n", w.cs.FailureIcon(), problemText(err))
			continue
		}
		return h, nil
	}
}

func (w *wizard) askProfile() (string, error) {
	if w.opts.Profile != "" {
		if err := ValidateProfile(w.opts.Profile); err == nil {
			return w.opts.Profile, nil
		} else {
			w.printf("%s --profile: %s\n", w.cs.FailureIcon(), err)
		}
	}
	def := orDefault(w.state.Profile, DefaultProfile)
	for {
		v, err := w.d.Prompter.Input("CLI profile name", def)
		if err != nil {
			return "", err
		}
		v = strings.TrimSpace(v)
		if err := ValidateProfile(v); err != nil {
			w.printf("%s %s\n", w.cs.FailureIcon(), err)
			continue
		}
		return v, nil
	}
}

// databricksLogin makes sure a usable CLI is logged in to host and returns a checked token. On a terminal
// every failure offers to try again, skip or quit; headless it fails.
func (w *wizard) databricksLogin(host, profile string, relogin bool) (string, TokenInfo, error) {
	for {
		v, err := w.d.Databricks.CheckCLI(w.ctx)
		if err == nil {
			w.printf("%s Databricks CLI %s\n", w.cs.SuccessIcon(), v)
			break
		}
		if err := w.databricksFailed(err, "Check again (after installing it)"); err != nil {
			return "", TokenInfo{}, err
		}
	}
	// Already logged in with a good token? Then a browser round trip is only done on request.
	tok, info, terr := w.fetchToken(host, profile)
	needLogin := relogin || terr != nil
	if terr == nil && w.opts.Interactive && !relogin && !w.opts.SkipLogin {
		w.printf("%s Already logged in to %s as %s.\n", w.cs.SuccessIcon(), host, info.Subject)
		again, err := w.d.Prompter.Confirm("Log in again anyway?", false)
		if err != nil {
			return "", TokenInfo{}, err
		}
		needLogin = again
	}
	if !needLogin {
		return tok, info, nil
	}
	if w.opts.SkipLogin {
		w.printProblem(problemOf(terr))
		w.printf("  (--skip-login was given, so setup does not run 'databricks auth login' itself.)\n")
		return "", TokenInfo{}, ErrFailed
	}
	for {
		cmd := fmt.Sprintf("databricks auth login --host %s --profile %s", host, profile)
		w.printf("Running: %s\n", cmd)
		w.printf("A browser window opens; sign in there, then come back here.\n")
		err := w.d.Databricks.Login(w.ctx, host, profile)
		if err == nil {
			tok, info, err = w.fetchToken(host, profile)
		}
		if err == nil {
			return tok, info, nil
		}
		if w.ctx.Err() != nil {
			return "", TokenInfo{}, w.ctx.Err()
		}
		if err := w.databricksFailed(err, "Try again"); err != nil {
			return "", TokenInfo{}, err
		}
	}
}

// fetchToken runs `databricks auth token` and checks the answer.
func (w *wizard) fetchToken(host, profile string) (string, TokenInfo, error) {
	tok, err := w.d.Databricks.Token(w.ctx, host, profile)
	if err != nil {
		return "", TokenInfo{}, err
	}
	info, err := w.d.Databricks.Inspect(tok, host)
	if err != nil {
		return "", TokenInfo{}, err
	}
	return tok, info, nil
}

func (w *wizard) printTokenInfo(info TokenInfo) {
	w.printf("%s Token for %s\n", w.cs.SuccessIcon(), info.Subject)
	if len(info.Scopes) > 0 {
		w.printf("  scopes:  %s\n", strings.Join(info.Scopes, " "))
	}
	w.printf("  expires: %s\n", w.expiryText(info))
}

func (w *wizard) expiryText(info TokenInfo) string {
	if info.Remaining <= 0 {
		return "expired " + info.Expiry.UTC().Format("2006-01-02 15:04 MST")
	}
	return fmt.Sprintf("valid until %s (%s left)", info.Expiry.UTC().Format("15:04 MST"), token.Human(info.Remaining))
}

func problemOf(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	return &Problem{Message: err.Error()}
}

// databricksFailed prints err and, on a terminal, asks what to do: retry (nil), skip (skipError) or quit.
func (w *wizard) databricksFailed(err error, retry string) error {
	if isInterrupt(err) || w.ctx.Err() != nil {
		return err
	}
	w.printProblem(problemOf(err))
	if !w.opts.Interactive {
		return ErrFailed
	}
	choice, perr := w.d.Prompter.Select("What now?", []string{retry, "Skip Databricks for now", "Quit"}, 0)
	if perr != nil {
		return perr
	}
	switch choice {
	case 0:
		return nil
	case 1:
		w.printf("Skipped Databricks; run 'voyce-auth setup' again to add it later.\n")
		return skipError{}
	}
	return w.quit()
}
