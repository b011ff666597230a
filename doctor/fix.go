package doctor

import (
	"context"
	"fmt"
)

// PlannedFix is a change --fix can make for one problem.
type PlannedFix struct {
	Check   Check
	Outcome Outcome
	// Change says in one line what will change (e.g. "chmod 600 /home/me/.pgpass (now 644)").
	Change string
}

// PlanFixes returns the fixes the checks offer for the warnings and failures among outcomes.
func PlanFixes(checks []Check, outcomes []Outcome) []PlannedFix {
	byID := map[string]Check{}
	for _, c := range checks {
		byID[c.ID()] = c
	}
	var out []PlannedFix
	for _, o := range outcomes {
		if o.Result.Status != StatusWarn && o.Result.Status != StatusFail {
			continue
		}
		f, ok := byID[o.ID].(Fixer)
		if !ok {
			continue
		}
		if change := f.PlanFix(o.Result); change != "" {
			out = append(out, PlannedFix{Check: byID[o.ID], Outcome: o, Change: change})
		}
	}
	return out
}

// FixResult is what applying one fix did.
type FixResult struct {
	ID     string
	Change string
	Err    error
	// After is the check run again once the fix was applied (zero when the fix failed).
	After Outcome
}

// ApplyFixes applies each fix, then runs its check again to confirm it.
func ApplyFixes(ctx context.Context, fixes []PlannedFix, opts Options) []FixResult {
	var out []FixResult
	var rerun []Check
	for _, pf := range fixes {
		fr := FixResult{ID: pf.Check.ID(), Change: pf.Change}
		if err := applyOne(ctx, pf); err != nil {
			fr.Err = err
		} else {
			rerun = append(rerun, pf.Check)
		}
		out = append(out, fr)
	}
	if len(rerun) == 0 {
		return out
	}
	after := map[string]Outcome{}
	for _, o := range Run(ctx, rerun, opts) {
		after[o.ID] = o
	}
	for i := range out {
		if out[i].Err == nil {
			out[i].After = after[out[i].ID]
		}
	}
	return out
}

func applyOne(ctx context.Context, pf PlannedFix) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the fix crashed: %v", p)
		}
	}()
	return pf.Check.(Fixer).Fix(ctx, pf.Outcome.Result)
}

// Replace returns outcomes with each outcome in updates put in place of the one with the same id.
func Replace(outcomes []Outcome, updates []Outcome) []Outcome {
	out := append([]Outcome(nil), outcomes...)
	for _, u := range updates {
		for i := range out {
			if out[i].ID == u.ID {
				out[i] = u
			}
		}
	}
	return out
}
