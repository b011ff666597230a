package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/doctor"
	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/prompt"
)

// fakeChecks: one ok, one warning, one fixable failure (fixed by its fix), one that hangs.
func fakeChecks(hang bool) (func(*doctor.Deps) []doctor.Check, *bool) {
	fixed := new(bool)
	return func(*doctor.Deps) []doctor.Check {
		cs := []doctor.Check{
			&doctor.Func{Name: "env-file", Area: "PostgreSQL", About: "the .env", Do: func(context.Context) doctor.Result {
				return doctor.OK(".env has every setting")
			}},
			&doctor.Func{Name: "pgpass-file", Area: "PostgreSQL", About: "mode", Do: func(context.Context) doctor.Result {
				if *fixed {
					return doctor.OK("mode 0600")
				}
				return doctor.Fail("chmod 600 ~/.pgpass", "~/.pgpass is 0644: psql ignores it")
			}, Plan: func(doctor.Result) string { return "chmod 600 ~/.pgpass (now 0644)" },
				Apply: func(context.Context, doctor.Result) error { *fixed = true; return nil }},
			&doctor.Func{Name: "oauth-token", Area: "Databricks", Deps: []string{"env-file"}, Do: func(context.Context) doctor.Result {
				return doctor.Warn("voyce-auth rotate", "expires in 9 minutes")
			}},
		}
		if hang {
			cs = append(cs, &doctor.Func{Name: "pg-tcp", Area: "PostgreSQL", Do: func(context.Context) doctor.Result {
				select {}
			}})
		}
		return cs
	}, fixed
}

func newOpts(checks func(*doctor.Deps) []doctor.Check) (*Options, *iostreams.IOStreams, func() string, func() string) {
	ios, _, out, errOut := iostreams.Test()
	return &Options{IO: ios, Deps: &doctor.Deps{}, Checks: checks, Timeout: 2 * time.Second, Context: context.Background()},
		ios, out.String, errOut.String
}

func TestDoctorTextAndExitCode(t *testing.T) {
	checks, _ := fakeChecks(false)
	opts, _, out, _ := newOpts(checks)
	err := run(opts)
	if cmdutil.ExitCode(err) != 1 {
		t.Fatalf("exit = %d (%v), want 1", cmdutil.ExitCode(err), err)
	}
	for _, s := range []string{"✗ pgpass-file  ~/.pgpass is 0644", "fix: chmod 600 ~/.pgpass", "✗ Found 1 problem and 1 warning"} {
		if !strings.Contains(out(), s) {
			t.Errorf("output lacks %q:\n%s", s, out())
		}
	}
	// Warnings alone exit 0.
	opts, _, _, _ = newOpts(checks)
	opts.Skip = []string{"pgpass-file"}
	if err := run(opts); err != nil {
		t.Errorf("warnings only: %v", err)
	}
}

func TestDoctorHangingCheckFinishesWithinLimit(t *testing.T) {
	checks, _ := fakeChecks(true)
	opts, _, out, _ := newOpts(checks)
	opts.Timeout = 300 * time.Millisecond
	start := time.Now()
	err := run(opts)
	if time.Since(start) > 3*time.Second {
		t.Fatalf("doctor waited for a hanging check")
	}
	if cmdutil.ExitCode(err) != 1 || !strings.Contains(out(), "✗ pg-tcp       did not answer in 300ms") {
		t.Errorf("err=%v output:\n%s", err, out())
	}
}

func TestDoctorJSON(t *testing.T) {
	checks, _ := fakeChecks(false)
	opts, _, out, errOut := newOpts(checks)
	opts.JSON = true
	err := run(opts)
	if cmdutil.ExitCode(err) != 1 {
		t.Errorf("exit %d", cmdutil.ExitCode(err))
	}
	var doc doctor.JSONReport
	dec := json.NewDecoder(strings.NewReader(out()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, out())
	}
	if len(doc.Checks) != 3 || doc.Summary.Fail != 1 || doc.Summary.Warn != 1 || doc.Summary.ExitCode != 1 {
		t.Errorf("doc = %+v", doc)
	}
	if doc.Checks[1].ID != "pgpass-file" || doc.Checks[1].Fix != "chmod 600 ~/.pgpass" {
		t.Errorf("check = %+v", doc.Checks[1])
	}
	if errOut() != "" {
		t.Errorf("stderr = %q", errOut())
	}
}

func TestDoctorListOnlySkip(t *testing.T) {
	checks, _ := fakeChecks(false)
	opts, _, out, _ := newOpts(checks)
	opts.List = true
	if err := run(opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out(), "pgpass-file  PostgreSQL  mode (--fix can repair)") {
		t.Errorf("--list:\n%s", out())
	}
	opts, _, out, _ = newOpts(checks)
	opts.Only = []string{"oauth-token"}
	if err := run(opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out(), "env-file") || strings.Contains(out(), "pgpass-file") {
		t.Errorf("--only oauth-token should bring env-file and leave out pgpass-file:\n%s", out())
	}
	opts, _, _, _ = newOpts(checks)
	opts.Only = []string{"nosuch"}
	err := run(opts)
	if cmdutil.ExitCode(err) != 2 || !strings.Contains(err.Error(), `unknown check "nosuch"`) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestDoctorFix(t *testing.T) {
	checks, fixed := fakeChecks(false)
	// Not a terminal and no --yes: refused up front, nothing changed.
	opts, _, _, _ := newOpts(checks)
	opts.Fix = true
	if err := run(opts); cmdutil.ExitCode(err) != 2 || *fixed {
		t.Fatalf("--fix without --yes on a pipe: %v, fixed=%v", err, *fixed)
	}
	// On a terminal, the answer "no" changes nothing.
	opts, ios, out, _ := newOpts(checks)
	ios.SetTTY(true, true, false)
	opts.Fix = true
	opts.Prompter = &prompt.Scripted{Answers: []any{false}}
	if err := run(opts); cmdutil.ExitCode(err) != 1 || *fixed || !strings.Contains(out(), "Nothing was changed.") {
		t.Fatalf("answer no: %v fixed=%v\n%s", err, *fixed, out())
	}
	// Ctrl-C cancels.
	opts, ios, _, _ = newOpts(checks)
	ios.SetTTY(true, true, false)
	opts.Fix = true
	opts.Prompter = &prompt.Scripted{Answers: []any{prompt.ErrInterrupted}}
	if err := run(opts); !errors.Is(err, cmdutil.ErrCancel) || *fixed {
		t.Fatalf("ctrl-c: %v", err)
	}
	// --yes applies, shows the change, re-checks, and exits 0 (only a warning is left).
	opts, _, out, _ = newOpts(checks)
	opts.Fix, opts.Yes = true, true
	if err := run(opts); err != nil {
		t.Fatalf("--fix --yes: %v\n%s", err, out())
	}
	for _, s := range []string{"--fix will:\n  • chmod 600 ~/.pgpass (now 0644)  (pgpass-file)", "✓ pgpass-file: mode 0600",
		"! No problems, 1 warning"} {
		if !strings.Contains(out(), s) {
			t.Errorf("output lacks %q:\n%s", s, out())
		}
	}
}

func TestDoctorStreamsOnTerminal(t *testing.T) {
	checks, _ := fakeChecks(false)
	opts, ios, _, errOut := newOpts(checks)
	ios.SetTTY(false, false, true) // stderr is a terminal, stdout a pipe: the streamed lines stay
	_ = run(opts)
	if !strings.Contains(errOut(), "Running 3 checks") || !strings.Contains(errOut(), "✓ env-file .env has every setting") {
		t.Errorf("stderr:\n%s", errOut())
	}
	opts, ios, _, errOut = newOpts(checks)
	ios.SetTTY(false, true, true) // both terminals: the streamed lines are erased before the report
	_ = run(opts)
	// The checks finish in any order; all three stream, then the 4 streamed lines are erased.
	streamed, _, erased := strings.Cut(errOut(), "\x1b[4A\x1b[J")
	if !erased {
		t.Fatalf("stderr should end by erasing the 4 streamed lines: %q", errOut())
	}
	for _, line := range []string{"env-file .env has every setting", "oauth-token expires in 9 minutes", "pgpass-file ~/.pgpass is 0644"} {
		if !strings.Contains(streamed, line) {
			t.Errorf("%q was not streamed before the erase: %q", line, errOut())
		}
	}
}

func TestDoctorUsage(t *testing.T) {
	checks, _ := fakeChecks(false)
	opts, _, _, _ := newOpts(checks)
	opts.Timeout = 0
	if err := run(opts); cmdutil.ExitCode(err) != 2 || !strings.Contains(err.Error(), "--timeout") {
		t.Errorf("timeout 0: %v", err)
	}
	opts, _, _, _ = newOpts(checks)
	opts.Fix, opts.JSON = true, true
	if err := run(opts); cmdutil.ExitCode(err) != 2 {
		t.Errorf("--fix --json: %v", err)
	}
}

func TestTimeoutFlag(t *testing.T) {
	var d time.Duration
	f := durationFlag{&d}
	if err := f.Set("800ms"); err != nil || d != 800*time.Millisecond {
		t.Errorf("800ms: %v %v", d, err)
	}
	for _, bad := range []string{"x", "0s", "-1s", "5"} {
		if err := f.Set(bad); err == nil || !strings.Contains(err.Error(), "such as 5s") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if got := cmdutil.FlagErrorText(errors.New(`invalid value "x" for flag -timeout: must be a positive duration such as 5s or 800ms`)); got != `--timeout: invalid value "x": must be a positive duration such as 5s or 800ms` {
		t.Errorf("FlagErrorText = %q", got)
	}
}
