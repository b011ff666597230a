package wizard

import (
	"fmt"
	"slices"
	"strings"
)

// checkSchedule validates Options.Schedule.
func checkSchedule(kind string) error {
	if kind == "" || slices.Contains(ScheduleKinds, kind) {
		return nil
	}
	return usagef("--schedule must be one of %s (got %q)", strings.Join(ScheduleKinds, ", "), kind)
}

// rotationSection asks for the post-rotate hook and installs the schedule (interactive).
func (w *wizard) rotationSection() error {
	w.printf("\n%s\n", w.cs.Bold("Token rotation"))
	if !w.hasToken {
		w.printf("Skipped: rotation keeps the Databricks token fresh, and Databricks is not set up.\n")
		return nil
	}
	hook, changed, err := w.askHook()
	if err != nil {
		return err
	}
	if changed {
		if err := w.save("rotation", Changes{Hook: &hook}); err != nil {
			return err
		}
	}
	if hook != "" {
		w.summary = append(w.summary, "Hook        runs after each rotation: "+hook)
	}
	kind := w.opts.Schedule
	if kind == "" {
		ok, err := w.d.Prompter.Confirm("Install automatic token rotation (checks every 5 minutes)?", true)
		if err != nil {
			return err
		}
		kind = "none"
		if ok {
			kind = "auto"
		}
	}
	w.installSchedule(kind)
	return nil
}

// askHook returns the post-rotate hook and whether it differs from the saved one.
func (w *wizard) askHook() (string, bool, error) {
	cur := w.state.Hook
	if w.opts.PostRotateHook != nil {
		h := strings.TrimSpace(*w.opts.PostRotateHook)
		return h, h != cur || (h != "" && !w.state.HasHook), nil
	}
	w.printf("After each rotation voyce-auth can run a command, e.g. to restart the backend\n")
	w.printf("(systemctl --user restart voyce-backend) so that it reads the new token.\n")
	w.spacer()
	label := "Post-rotate command (optional)"
	if cur != "" {
		label = "Post-rotate command ('-' removes it)"
	}
	v, err := w.d.Prompter.Input(label, cur)
	if err != nil {
		return "", false, err
	}
	v = strings.TrimSpace(v)
	if v == "-" {
		v = ""
	}
	if strings.ContainsAny(v, "\n\r\x00") {
		w.printf("%s The command must be one line; not saved.\n", w.cs.FailureIcon())
		return cur, false, nil
	}
	return v, v != cur, nil
}

// installSchedule installs the rotation schedule; a failure is reported and counted, not fatal.
func (w *wizard) installSchedule(kind string) {
	if kind == "" || kind == "none" {
		w.summary = append(w.summary, "Rotation    not scheduled (run 'voyce-auth schedule install' to add it)")
		return
	}
	if w.d.InstallSchedule == nil {
		w.printf("%s This build cannot install the schedule yet; run 'voyce-auth schedule install' later.\n", w.cs.WarningIcon())
		w.summary = append(w.summary, "Rotation    NOT scheduled")
		w.problems++
		return
	}
	lines, err := w.d.InstallSchedule(w.ctx, kind)
	if err != nil {
		w.printProblem(problemOf(err))
		w.printf("  Fix that, then run 'voyce-auth schedule install --kind %s'.\n", kind)
		w.summary = append(w.summary, "Rotation    NOT scheduled (see above)")
		w.problems++
		return
	}
	for _, l := range lines {
		w.printf("%s %s\n", w.cs.SuccessIcon(), l)
	}
	w.summary = append(w.summary, fmt.Sprintf("Rotation    scheduled (%s)", kind))
}
