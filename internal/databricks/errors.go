package databricks

import (
	"errors"
	"fmt"
	"strings"
)

// Kind sorts a failure of the Databricks CLI or workspace into what the person (or the rotation) does next.
type Kind int

const (
	// KindOther: the CLI failed in a way not recognised below.
	KindOther Kind = iota
	// KindNotInstalled: no `databricks` in PATH.
	KindNotInstalled
	// KindLegacy: the legacy pip CLI (`Version 0.18.0`), which has no `auth` command.
	KindLegacy
	// KindTooOld: a modern CLI older than needed.
	KindTooOld
	// KindNotLoggedIn: the CLI has no OAuth login for the host.
	KindNotLoggedIn
	// KindRefreshRejected: the refresh token was refused (expired, revoked): log in again.
	KindRefreshRejected
	// KindMultipleProfiles: several profiles match the host; --profile is needed.
	KindMultipleProfiles
	// KindTimeout: the CLI did not answer within its time limit (transient).
	KindTimeout
	// KindNetwork: the CLI or the workspace could not be reached (transient).
	KindNetwork
	// KindGarbage: the CLI answered with something that is not the expected output.
	KindGarbage
	// KindUnauthorized: the workspace refused the token (401/403): rotate or log in again.
	KindUnauthorized
)

var kindNames = map[Kind]string{
	KindOther: "failed", KindNotInstalled: "not installed", KindLegacy: "legacy CLI", KindTooOld: "too old",
	KindNotLoggedIn: "not logged in", KindRefreshRejected: "refresh token rejected",
	KindMultipleProfiles: "multiple profiles", KindTimeout: "timeout", KindNetwork: "network",
	KindGarbage: "unexpected output", KindUnauthorized: "token refused",
}

func (k Kind) String() string { return kindNames[k] }

// Error is a classified failure. Its text is one line without secrets; Fix is the command or step to take.
type Error struct {
	Kind Kind
	Msg  string // what happened, one line
	Fix  string // what to do, e.g. "databricks auth login --host H --profile P"
	Err  error  // the underlying error, if any
}

func (e *Error) Error() string {
	if e.Fix == "" {
		return e.Msg
	}
	return e.Msg + "; fix: " + e.Fix
}

func (e *Error) Unwrap() error { return e.Err }

// Transient reports whether trying again soon may succeed (timeouts, network).
func (e *Error) Transient() bool { return e.Kind == KindTimeout || e.Kind == KindNetwork }

// KindOf returns the Kind of err (KindOther when err is not an *Error).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindOther
}

// IsTransient reports whether err is a classified transient failure.
func IsTransient(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Transient()
}

// DefaultProfile is the profile name suggested when none is configured (the one setup proposes).
const DefaultProfile = "voyce"

// LoginCommand is the command that logs the CLI in for host; profile defaults to DefaultProfile (always
// passed: without a terminal and without --profile the CLI saves no profile).
func LoginCommand(host, profile string) string {
	if profile == "" {
		profile = DefaultProfile
	}
	if host == "" {
		return "databricks auth login --profile " + profile
	}
	return fmt.Sprintf("databricks auth login --host %s --profile %s", host, profile)
}

// InstallHint tells how to install the Databricks CLI on goos (never the legacy pip package).
func InstallHint(goos string) string {
	switch goos {
	case "darwin":
		return "brew tap databricks/tap && brew install databricks"
	case "windows":
		return "winget install Databricks.DatabricksCLI"
	default:
		return "curl -fsSL https://raw.githubusercontent.com/databricks/setup-cli/main/install.sh | sh"
	}
}

// InstallText is InstallHint with the warning about the legacy package, for messages.
func InstallText(goos string) string {
	return InstallHint(goos) + " (not 'pip install databricks-cli', which is the legacy CLI)"
}

// firstLine returns the first non-empty line of s without a leading "Error: ", cut to a sane length.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "Usage:") || strings.HasPrefix(l, "Try '") {
			continue
		}
		l = strings.TrimPrefix(l, "Error: ")
		if len(l) > 300 {
			l = l[:300] + "..."
		}
		return l
	}
	return ""
}
