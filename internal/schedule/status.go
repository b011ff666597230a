package schedule

import (
	"context"
	"fmt"
	"time"
)

// StatusReport is what 'voyce-auth schedule status' (and the doctor's rotation-schedule check) shows.
type StatusReport struct {
	// Kind is the installed scheduler; when nothing is installed, the one install would pick.
	Kind      Kind     `json:"kind"`
	Installed bool     `json:"installed"`
	Files     []string `json:"files,omitempty"` // installed files ("crontab" for cron)
	// Enabled: the schedule starts by itself (systemd: timer enabled; launchd: agent loaded; cron: lines
	// present and not commented out).
	Enabled bool `json:"enabled"`
	// Active: it is running now (systemd: timer active; launchd: loaded; cron: a cron daemon is running).
	Active bool   `json:"active"`
	State  string `json:"state,omitempty"` // the scheduler's words, e.g. "timer enabled, active"
	// Matches: the installed files are byte-identical to what install would render now. False after the
	// binary or the project moved: the classic silent failure.
	Matches  bool   `json:"matches"`
	Mismatch string `json:"mismatch,omitempty"` // the first difference, when !Matches
	// Interval is the installed interval (0 when unknown).
	Interval        time.Duration `json:"-"`
	IntervalSeconds int64         `json:"interval_seconds,omitempty"`
	NextRun         time.Time     `json:"next_run,omitzero"`     // zero when the scheduler does not say
	LastRun         time.Time     `json:"last_run,omitzero"`     // zero when unknown or never ran
	LastResult      string        `json:"last_result,omitempty"` // e.g. "success", "exit-code"
	LogFile         string        `json:"log_file"`
	LastLogLine     string        `json:"last_log_line,omitempty"` // last line of logs/oauth-rotation.log
	// AlsoInstalled lists other kinds found installed at the same time (rotation would run twice).
	AlsoInstalled []Kind `json:"also_installed,omitempty"`
	// Problems are the things to fix, each ending with the fix; empty means all is well.
	Problems []string `json:"problems,omitempty"`
	// Warnings may or may not matter here (lingering off on an always-logged-in desktop, a cron daemon
	// this check cannot see), each with its fix.
	Warnings []string `json:"warnings,omitempty"`
	// Reason says why Kind was picked when nothing is installed.
	Reason string `json:"reason,omitempty"`
}

// OK reports whether the schedule is installed, enabled and current, with no problem to fix (warnings
// allowed).
func (r *StatusReport) OK() bool {
	return r.Installed && r.Enabled && r.Matches && len(r.Problems) == 0
}

// Status inspects the schedule: for Auto every kind this OS has (the first one found installed is
// reported, the others in AlsoInstalled), otherwise s.Kind. It fails only for a kind this OS cannot have;
// a scheduler that does not answer is a Problem in the report.
func (m *Manager) Status(ctx context.Context, s Spec) (*StatusReport, error) {
	kinds, err := m.kindsToInspect(s)
	if err != nil {
		return nil, err
	}
	var found []*StatusReport
	var errs []string
	for _, k := range kinds {
		ks := s
		ks.Kind = k
		r := &StatusReport{Kind: k}
		var err error
		switch k {
		case Systemd:
			err = m.statusSystemd(ctx, ks, r)
		case Launchd:
			err = m.statusLaunchd(ctx, ks, r)
		case Cron:
			err = m.statusCron(ctx, ks, r)
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", k, err))
		}
		if r.Installed {
			found = append(found, r)
		}
	}
	var r *StatusReport
	if len(found) > 0 {
		r = found[0]
		for _, o := range found[1:] {
			r.AlsoInstalled = append(r.AlsoInstalled, o.Kind)
			r.Problems = append(r.Problems, fmt.Sprintf("the schedule is also installed as %s, so rotation runs twice. Fix: voyce-auth schedule remove --kind %s", o.Kind, o.Kind))
		}
	} else {
		r = &StatusReport{Kind: s.Kind}
		if s.Kind == "" || s.Kind == Auto {
			if c, err := m.Detect(ctx, s); err == nil {
				r.Kind, r.Reason = c.Kind, c.Reason
			} else {
				r.Kind = ""
				r.Reason = err.Error()
			}
		}
		r.Problems = append(r.Problems, "no rotation schedule is installed: the token expires within an hour unless something rotates it. Fix: voyce-auth schedule install")
	}
	r.Problems = append(r.Problems, errs...)
	r.IntervalSeconds = int64(r.Interval / time.Second)
	r.LogFile = s.LogPath()
	r.LastLogLine = lastLine(r.LogFile)
	return r, nil
}
