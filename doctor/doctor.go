// Package doctor checks every part of a voyce-auth setup and says, for each problem, the exact command that
// fixes it.
//
// A Check is small: an ID and a Run method that returns a Result. Checks may also declare the checks they
// need (Needer), the group they are shown under (Grouper), a one-line description for --list (Describer)
// and a fix that can be applied for them (Fixer). Run starts every check at once, with one hard deadline for
// the whole run: a check that does not answer in time is reported as timed out and abandoned, a check that
// panics is reported as crashed, and neither stops the others. A check that needs another waits only for that
// one, and is skipped when it did not pass.
package doctor

import (
	"context"
	"time"
)

// Status is the outcome of one check.
type Status string

// The states a check ends in. Warnings do not fail the run; fail, timeout and crashed do.
const (
	StatusOK      Status = "ok"
	StatusWarn    Status = "warn"
	StatusFail    Status = "fail"
	StatusSkip    Status = "skip"
	StatusTimeout Status = "timeout"
	StatusCrashed Status = "crashed"
)

// Failed reports whether s makes the run fail (exit 1).
func (s Status) Failed() bool { return s == StatusFail || s == StatusTimeout || s == StatusCrashed }

// Passed reports whether checks that need this one may run (ok or warn).
func (s Status) Passed() bool { return s == StatusOK || s == StatusWarn }

// Result is what a check found.
type Result struct {
	Status Status
	// Message is one line: what was found.
	Message string
	// Fix is the exact command (or short instruction) that fixes a problem; empty when ok.
	Fix string
	// Details are extra lines shown with -v (versions, paths, the raw error).
	Details []string
	// Duration is how long the check ran; the runner fills it in.
	Duration time.Duration
}

// OK returns a passing result.
func OK(format string, args ...any) Result {
	return Result{Status: StatusOK, Message: sprintf(format, args...)}
}

// Warn returns a warning with its fix.
func Warn(fix, format string, args ...any) Result {
	return Result{Status: StatusWarn, Message: sprintf(format, args...), Fix: fix}
}

// Fail returns a failure with its fix.
func Fail(fix, format string, args ...any) Result {
	return Result{Status: StatusFail, Message: sprintf(format, args...), Fix: fix}
}

// Skip returns a skipped result, saying why the check did not apply.
func Skip(format string, args ...any) Result {
	return Result{Status: StatusSkip, Message: sprintf(format, args...)}
}

// WithDetails returns r with lines added to its details.
func (r Result) WithDetails(lines ...string) Result {
	r.Details = append(append([]string(nil), r.Details...), lines...)
	return r
}

// Check is one diagnosis.
type Check interface {
	// ID is stable, kebab-case, and unique within a run (e.g. "pg-login").
	ID() string
	// Run diagnoses. It should return when ctx is done; if it does not, the runner reports a timeout and
	// abandons it.
	Run(ctx context.Context) Result
}

// Needer is implemented by checks that need other checks to pass (ok or warn) before they can run.
type Needer interface {
	Needs() []string
}

// Grouper is implemented by checks shown under a heading (e.g. "PostgreSQL").
type Grouper interface {
	Group() string
}

// Describer is implemented by checks with a one-line description for --list.
type Describer interface {
	Description() string
}

// Fixer is implemented by checks whose problems voyce-auth can fix by itself.
type Fixer interface {
	// PlanFix says, in one line, what Fix would change for result r; "" when it cannot fix r.
	PlanFix(r Result) string
	// Fix applies the change PlanFix described.
	Fix(ctx context.Context, r Result) error
}

// Func is a Check built from fields; every check in this package is one.
type Func struct {
	Name  string // the ID
	Area  string // the group
	About string // the description
	Deps  []string
	Do    func(ctx context.Context) Result
	// Plan and Apply make the check a Fixer when both are set.
	Plan  func(r Result) string
	Apply func(ctx context.Context, r Result) error
}

// ID implements Check.
func (f *Func) ID() string { return f.Name }

// Run implements Check.
func (f *Func) Run(ctx context.Context) Result { return f.Do(ctx) }

// Needs implements Needer.
func (f *Func) Needs() []string { return f.Deps }

// Group implements Grouper.
func (f *Func) Group() string { return f.Area }

// Description implements Describer.
func (f *Func) Description() string { return f.About }

// PlanFix implements Fixer.
func (f *Func) PlanFix(r Result) string {
	if f.Plan == nil || f.Apply == nil {
		return ""
	}
	return f.Plan(r)
}

// Fix implements Fixer.
func (f *Func) Fix(ctx context.Context, r Result) error {
	if f.Apply == nil {
		return nil
	}
	return f.Apply(ctx, r)
}

func needsOf(c Check) []string {
	if n, ok := c.(Needer); ok {
		return n.Needs()
	}
	return nil
}

// GroupOf returns the check's group, or "" when it has none.
func GroupOf(c Check) string {
	if g, ok := c.(Grouper); ok {
		return g.Group()
	}
	return ""
}

// DescriptionOf returns the check's description, or "" when it has none.
func DescriptionOf(c Check) string {
	if d, ok := c.(Describer); ok {
		return d.Description()
	}
	return ""
}
