package doctor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/internal/rotate"
	"github.com/voyce/voyce-auth/internal/token"
)

// RecentRotation is how old the last successful rotation may be before rotation-log warns: tokens live an
// hour and rotation replaces them 15 minutes before expiry, so a working schedule logs one every ~45 minutes.
const RecentRotation = 2 * time.Hour

// checkRotationSchedule reports what 'voyce-auth schedule status' reports.
func (d *Deps) checkRotationSchedule(ctx context.Context) Result {
	if d.ScheduleStatus == nil {
		return Skip("the schedule cannot be inspected here")
	}
	r, err := d.ScheduleStatus(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return Result{Status: StatusTimeout, Message: "the scheduler did not answer in time"}
		}
		return Fail("voyce-auth schedule status   (for the details)", "cannot inspect the rotation schedule: %v", err)
	}
	details := []string{"kind: " + string(r.Kind)}
	if r.State != "" {
		details = append(details, "state: "+r.State)
	}
	for _, f := range r.Files {
		details = append(details, "file: "+d.display(f))
	}
	if !r.NextRun.IsZero() {
		details = append(details, "next run: "+r.NextRun.Local().Format("2006-01-02 15:04:05"))
	}
	if !r.Installed {
		if r.Reason != "" {
			details = append(details, "install would use "+string(r.Kind)+": "+r.Reason)
		}
		return Warn("voyce-auth schedule install",
			"no rotation schedule is installed: the token expires within an hour unless something rotates it").
			WithDetails(details...)
	}
	if r.OK() {
		every := ""
		if r.Interval > 0 {
			every = ", every " + token.Human(r.Interval)
		}
		if len(r.Warnings) > 0 {
			// e.g. lingering off (the timer stops at logout) or no cron daemon running the lines.
			msgs, fixes, more := splitScheduleLines(r.Warnings)
			return Warn(strings.Join(dedupe(fixes), "\n"), "%s schedule installed%s, but %s", r.Kind, every,
				strings.Join(msgs, "; ")).WithDetails(append(details, more...)...)
		}
		return OK("%s schedule installed and active%s", r.Kind, every).WithDetails(details...)
	}
	if !r.Matches && r.Mismatch != "" {
		details = append(details, "differs: "+r.Mismatch)
	}
	msgs, fixes, more := splitScheduleLines(r.Problems)
	details = append(details, more...)
	if len(msgs) == 0 {
		switch {
		case !r.Matches:
			msgs = append(msgs, "the installed schedule no longer matches this binary and project (moved?)")
			fixes = append(fixes, "voyce-auth schedule install")
		case !r.Enabled || !r.Active:
			msgs = append(msgs, fmt.Sprintf("the %s schedule is installed but not running (%s)", r.Kind, r.State))
			fixes = append(fixes, "voyce-auth schedule install")
		}
	}
	if len(fixes) == 0 {
		fixes = append(fixes, "voyce-auth schedule status   (for the details)")
	}
	return Fail(strings.Join(dedupe(fixes), "\n"), "%s", strings.Join(msgs, "; ")).WithDetails(details...)
}

// splitScheduleLines splits internal/schedule's "message. Fix: command" lines into short messages and
// fixes; a long message is cut at its first ": " and kept whole in the details.
func splitScheduleLines(lines []string) (msgs, fixes, details []string) {
	for _, p := range lines {
		msg, fix, _ := strings.Cut(p, " Fix: ")
		msg = strings.TrimSuffix(msg, ".")
		if short, _, ok := strings.Cut(msg, ": "); ok && len(msg) > 100 {
			details = append(details, msg)
			msg = short
		}
		msgs = append(msgs, msg)
		if fix != "" {
			fixes = append(fixes, fix)
		}
	}
	return msgs, fixes, details
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// logEntry is one line of logs/oauth-rotation.log: "TIME key=value key=\"quoted value\" ...".
type logEntry struct {
	Time   time.Time
	Fields map[string]string
	Raw    string
}

func parseLogLine(line string) (logEntry, bool) {
	ts, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return logEntry{}, false
	}
	e := logEntry{Time: t, Fields: map[string]string{}, Raw: line}
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
		k, v, ok := strings.Cut(rest, "=")
		if !ok || strings.ContainsAny(k, " \t") {
			break
		}
		rest = v
		if strings.HasPrefix(v, `"`) {
			q, err := strconv.QuotedPrefix(v)
			if err != nil {
				e.Fields[k] = v
				break
			}
			e.Fields[k], _ = strconv.Unquote(q)
			rest = v[len(q):]
		} else {
			val, after, _ := strings.Cut(v, " ")
			e.Fields[k] = val
			rest = after
		}
	}
	return e, true
}

// checkRotationLog reads the last meaningful line of the rotation log.
func (d *Deps) checkRotationLog(ctx context.Context) Result {
	path := rotate.LogFile(d.EnvFile)
	shown := d.display(path)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Skip("no rotation has run yet (%s does not exist)", shown)
	}
	if err != nil {
		return Fail("", "cannot read %s: %v", shown, err)
	}
	defer f.Close()
	var entries []logEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if e, ok := parseLogLine(sc.Text()); ok {
			entries = append(entries, e)
		}
	}
	now := d.clock().Now()
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		ago := token.Human(now.Sub(e.Time)) + " ago"
		switch rotate.Outcome(e.Fields["outcome"]) {
		case rotate.Failed:
			msg := e.Fields["error"]
			if msg == "" {
				msg = "no reason given"
			}
			fix := e.Fields["fix"]
			if fix == "" {
				fix = "voyce-auth rotate   (to see the error again)"
			}
			return Fail(fix, "the last rotation failed %s: %s", ago, msg).WithDetails("log: "+shown, "line: "+e.Raw)
		case rotate.Rotated, rotate.SameToken:
			if e.Fields["hook"] == "failed" {
				return Warn("Check the post-rotate hook (VOYCE_POST_ROTATE_HOOK in .env)",
					"the last rotation (%s) wrote the new token, but its hook failed: %s", ago, e.Fields["hook_error"]).
					WithDetails("log: " + shown)
			}
			if now.Sub(e.Time) > RecentRotation {
				return Warn("voyce-auth schedule status   (is the schedule running?)",
					"the last rotation was %s (%s)", ago, e.Time.Local().Format("2006-01-02 15:04")).WithDetails("log: " + shown)
			}
			return OK("the last rotation succeeded %s", ago).WithDetails("log: "+shown, "line: "+e.Raw)
		}
	}
	return Skip("no rotation recorded in %s yet", shown)
}
