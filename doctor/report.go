package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/internal/iostreams"
)

// Summary counts outcomes by status.
type Summary struct {
	Total    int `json:"total"`
	OK       int `json:"ok"`
	Warn     int `json:"warn"`
	Fail     int `json:"fail"`
	Skip     int `json:"skip"`
	Timeout  int `json:"timeout"`
	Crashed  int `json:"crashed"`
	Problems int `json:"problems"` // fail + timeout + crashed
	ExitCode int `json:"exit_code"`
}

// Summarize counts the outcomes. ExitCode is 1 when something failed, else 0.
func Summarize(outcomes []Outcome) Summary {
	var s Summary
	for _, o := range outcomes {
		s.Total++
		switch o.Result.Status {
		case StatusOK:
			s.OK++
		case StatusWarn:
			s.Warn++
		case StatusFail:
			s.Fail++
		case StatusSkip:
			s.Skip++
		case StatusTimeout:
			s.Timeout++
		case StatusCrashed:
			s.Crashed++
		}
	}
	s.Problems = s.Fail + s.Timeout + s.Crashed
	if s.Problems > 0 {
		s.ExitCode = 1
	}
	return s
}

// JSONCheck is one check in the --json document.
type JSONCheck struct {
	ID         string   `json:"id"`
	Group      string   `json:"group"`
	Status     Status   `json:"status"`
	Message    string   `json:"message"`
	Fix        string   `json:"fix"`
	Details    []string `json:"details,omitempty"`
	DurationMS float64  `json:"duration_ms"`
}

// JSONReport is the --json document.
type JSONReport struct {
	Checks  []JSONCheck `json:"checks"`
	Summary Summary     `json:"summary"`
}

// NewJSONReport builds the --json document.
func NewJSONReport(outcomes []Outcome) JSONReport {
	rep := JSONReport{Checks: []JSONCheck{}, Summary: Summarize(outcomes)}
	for _, o := range outcomes {
		rep.Checks = append(rep.Checks, JSONCheck{
			ID:         o.ID,
			Group:      o.Group,
			Status:     o.Result.Status,
			Message:    o.Result.Message,
			Fix:        o.Result.Fix,
			Details:    o.Result.Details,
			DurationMS: math.Round(float64(o.Result.Duration)/float64(time.Millisecond)*1000) / 1000,
		})
	}
	return rep
}

// WriteJSON writes the outcomes as one indented JSON document.
func WriteJSON(w io.Writer, outcomes []Outcome) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(NewJSONReport(outcomes))
}

// Mark returns the status mark for s: ✓, !, ✗ or -.
func Mark(cs *iostreams.ColorScheme, s Status) string {
	switch s {
	case StatusOK:
		return cs.SuccessIcon()
	case StatusWarn:
		return cs.WarningIcon()
	case StatusSkip:
		return cs.Gray("-")
	default:
		return cs.FailureIcon()
	}
}

// statusText is the message shown for an outcome; timeouts and crashes say so even when the message is empty.
func statusText(r Result) string {
	m := r.Message
	switch r.Status {
	case StatusTimeout:
		if m == "" {
			m = "did not answer in time"
		}
	case StatusCrashed:
		if m == "" {
			m = "crashed"
		}
	}
	return m
}

// StreamLine is the one line shown on a terminal when an outcome lands, cut to width columns.
func StreamLine(cs *iostreams.ColorScheme, o Outcome, width int) string {
	text := fmt.Sprintf("%s %s", o.ID, statusText(o.Result))
	if width > 4 {
		text = truncate(text, width-4)
	}
	return "  " + Mark(cs, o.Result.Status) + " " + text
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return string(r[:n])
	}
	return string(r[:n-1]) + "…"
}

// WriteText writes the report: the outcomes grouped in their given order, one line per check with its mark,
// the fix indented under each problem, and a last line counting problems. verbose adds details and durations.
func WriteText(w io.Writer, cs *iostreams.ColorScheme, outcomes []Outcome, verbose bool) {
	width := 0
	for _, o := range outcomes {
		width = max(width, len(o.ID))
	}
	indent := strings.Repeat(" ", 4+width+2)
	group := "\x00"
	for _, o := range outcomes {
		if o.Group != group {
			group = o.Group
			if group != "" {
				fmt.Fprintln(w, cs.Bold(group))
			}
		}
		r := o.Result
		line := fmt.Sprintf("  %s %-*s  %s", Mark(cs, r.Status), width, o.ID, oneLine(statusText(r)))
		if verbose {
			line += " " + cs.Gray("("+formatDuration(r.Duration)+")")
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
		if r.Fix != "" && r.Status != StatusOK && r.Status != StatusSkip {
			for i, l := range strings.Split(strings.TrimRight(r.Fix, "\n"), "\n") {
				prefix := "fix: "
				if i > 0 {
					prefix = "     "
				}
				fmt.Fprintln(w, indent+prefix+l)
			}
		}
		if verbose {
			for _, d := range r.Details {
				fmt.Fprintln(w, indent+cs.Gray("· "+d))
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, SummaryLine(cs, Summarize(outcomes)))
}

// SummaryLine is the report's last line.
func SummaryLine(cs *iostreams.ColorScheme, s Summary) string {
	var skipped string
	if s.Skip > 0 {
		skipped = fmt.Sprintf(", %d skipped", s.Skip)
	}
	switch {
	case s.Problems == 0 && s.Warn == 0:
		return fmt.Sprintf("%s No problems found (%s%s).", cs.SuccessIcon(), plural(s.Total, "check"), skipped)
	case s.Problems == 0:
		return fmt.Sprintf("%s No problems, %s (%s%s).", cs.WarningIcon(), plural(s.Warn, "warning"), plural(s.Total, "check"), skipped)
	default:
		var parts []string
		if s.Timeout > 0 {
			parts = append(parts, fmt.Sprintf("%d did not answer", s.Timeout))
		}
		if s.Crashed > 0 {
			parts = append(parts, fmt.Sprintf("%d crashed", s.Crashed))
		}
		extra := ""
		if len(parts) > 0 {
			extra = " (" + strings.Join(parts, ", ") + ")"
		}
		warn := ""
		if s.Warn > 0 {
			warn = " and " + plural(s.Warn, "warning")
		}
		return fmt.Sprintf("%s Found %s%s%s (%s%s).", cs.FailureIcon(), plural(s.Problems, "problem"), extra, warn,
			plural(s.Total, "check"), skipped)
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// WriteList writes the checks' ids with their group and description, for --list.
func WriteList(w io.Writer, checks []Check) {
	width := 0
	for _, c := range checks {
		width = max(width, len(c.ID()))
	}
	for _, c := range checks {
		fix := ""
		if _, ok := c.(Fixer); ok {
			if f, ok := c.(*Func); !ok || f.Apply != nil {
				fix = " (--fix can repair)"
			}
		}
		fmt.Fprintf(w, "%-*s  %-10s  %s%s\n", width, c.ID(), GroupOf(c), DescriptionOf(c), fix)
	}
}
