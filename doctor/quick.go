package doctor

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/voyce/voyce-auth/internal/iostreams"
)

// QuickIDs are the checks the setup wizard runs at its end: what it has just configured (plus, through
// Select, what they need).
var QuickIDs = []string{"env-file", "pgpass-file", "pg-password-source", "pg-login", "database-url",
	"databricks-login", "oauth-token", "oauth-token-api", "env-file-mode", "secrets-ignored"}

// QuickChecks returns the quick checks, in the report's order.
func QuickChecks(d *Deps) []Check {
	checks, err := Select(All(d), QuickIDs, nil)
	if err != nil {
		panic(err) // QuickIDs names only known checks; a test keeps it so
	}
	return checks
}

// ErrProblems is returned by RunQuick when a check failed; the report has already said what and how to fix it.
var ErrProblems = errors.New("some checks failed")

// RunQuick runs the quick checks within timeout (0: DefaultTimeout) and writes the report to w. It returns
// ErrProblems when something failed (warnings are fine).
func RunQuick(ctx context.Context, d *Deps, w io.Writer, cs *iostreams.ColorScheme, timeout time.Duration) error {
	outcomes := Run(ctx, QuickChecks(d), Options{Timeout: timeout, Clock: d.Clock})
	WriteText(w, cs, outcomes, false)
	if Failed(outcomes) {
		return ErrProblems
	}
	return nil
}
