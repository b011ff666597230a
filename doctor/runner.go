package doctor

import (
	"context"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/voyce/voyce-auth/internal/clock"
)

// DefaultTimeout is the time limit for a whole run.
const DefaultTimeout = 5 * time.Second

// Outcome is one check's result, with what the report needs to show it.
type Outcome struct {
	ID     string
	Group  string
	Result Result
}

// Options tune Run.
type Options struct {
	// Timeout is the hard limit for the whole run; 0 means DefaultTimeout. Checks see a context that ends a
	// little earlier, so that a check that honours it can still say what it was waiting for.
	Timeout time.Duration
	// Clock measures durations; nil means the system clock.
	Clock clock.Clock
	// OnResult, when set, is called with each outcome as it lands (from one goroutine, one at a time).
	OnResult func(Outcome)
}

// softDeadline is how long before the hard limit the checks' context ends.
func softDeadline(timeout time.Duration) time.Duration {
	margin := timeout / 10
	if margin > 500*time.Millisecond {
		margin = 500 * time.Millisecond
	}
	return timeout - margin
}

// Run runs the checks concurrently and returns their outcomes in the order of checks. It returns by the
// deadline even when a check hangs (that check's goroutine is abandoned).
func Run(ctx context.Context, checks []Check, opts Options) []Outcome {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.System{}
	}
	start := clk.Now()
	checkCtx, cancel := context.WithTimeout(ctx, softDeadline(timeout))
	defer cancel()
	hard := time.NewTimer(timeout)
	defer hard.Stop()

	index := map[string]int{}
	for i, c := range checks {
		index[c.ID()] = i
	}
	type landed struct {
		i int
		r Result
	}
	// Buffered so that an abandoned check can still deliver and exit.
	results := make(chan landed, len(checks))
	done := make([]chan struct{}, len(checks))
	final := make([]Result, len(checks)) // written by each check's goroutine before it closes done[i]
	for i := range checks {
		done[i] = make(chan struct{})
	}
	// started[i] is closed when check i starts running (its dependencies have passed).
	started := make([]chan struct{}, len(checks))
	for i := range checks {
		started[i] = make(chan struct{})
	}

	for i, c := range checks {
		go func() {
			var r Result
			defer func() {
				final[i] = r
				close(done[i])
				results <- landed{i, r}
			}()
			for _, dep := range needsOf(c) {
				j, ok := index[dep]
				if !ok {
					continue // not part of this run: do not wait for it
				}
				select {
				case <-done[j]:
				case <-checkCtx.Done():
					r = Skip("not run: %s did not finish in time", dep)
					return
				}
				if st := final[j].Status; !st.Passed() {
					r = Skip("skipped: needs %s, which %s", dep, statusVerb(st))
					if st == StatusSkip && strings.HasPrefix(final[j].Message, "skipped: needs ") {
						r.Message = final[j].Message // name the check that failed, not the chain
					}
					return
				}
			}
			close(started[i])
			t0 := clk.Now()
			r = runOne(checkCtx, c)
			r.Duration = clk.Now().Sub(t0)
		}()
	}

	out := make([]Outcome, len(checks))
	have := make([]bool, len(checks))
	n := 0
	emit := func(i int, r Result) {
		if have[i] {
			return
		}
		have[i] = true
		n++
		out[i] = Outcome{ID: checks[i].ID(), Group: GroupOf(checks[i]), Result: r}
		if opts.OnResult != nil {
			opts.OnResult(out[i])
		}
	}
	for n < len(checks) {
		select {
		case l := <-results:
			emit(l.i, l.r)
		case <-hard.C:
			// Take whatever has landed meanwhile, then give up on the rest.
			for drained := false; !drained; {
				select {
				case l := <-results:
					emit(l.i, l.r)
				default:
					drained = true
				}
			}
			var pending []int
			for i := range checks {
				if !have[i] {
					pending = append(pending, i)
				}
			}
			sort.Ints(pending)
			for _, i := range pending {
				emit(i, abandoned(checks[i], started[i], index, have, timeout, clk.Now().Sub(start)))
			}
		}
	}
	return out
}

// abandoned is the result of a check still unfinished at the hard deadline.
func abandoned(c Check, started chan struct{}, index map[string]int, have []bool, timeout, elapsed time.Duration) Result {
	select {
	case <-started:
		return Result{Status: StatusTimeout, Message: fmt.Sprintf("did not answer in %s", roundDuration(timeout)),
			Duration: elapsed}
	default:
	}
	var waiting []string
	for _, dep := range needsOf(c) {
		if j, ok := index[dep]; ok && !have[j] {
			waiting = append(waiting, dep)
		}
	}
	if len(waiting) == 0 {
		waiting = needsOf(c)
	}
	return Skip("not run: %s did not finish in time", strings.Join(waiting, ", "))
}

// runOne runs c, turning a panic into a crashed result.
func runOne(ctx context.Context, c Check) (r Result) {
	defer func() {
		if p := recover(); p != nil {
			r = Result{
				Status:  StatusCrashed,
				Message: fmt.Sprintf("crashed: %v", p),
				Fix:     "this is a bug in voyce-auth; please report it with the output of 'voyce-auth doctor -v'",
				Details: stackLines(),
			}
		}
	}()
	r = c.Run(ctx)
	switch r.Status {
	case StatusOK, StatusWarn, StatusFail, StatusSkip, StatusTimeout, StatusCrashed:
	default:
		r.Status = StatusCrashed
		r.Message = strings.TrimSpace("returned no status: " + r.Message)
	}
	return r
}

func stackLines() []string {
	lines := strings.Split(strings.TrimSpace(string(debug.Stack())), "\n")
	if len(lines) > 20 {
		lines = lines[:20]
	}
	return lines
}

func statusVerb(s Status) string {
	switch s {
	case StatusFail:
		return "failed"
	case StatusTimeout:
		return "did not answer in time"
	case StatusCrashed:
		return "crashed"
	case StatusSkip:
		return "was skipped"
	}
	return string(s)
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Second && d%time.Second == 0:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d >= time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		return d.Round(time.Millisecond).String()
	}
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// Select returns the checks to run: only the ids in only (all when empty) plus whatever they need, minus the
// ids in skip. An unknown id is an error naming the known ones.
func Select(all []Check, only, skip []string) ([]Check, error) {
	byID := map[string]Check{}
	var ids []string
	for _, c := range all {
		byID[c.ID()] = c
		ids = append(ids, c.ID())
	}
	for _, list := range [][]string{only, skip} {
		for _, id := range list {
			if _, ok := byID[id]; !ok {
				return nil, fmt.Errorf("unknown check %q; checks are: %s", id, strings.Join(ids, ", "))
			}
		}
	}
	want := map[string]bool{}
	if len(only) == 0 {
		for _, id := range ids {
			want[id] = true
		}
	} else {
		var add func(id string)
		add = func(id string) {
			if want[id] {
				return
			}
			want[id] = true
			if c, ok := byID[id]; ok {
				for _, d := range needsOf(c) {
					add(d)
				}
			}
		}
		for _, id := range only {
			add(id)
		}
	}
	for _, id := range skip {
		delete(want, id)
	}
	var out []Check
	for _, c := range all {
		if want[c.ID()] {
			out = append(out, c)
		}
	}
	return out, nil
}

// Failed reports whether any outcome fails the run.
func Failed(outcomes []Outcome) bool {
	for _, o := range outcomes {
		if o.Result.Status.Failed() {
			return true
		}
	}
	return false
}
