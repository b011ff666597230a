// Command databricks is the test stand-in for the Databricks CLI, faithful to
// shared/reference/databricks-cli.md. Its behaviour comes from the state folder named by
// $FAKE_DATABRICKS_STATE (see package fakestate); every invocation's arguments are logged there.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/internal/testutil/fakedatabricks/fakestate"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type exitErr struct {
	code int
	msg  string
}

func fail(code int, format string, a ...any) *exitErr {
	return &exitErr{code: code, msg: fmt.Sprintf(format, a...)}
}

func run(args []string, stdout, stderr io.Writer) int {
	dir := os.Getenv(fakestate.EnvVar)
	if dir == "" {
		fmt.Fprintln(stderr, "Error: fake databricks: "+fakestate.EnvVar+" is not set")
		return 1
	}
	if err := fakestate.AppendCall(dir, args); err != nil {
		fmt.Fprintln(stderr, "Error: fake databricks: "+err.Error())
		return 1
	}
	st, err := fakestate.Read(dir)
	if err != nil {
		fmt.Fprintln(stderr, "Error: fake databricks: "+err.Error())
		return 1
	}
	c := &cli{dir: dir, st: st, stdout: stdout, stderr: stderr}
	if e := c.dispatch(args); e != nil {
		if e.msg != "" {
			fmt.Fprintln(stderr, e.msg)
		}
		return e.code
	}
	return 0
}

type cli struct {
	dir            string
	st             *fakestate.State
	stdout, stderr io.Writer
}

func hang() {
	for {
		time.Sleep(time.Hour)
	}
}

func (c *cli) dispatch(args []string) *exitErr {
	if c.st.Legacy() {
		return c.legacy(args)
	}
	if len(args) == 0 {
		fmt.Fprintln(c.stdout, "Databricks CLI\n\nUsage:\n  databricks [command]")
		return nil
	}
	switch args[0] {
	case "--version", "-v", "version":
		if c.st.HangVersion {
			hang()
		}
		if len(args) > 1 && args[0] == "version" {
			if _, ok := parseFlags(args[1:], nil, nil); ok != nil {
				return ok
			}
		}
		fmt.Fprintln(c.stdout, c.st.VersionString())
		return nil
	case "auth":
		if len(args) < 2 {
			fmt.Fprintln(c.stdout, "Authentication related commands\n\nUsage:\n  databricks auth [command]")
			return nil
		}
		switch args[1] {
		case "login":
			return c.login(args[2:])
		case "token":
			return c.token(args[2:])
		case "describe":
			return c.describe(args[2:])
		}
		return fail(1, "Error: unknown command %q for \"databricks auth\"", args[1])
	case "database":
		if len(args) >= 2 && args[1] == "generate-database-credential" {
			return c.databaseCredential(args[2:])
		}
		if len(args) < 2 {
			return fail(1, "Error: accepts 1 arg(s), received 0")
		}
		return fail(1, "Error: unknown command %q for \"databricks database\"", args[1])
	}
	if strings.HasPrefix(args[0], "-") {
		return fail(1, "Error: unknown flag: %s", args[0])
	}
	return fail(1, "Error: unknown command %q for \"databricks\"\nRun 'databricks --help' for usage.", args[0])
}

// legacy behaves like the pip package databricks-cli 0.18 (click).
func (c *cli) legacy(args []string) *exitErr {
	if c.st.HangVersion {
		hang()
	}
	if len(args) > 0 && args[0] == "--version" {
		fmt.Fprintln(c.stdout, c.st.VersionString())
		return nil
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(c.stdout, "Usage: databricks [OPTIONS] COMMAND [ARGS]...")
		return nil
	}
	return fail(2, "Usage: databricks [OPTIONS] COMMAND [ARGS]...\nTry 'databricks -h' for help.\n\nError: No such command '%s'.", args[0])
}

// parseFlags parses cobra-style flags: --name value, --name=value, -o value. valued names take a value;
// bools do not. It returns the values and the positional arguments under "".
func parseFlags(args []string, valued, bools []string) (map[string][]string, *exitErr) {
	out := map[string][]string{}
	isIn := func(list []string, n string) bool {
		for _, x := range list {
			if x == n {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			out[""] = append(out[""], a)
			continue
		}
		if a == "--" {
			out[""] = append(out[""], args[i+1:]...)
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case isIn(valued, name):
			if !hasVal {
				if i+1 >= len(args) {
					return nil, fail(1, "Error: flag needs an argument: %s", a)
				}
				i++
				val = args[i]
			}
			out[name] = append(out[name], val)
		case isIn(bools, name):
			out[name] = append(out[name], "true")
		default:
			if strings.HasPrefix(a, "--") {
				return nil, fail(1, "Error: unknown flag: --%s", name)
			}
			return nil, fail(1, "Error: unknown shorthand flag: '%s' in %s", strings.TrimLeft(name, "-")[:1], a)
		}
	}
	return out, nil
}

func last(m map[string][]string, k string) string {
	v := m[k]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// longOrShort is the value of a flag that has a short form (--profile/-p, --output/-o): the short one wins
// when both are given, as in the real CLI's flag library.
func longOrShort(m map[string][]string, long, short string) string {
	if v := last(m, short); v != "" {
		return v
	}
	return last(m, long)
}

// hostAndProfile reads --host (or the first positional argument) and --profile/-p.
func hostAndProfile(m map[string][]string) (host, profile string) {
	host, profile = last(m, "host"), longOrShort(m, "profile", "p")
	if pos := m[""]; len(pos) > 0 && host == "" {
		host = pos[0]
	}
	return host, profile
}

// Config file --------------------------------------------------------------------------------------------

func configPath() string {
	if p := os.Getenv("DATABRICKS_CONFIG_FILE"); p != "" {
		return p
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".databrickscfg")
}

// readProfiles returns profile name -> host from the config file.
func readProfiles() map[string]string {
	out := map[string]string{}
	f, err := os.Open(configPath())
	if err != nil {
		return out
	}
	defer f.Close()
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			cur = strings.TrimSpace(line[1 : len(line)-1])
			out[cur] = ""
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && cur != "" && strings.TrimSpace(k) == "host" {
			out[cur] = strings.TrimSpace(v)
		}
	}
	return out
}

// resolveHost finds the workspace host from --host / --profile the way `auth token` does.
func (c *cli) resolveHost(host, profile string) (string, *exitErr) {
	profiles := readProfiles()
	if profile != "" {
		h, ok := profiles[profile]
		if !ok {
			return "", fail(1, "Error: resolve: %s has no %s profile configured. Config: profile=%s", configPath(), profile, profile)
		}
		if host == "" {
			host = h
		}
		return fakestate.NormalizeHost(host), nil
	}
	if host == "" {
		if h := os.Getenv("DATABRICKS_HOST"); h != "" {
			return fakestate.NormalizeHost(h), nil
		}
		return "", fail(1, "Error: the command is being run in a non-interactive environment, please specify a profile using --profile or a host using --host")
	}
	host = fakestate.NormalizeHost(host)
	var matched []string
	for name, h := range profiles {
		if fakestate.NormalizeHost(h) == host {
			matched = append(matched, name)
		}
	}
	if len(matched) > 1 {
		sort.Strings(matched)
		return "", fail(1, "Error: multiple profiles matched host %s: %s. Please specify the profile to use with --profile", host, strings.Join(matched, ", "))
	}
	return host, nil
}

func (c *cli) loggedInFor(host string) bool {
	return c.st.LoggedIn && fakestate.NormalizeHost(c.st.Host) == fakestate.NormalizeHost(host)
}

func notConfigured(host string) *exitErr {
	return fail(1, "Error: cache: databricks OAuth is not configured for this host. Try logging in again with `databricks auth login --host %s` before retrying. If this fails, please report this issue to the Databricks CLI maintainers at https://github.com/databricks/cli/issues/new", host)
}

func loginCommand(host, profile string) string {
	if profile != "" {
		return "databricks auth login --profile " + profile
	}
	return "databricks auth login --host " + host
}

// accessToken returns the cached token or refreshes it, following the 5-minute rule.
func (c *cli) accessToken(host, profile string, force bool) (string, time.Time, *exitErr) {
	var tok string
	var exp time.Time
	var e *exitErr
	err := fakestate.Update(c.dir, func(s *fakestate.State) error {
		c.st = s
		now := s.CLINow()
		if !force && s.CachedToken != "" && s.CachedExpiry.Sub(now) > 5*time.Minute {
			tok, exp = s.CachedToken, s.CachedExpiry
			return nil
		}
		if s.RefreshRejected {
			e = fail(1, "Error: A new access token could not be retrieved because the refresh token is invalid. If using the CLI, run the following command to reauthenticate:\n  $ %s", loginCommand(host, profile))
			return nil
		}
		t, err := c.mint(s, now)
		if err != nil {
			return err
		}
		tok, exp = t, s.CachedExpiry
		return nil
	})
	if err != nil {
		return "", time.Time{}, fail(1, "Error: token refresh: %v", err)
	}
	return tok, exp, e
}

func (c *cli) mint(s *fakestate.State, now time.Time) (string, error) {
	key, err := fakestate.ReadKey(c.dir)
	if err != nil {
		return "", err
	}
	t, err := fakestate.Mint(key, s.Host, s.UserName(), now, s.Lifetime())
	if err != nil {
		return "", err
	}
	s.CachedToken = t
	s.CachedExpiry = now.Truncate(time.Second).Add(s.Lifetime())
	s.Minted++
	return t, nil
}

// Commands -----------------------------------------------------------------------------------------------

func (c *cli) token(args []string) *exitErr {
	valued := []string{"host", "profile", "p", "output", "o", "timeout"}
	bools := []string{"debug"}
	if c.st.AtLeast(0, 296) {
		bools = append(bools, "force-refresh")
	}
	fl, e := parseFlags(args, valued, bools)
	if e != nil {
		return e
	}
	if c.st.Hang {
		hang()
	}
	host, profile := hostAndProfile(fl)
	output := longOrShort(fl, "output", "o")
	if output != "" && output != "json" && output != "text" {
		return fail(1, "Error: invalid argument %q for \"-o, --output\" flag: must be one of: json, text", output)
	}
	host, e = c.resolveHost(host, profile)
	if e != nil {
		return e
	}
	if !c.loggedInFor(host) {
		return notConfigured(host)
	}
	if c.st.Garbage {
		fmt.Fprint(c.stdout, "<html><body>502 Bad Gateway</body></html>")
		return nil
	}
	tok, exp, e := c.accessToken(host, profile, last(fl, "force-refresh") == "true")
	if e != nil {
		return e
	}
	if output == "text" && c.st.AtLeast(0, 296) {
		fmt.Fprintln(c.stdout, tok)
		return nil
	}
	type tokenJSON struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Expiry      string `json:"expiry"`
		ExpiresIn   *int64 `json:"expires_in,omitempty"`
	}
	out := tokenJSON{AccessToken: tok, TokenType: "Bearer", Expiry: exp.Local().Format("2006-01-02T15:04:05.999999999-07:00")}
	if c.st.IncludeExpiresIn {
		n := int64(exp.Sub(c.st.CLINow()).Seconds())
		out.ExpiresIn = &n
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	c.stdout.Write(b) // no trailing newline, like the real CLI
	return nil
}

func (c *cli) login(args []string) *exitErr {
	fl, e := parseFlags(args, []string{"host", "profile", "p", "timeout", "configure-cluster"}, []string{"debug"})
	if e != nil {
		return e
	}
	if c.st.Hang {
		hang()
	}
	host, profile := hostAndProfile(fl)
	if host == "" && profile != "" {
		host = readProfiles()[profile]
	}
	if host == "" {
		return fail(1, "Error: the command is being run in a non-interactive environment, please specify a host using --host")
	}
	host = fakestate.NormalizeHost(host)
	// Discovery, against the workspace itself.
	cl := &http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(host + "/oidc/.well-known/oauth-authorization-server")
	if err != nil {
		return fail(1, "Error: oidc: fetch .well-known: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(1, "Error: oidc: fetch .well-known: unexpected status %s", resp.Status)
	}
	fmt.Fprintf(c.stderr, "Please complete authentication by opening this link in your browser:\n%s/oidc/v1/authorize?client_id=databricks-cli&code_challenge=fake&code_challenge_method=S256&redirect_uri=http%%3A%%2F%%2Flocalhost%%3A8020&response_type=code&scope=offline_access+all-apis&state=fake\n", host)
	if c.st.LoginFails {
		return fail(1, "Error: authorize: access_denied: the user denied the request")
	}
	err = fakestate.Update(c.dir, func(s *fakestate.State) error {
		if fakestate.NormalizeHost(s.Host) != host {
			return fmt.Errorf("fake workspace is %s, not %s", s.Host, host)
		}
		s.LoggedIn = true
		if _, err := c.mint(s, s.CLINow()); err != nil {
			return err
		}
		if profile != "" {
			found := false
			for _, p := range s.Profiles {
				found = found || p == profile
			}
			if !found {
				s.Profiles = append(s.Profiles, profile)
			}
		}
		return nil
	})
	if err != nil {
		return fail(1, "Error: login: %v", err)
	}
	if profile == "" {
		return nil
	}
	if err := WriteProfile(configPath(), profile, host); err != nil {
		return fail(1, "Error: cannot save profile: %v", err)
	}
	fmt.Fprintf(c.stderr, "Profile %s was successfully saved\n", profile)
	return nil
}

// WriteProfile sets [profile] host = H, auth_type = databricks-cli in the config file, keeping the others.
func WriteProfile(path, profile, host string) error {
	b, _ := os.ReadFile(path)
	var out []string
	skip := false
	for _, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			skip = strings.TrimSpace(t[1:len(t)-1]) == profile
		}
		if !skip {
			out = append(out, line)
		}
	}
	text := strings.TrimRight(strings.Join(out, "\n"), "\n")
	if text != "" {
		text += "\n\n"
	}
	text += fmt.Sprintf("[%s]\nhost      = %s\nauth_type = databricks-cli\n", profile, host)
	return os.WriteFile(path, []byte(text), 0o600)
}

func (c *cli) describe(args []string) *exitErr {
	fl, e := parseFlags(args, []string{"host", "profile", "p", "output", "o"}, []string{"sensitive", "debug"})
	if e != nil {
		return e
	}
	if c.st.Hang {
		hang()
	}
	host, profile := last(fl, "host"), longOrShort(fl, "profile", "p")
	output := longOrShort(fl, "output", "o")
	type details struct {
		Host     string `json:"host"`
		Profile  string `json:"profile,omitempty"`
		AuthType string `json:"auth_type"`
	}
	type status struct {
		Status   string  `json:"status"`
		Error    string  `json:"error,omitempty"`
		Username string  `json:"username,omitempty"`
		Details  details `json:"details"`
	}
	st := status{Status: "success", Details: details{Profile: profile, AuthType: "databricks-cli"}}
	user, err := func() (string, error) {
		h, e := c.resolveHost(host, profile)
		if e != nil {
			return "", fmt.Errorf("%s", strings.TrimPrefix(e.msg, "Error: "))
		}
		st.Details.Host = h
		if !c.loggedInFor(h) {
			return "", fmt.Errorf("%s", strings.TrimPrefix(notConfigured(h).msg, "Error: "))
		}
		tok, _, e := c.accessToken(h, profile, false)
		if e != nil {
			return "", fmt.Errorf("%s", strings.TrimPrefix(e.msg, "Error: "))
		}
		return me(h, tok)
	}()
	if err != nil {
		st.Status, st.Error = "error", err.Error()
	}
	st.Username = user
	if output == "json" {
		b, _ := json.MarshalIndent(st, "", "  ")
		fmt.Fprintln(c.stdout, string(b))
		return nil
	}
	if st.Status == "error" {
		fmt.Fprintf(c.stdout, "Unable to authenticate: %s\n", st.Error)
		return nil
	}
	fmt.Fprintf(c.stdout, "Host: %s\nUser: %s\nAuthenticated with: databricks-cli\n", st.Details.Host, user)
	return nil
}

func me(host, tok string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, host+"/api/2.0/preview/scim/v2/Me", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		UserName string `json:"userName"`
		Message  string `json:"message"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK {
		if body.Message == "" {
			body.Message = resp.Status
		}
		return "", fmt.Errorf("%s", body.Message)
	}
	return body.UserName, nil
}

func (c *cli) databaseCredential(args []string) *exitErr {
	fl, e := parseFlags(args, []string{"request-id", "json", "profile", "p", "output", "o"}, []string{"debug"})
	if e != nil {
		return e
	}
	if c.st.Hang {
		hang()
	}
	profile := last(fl, "profile")
	if p := last(fl, "p"); p != "" {
		profile = p
	}
	var req struct {
		InstanceNames []string `json:"instance_names"`
	}
	if j := last(fl, "json"); j != "" {
		if err := json.Unmarshal([]byte(j), &req); err != nil {
			return fail(1, "Error: invalid JSON in --json: %v", err)
		}
	}
	if len(req.InstanceNames) == 0 {
		return fail(1, "Error: instance_names is required")
	}
	var host string
	if profile != "" {
		host, e = c.resolveHost("", profile)
		if e != nil {
			return e
		}
	} else if h := os.Getenv("DATABRICKS_HOST"); h != "" {
		host = fakestate.NormalizeHost(h)
	} else if h := readProfiles()["DEFAULT"]; h != "" {
		host = fakestate.NormalizeHost(h)
	} else {
		return fail(1, "Error: default auth: cannot configure default credentials, please check https://docs.databricks.com/en/dev-tools/auth.html#databricks-client-unified-authentication to configure credentials for your preferred authentication method")
	}
	if !c.loggedInFor(host) {
		return notConfigured(host)
	}
	if c.st.Garbage {
		fmt.Fprint(c.stdout, "<html><body>502 Bad Gateway</body></html>")
		return nil
	}
	if _, _, e := c.accessToken(host, profile, false); e != nil {
		return e
	}
	life := c.st.DatabaseCredentialLifetime
	if life == 0 {
		life = time.Hour
	}
	now := c.st.CLINow()
	tok := c.st.DatabaseCredential
	if tok == "" {
		key, err := fakestate.ReadKey(c.dir)
		if err != nil {
			return fail(1, "Error: %v", err)
		}
		tok, err = fakestate.Mint(key, c.st.Host, c.st.UserName(), now, life)
		if err != nil {
			return fail(1, "Error: %v", err)
		}
	}
	b, _ := json.MarshalIndent(map[string]string{
		"expiration_time": now.Add(life).UTC().Format(time.RFC3339Nano),
		"token":           tok,
	}, "", "  ")
	fmt.Fprintln(c.stdout, string(b))
	return nil
}
