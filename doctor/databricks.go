package doctor

import (
	"context"
	"errors"
	"fmt"

	"github.com/voyce/voyce-auth/internal/databricks"
)

func (d *Deps) databricksClient() *databricks.Client {
	return &databricks.Client{Runner: d.Runner, GOOS: d.GOOS}
}

// fromDatabricksError turns a classified Databricks failure into a failed result.
func fromDatabricksError(err error) Result {
	var e *databricks.Error
	if errors.As(err, &e) {
		return Fail(e.Fix, "%s", e.Msg).WithDetails("kind: " + e.Kind.String())
	}
	return Fail("", "%v", err)
}

// checkDatabricksCLI runs `databricks --version`: installed, modern (not the legacy pip CLI), new enough for
// `auth login`.
func (d *Deps) checkDatabricksCLI(ctx context.Context) Result {
	c := d.databricksClient()
	v, err := c.Version(ctx)
	if err != nil {
		return fromDatabricksError(err)
	}
	if err := v.Require(databricks.MinLogin, d.GOOS); err != nil {
		return fromDatabricksError(err)
	}
	path, _ := d.Runner.LookPath(databricks.Program)
	r := OK("Databricks CLI %s", v).WithDetails("path: "+path, "version output: "+v.Raw)
	if !v.CanForceRefresh() {
		r = r.WithDetails(fmt.Sprintf("v%d.%d or newer refreshes tokens on demand (--force-refresh); this one hands "+
			"back the cached token until 5 minutes before expiry, which rotation handles", databricks.MinForceRefresh.Major,
			databricks.MinForceRefresh.Minor))
	}
	return r
}

// checkDatabricksLogin asks `databricks auth describe -o json` whether the CLI can authenticate to host.
func (d *Deps) checkDatabricksLogin(ctx context.Context, host, profile string) Result {
	c := d.databricksClient()
	desc, err := c.Describe(ctx, host, profile)
	if err != nil {
		return fromDatabricksError(err)
	}
	if err := desc.Err(c, host, profile); err != nil {
		return fromDatabricksError(err)
	}
	who := desc.Username
	if who == "" {
		who = "an unnamed user"
	}
	where := desc.Host
	if where == "" {
		where = host
	}
	r := OK("logged in to %s as %s", where, who)
	if desc.Profile != "" {
		r.Message += fmt.Sprintf(" (profile %s)", desc.Profile)
	}
	return r.WithDetails("auth type: " + desc.AuthType)
}

// checkTokenAPI asks the workspace (SCIM Me) who the token belongs to.
func (d *Deps) checkTokenAPI(ctx context.Context, host, tok string) Result {
	u, _, err := databricks.Me(ctx, d.HTTP, host, tok)
	if err != nil {
		if ctx.Err() != nil {
			return Fail("Check your network or VPN and DATABRICKS_HOST in .env",
				"the workspace %s did not answer in time", host)
		}
		return fromDatabricksError(err)
	}
	name := u.UserName
	if u.DisplayName != "" && u.DisplayName != u.UserName {
		name += " (" + u.DisplayName + ")"
	}
	r := OK("the workspace accepts the token: %s", name)
	if !u.Active {
		r = Warn("Ask a workspace admin to re-activate the user", "the workspace accepts the token, but user %s is deactivated", u.UserName)
	}
	return r
}
