package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/iostreams"
)

func fake(id string, needs []string, do func(ctx context.Context) Result) *Func {
	return &Func{Name: id, Area: "Test", About: "a fake check", Deps: needs, Do: do}
}

func ok(id string) *Func {
	return fake(id, nil, func(context.Context) Result { return OK("fine") })
}

func byID(outcomes []Outcome) map[string]Result {
	m := map[string]Result{}
	for _, o := range outcomes {
		m[o.ID] = o.Result
	}
	return m
}

func TestRunHangingCheckTimesOutOthersFinish(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	checks := []Check{
		ok("a"),
		fake("hangs", nil, func(context.Context) Result { <-block; return OK("never") }), // ignores ctx
		fake("honours-ctx", nil, func(ctx context.Context) Result {
			<-ctx.Done()
			return Fail("check the network", "server did not answer")
		}),
		fake("after-hang", []string{"hangs"}, func(context.Context) Result { return OK("ran") }),
	}
	start := time.Now()
	out := Run(context.Background(), checks, Options{Timeout: 300 * time.Millisecond})
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("Run took %v with a 300ms limit: it waited for a hanging check", elapsed)
	}
	got := byID(out)
	if got["a"].Status != StatusOK {
		t.Errorf("a = %+v, want ok", got["a"])
	}
	if r := got["hangs"]; r.Status != StatusTimeout || !strings.Contains(r.Message, "did not answer in 300ms") {
		t.Errorf("hangs = %+v, want timeout saying 'did not answer in 300ms'", r)
	}
	// A check that honours its context says what it was waiting for, before the hard limit.
	if r := got["honours-ctx"]; r.Status != StatusFail || r.Message != "server did not answer" {
		t.Errorf("honours-ctx = %+v, want its own failure", r)
	}
	if r := got["after-hang"]; r.Status != StatusSkip || !strings.Contains(r.Message, "hangs") {
		t.Errorf("after-hang = %+v, want skipped naming hangs", r)
	}
	// Order is the checks' order, whatever order they finished in.
	for i, want := range []string{"a", "hangs", "honours-ctx", "after-hang"} {
		if out[i].ID != want {
			t.Errorf("out[%d] = %s, want %s", i, out[i].ID, want)
		}
	}
	if !Failed(out) {
		t.Error("Failed = false with a timed-out check")
	}
}

func TestRunPanicIsCrashedOthersStillRun(t *testing.T) {
	checks := []Check{
		fake("boom", nil, func(context.Context) Result { panic("nil map") }),
		ok("fine"),
		fake("needs-boom", []string{"boom"}, func(context.Context) Result { return OK("ran") }),
	}
	got := byID(Run(context.Background(), checks, Options{Timeout: time.Second}))
	if r := got["boom"]; r.Status != StatusCrashed || !strings.Contains(r.Message, "nil map") || len(r.Details) == 0 {
		t.Errorf("boom = %+v, want crashed with the panic value and a stack in details", r)
	}
	if got["fine"].Status != StatusOK {
		t.Errorf("fine = %+v", got["fine"])
	}
	if r := got["needs-boom"]; r.Status != StatusSkip || !strings.Contains(r.Message, "needs boom, which crashed") {
		t.Errorf("needs-boom = %+v", r)
	}
}

func TestRunDependencies(t *testing.T) {
	var aDone atomic.Bool
	releaseA := make(chan struct{})
	var independentRan sync.WaitGroup
	independentRan.Add(1)
	checks := []Check{
		fake("a", nil, func(context.Context) Result {
			<-releaseA
			aDone.Store(true)
			return Warn("do x", "a warns")
		}),
		fake("b", []string{"a"}, func(context.Context) Result {
			if !aDone.Load() {
				return Fail("", "b ran before a finished")
			}
			return OK("b after a")
		}),
		fake("c", []string{"d"}, func(context.Context) Result { return OK("c should not run") }),
		fake("d", nil, func(context.Context) Result { return Fail("fix d", "d fails") }),
		// independent must run while a is still blocked: it releases a.
		fake("independent", nil, func(context.Context) Result {
			close(releaseA)
			return OK("did not wait for a")
		}),
		fake("missing-dep", []string{"not-in-run"}, func(context.Context) Result { return OK("ran") }),
		fake("e", []string{"c"}, func(context.Context) Result { return OK("e should not run") }),
	}
	got := byID(Run(context.Background(), checks, Options{Timeout: 2 * time.Second}))
	want := map[string]Status{"a": StatusWarn, "b": StatusOK, "c": StatusSkip, "d": StatusFail,
		"independent": StatusOK, "missing-dep": StatusOK}
	for id, st := range want {
		if got[id].Status != st {
			t.Errorf("%s = %+v, want %s", id, got[id], st)
		}
	}
	if !strings.Contains(got["c"].Message, "needs d, which failed") {
		t.Errorf("c message = %q", got["c"].Message)
	}
	// A chain of skips names the check that failed.
	if got["e"].Status != StatusSkip || got["e"].Message != "skipped: needs d, which failed" {
		t.Errorf("e = %+v", got["e"])
	}
}

func TestRunStreamsAndMeasuresWithClock(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC))
	checks := []Check{
		fake("slow", nil, func(context.Context) Result { clk.Advance(1500 * time.Millisecond); return OK("slow") }),
	}
	var streamed []string
	out := Run(context.Background(), checks, Options{Clock: clk, OnResult: func(o Outcome) {
		streamed = append(streamed, o.ID)
	}})
	if len(streamed) != 1 || streamed[0] != "slow" {
		t.Errorf("streamed = %v", streamed)
	}
	if out[0].Result.Duration != 1500*time.Millisecond {
		t.Errorf("duration = %v, want 1.5s from the injected clock", out[0].Result.Duration)
	}
}

func TestRunNoStatusIsCrashed(t *testing.T) {
	out := Run(context.Background(), []Check{fake("empty", nil, func(context.Context) Result { return Result{} })},
		Options{})
	if out[0].Result.Status != StatusCrashed {
		t.Errorf("got %+v", out[0].Result)
	}
}

func TestSelect(t *testing.T) {
	all := []Check{ok("env-file"), fake("pg-login", []string{"env-file"}, nil), ok("oauth-token")}
	ids := func(cs []Check) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.ID())
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		only, skip []string
		want       string
	}{
		{nil, nil, "env-file,pg-login,oauth-token"},
		{[]string{"pg-login"}, nil, "env-file,pg-login"}, // brings what it needs
		{[]string{"oauth-token"}, nil, "oauth-token"},
		{nil, []string{"env-file"}, "pg-login,oauth-token"},
	} {
		got, err := Select(all, tc.only, tc.skip)
		if err != nil || ids(got) != tc.want {
			t.Errorf("Select(%v, %v) = %s, %v; want %s", tc.only, tc.skip, ids(got), err, tc.want)
		}
	}
	if _, err := Select(all, []string{"nope"}, nil); err == nil || !strings.Contains(err.Error(), `unknown check "nope"`) ||
		!strings.Contains(err.Error(), "env-file, pg-login, oauth-token") {
		t.Errorf("unknown id error = %v", err)
	}
}

func sampleOutcomes() []Outcome {
	return []Outcome{
		{ID: "env-file", Group: "PostgreSQL", Result: Result{Status: StatusOK, Message: "fine", Duration: 2 * time.Millisecond}},
		{ID: "pg-login", Group: "PostgreSQL", Result: Result{Status: StatusFail, Message: "wrong password",
			Fix: "voyce-auth password", Details: []string{"SQLSTATE 28P01"}}},
		{ID: "oauth-token", Group: "Databricks", Result: Result{Status: StatusWarn, Message: "expires in 10 minutes",
			Fix: "voyce-auth rotate"}},
		{ID: "clock-skew", Group: "Databricks", Result: Result{Status: StatusTimeout, Message: "did not answer in 5s"}},
		{ID: "oauth-token-api", Group: "Databricks", Result: Result{Status: StatusSkip, Message: "skipped"}},
	}
}

func TestWriteJSONSchema(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sampleOutcomes()); err != nil {
		t.Fatal(err)
	}
	// Strictly typed decode: unknown fields are an error, so the schema is exactly this.
	var doc struct {
		Checks []struct {
			ID         *string  `json:"id"`
			Group      *string  `json:"group"`
			Status     *string  `json:"status"`
			Message    *string  `json:"message"`
			Fix        *string  `json:"fix"`
			Details    []string `json:"details"`
			DurationMS *float64 `json:"duration_ms"`
		} `json:"checks"`
		Summary *struct {
			Total, OK, Warn, Fail, Skip, Timeout, Crashed, Problems *int
			ExitCode                                                *int `json:"exit_code"`
		} `json:"summary"`
	}
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decode: %v\n%s", err, buf.String())
	}
	if dec.More() {
		t.Fatal("more than one JSON document")
	}
	if len(doc.Checks) != 5 || doc.Summary == nil {
		t.Fatalf("doc = %s", buf.String())
	}
	valid := map[string]bool{"ok": true, "warn": true, "fail": true, "skip": true, "timeout": true, "crashed": true}
	for _, c := range doc.Checks {
		if c.ID == nil || c.Status == nil || c.Message == nil || c.Fix == nil || c.DurationMS == nil || c.Group == nil {
			t.Errorf("check missing a required field: %+v", c)
			continue
		}
		if !valid[*c.Status] {
			t.Errorf("%s: status %q", *c.ID, *c.Status)
		}
	}
	if *doc.Checks[0].DurationMS != 2 {
		t.Errorf("duration_ms = %v", *doc.Checks[0].DurationMS)
	}
	s := doc.Summary
	if *s.Total != 5 || *s.OK != 1 || *s.Fail != 1 || *s.Warn != 1 || *s.Timeout != 1 || *s.Skip != 1 ||
		*s.Problems != 2 || *s.ExitCode != 1 {
		t.Errorf("summary = %s", buf.String())
	}
}

func TestWriteText(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	cs := ios.ColorScheme()
	var buf bytes.Buffer
	WriteText(&buf, cs, sampleOutcomes(), false)
	want := `PostgreSQL
  ✓ env-file         fine
  ✗ pg-login         wrong password
                     fix: voyce-auth password
Databricks
  ! oauth-token      expires in 10 minutes
                     fix: voyce-auth rotate
  ✗ clock-skew       did not answer in 5s
  - oauth-token-api  skipped

✗ Found 2 problems (1 did not answer) and 1 warning (5 checks, 1 skipped).
`
	if buf.String() != want {
		t.Errorf("text report:\n%s\nwant:\n%s", buf.String(), want)
	}
	buf.Reset()
	WriteText(&buf, cs, sampleOutcomes(), true)
	for _, s := range []string{"fine (2ms)", "· SQLSTATE 28P01"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("verbose report lacks %q:\n%s", s, buf.String())
		}
	}
}

func TestSummaryLine(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	cs := ios.ColorScheme()
	for _, tc := range []struct {
		s    Summary
		want string
	}{
		{Summary{Total: 3, OK: 3}, "✓ No problems found (3 checks)."},
		{Summary{Total: 3, OK: 2, Warn: 1}, "! No problems, 1 warning (3 checks)."},
		{Summary{Total: 4, OK: 1, Fail: 1, Skip: 2, Problems: 1}, "✗ Found 1 problem (4 checks, 2 skipped)."},
	} {
		if got := SummaryLine(cs, tc.s); got != tc.want {
			t.Errorf("SummaryLine(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestFixes(t *testing.T) {
	fixed := false
	fixable := &Func{Name: "mode", Do: func(context.Context) Result {
		if fixed {
			return OK("0600")
		}
		return Fail("chmod 600 f", "mode 0644")
	},
		Plan:  func(r Result) string { return "chmod 600 f (now 644)" },
		Apply: func(context.Context, Result) error { fixed = true; return nil }}
	notFixable := fake("other", nil, func(context.Context) Result { return Fail("do it by hand", "broken") })
	checks := []Check{fixable, notFixable}
	out := Run(context.Background(), checks, Options{})
	plans := PlanFixes(checks, out)
	if len(plans) != 1 || plans[0].Change != "chmod 600 f (now 644)" {
		t.Fatalf("plans = %+v", plans)
	}
	res := ApplyFixes(context.Background(), plans, Options{})
	if len(res) != 1 || res[0].Err != nil || res[0].After.Result.Status != StatusOK {
		t.Fatalf("fix results = %+v", res)
	}
	out = Replace(out, []Outcome{res[0].After})
	if byID(out)["mode"].Status != StatusOK || byID(out)["other"].Status != StatusFail {
		t.Errorf("after replace = %+v", out)
	}
}

func TestQuickChecks(t *testing.T) {
	d := &Deps{}
	var ids []string
	for _, c := range QuickChecks(d) {
		ids = append(ids, c.ID())
	}
	got := strings.Join(ids, ",")
	for _, id := range QuickIDs {
		if !strings.Contains(","+got+",", ","+id+",") {
			t.Errorf("quick checks %s lack %s", got, id)
		}
	}
	// pg-login brings what it needs.
	if !strings.Contains(got, "pg-tcp") {
		t.Errorf("quick checks lack pg-tcp: %s", got)
	}
}

// The ids are a public interface (--only, --skip, --json consumers): exactly those of issue 7, in this order.
func TestCheckIDsAreStable(t *testing.T) {
	want := []string{"env-file", "pgpass-file", "pg-password-source", "pg-dns", "pg-tcp", "pg-login", "database-url",
		"databricks-cli", "databricks-login", "oauth-token", "oauth-token-api", "clock-skew",
		"rotation-schedule", "rotation-log",
		"secrets-ignored", "secrets-tracked", "env-file-mode", "hardcoded-password"}
	var got []string
	for _, c := range All(&Deps{}) {
		got = append(got, c.ID())
		if DescriptionOf(c) == "" || GroupOf(c) == "" {
			t.Errorf("%s has no description or group", c.ID())
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ids:\n%v\nwant:\n%v", got, want)
	}
}
