package schedule

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/templates"
)

// realCrontab reads the current user's crontab; has=false when there is none.
func realCrontab(t *testing.T) (table string, has bool) {
	t.Helper()
	out, err := exec.Command("crontab", "-l").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && strings.Contains(string(ee.Stderr), "no crontab for") {
			return "", false
		}
		t.Fatalf("crontab -l: %v", err)
	}
	return string(out), true
}

func setRealCrontab(t *testing.T, table string, has bool) {
	t.Helper()
	var cmd *exec.Cmd
	if !has {
		cmd = exec.Command("crontab", "-r")
	} else {
		cmd = exec.Command("crontab", "-")
		cmd.Stdin = strings.NewReader(table)
	}
	if out, err := cmd.CombinedOutput(); err != nil && !(!has && strings.Contains(string(out), "no crontab")) {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
}

// TestCronForReal installs and removes the schedule in this machine's real crontab (the user running the
// tests), with other lines around it, and restores the crontab exactly as it was afterwards.
func TestCronForReal(t *testing.T) {
	if _, err := exec.LookPath("crontab"); err != nil {
		t.Fatal("crontab is required for this test: apt-get install -y cron (Debian/Ubuntu) or dnf install cronie")
	}
	saved, had := realCrontab(t)
	t.Cleanup(func() {
		setRealCrontab(t, saved, had)
		if got, has := realCrontab(t); got != saved || has != had {
			t.Errorf("crontab not restored: had=%v has=%v\n--- saved\n%s\n--- now\n%s", had, has, saved, got)
		}
	})

	others := "# someone's own jobs, kept byte for byte\nMAILTO=\"\"\nSHELL=/bin/sh\n*/10 * * * * /usr/bin/true  # trailing  spaces  \n\t@daily\t/bin/echo '50% done' > /dev/null\n\n# end\n"
	setRealCrontab(t, others, true)
	if got, _ := realCrontab(t); got != others {
		t.Fatalf("this crontab does not round-trip through crontab -l:\n%q", got)
	}

	root := t.TempDir()
	project := filepath.Join(root, `Project "quoted" 100% & <x> zoë`)
	m := &Manager{Runner: &run.Exec{}, Clock: clock.NewFake(time.Date(2026, 11, 26, 6, 1, 0, 0, time.UTC))}
	spec := Spec{
		Kind: Cron,
		Params: templates.Params{
			Binary: "/usr/local/bin/voyce-auth", EnvFile: filepath.Join(project, ".env"), ProjectDir: project,
			DatabricksDir: "/opt/databricks cli/bin", GOOS: "linux",
		},
		HomeDir: root,
	}
	ctx := context.Background()

	rep, err := m.Install(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Changed {
		t.Error("first install reported no change")
	}
	table, _ := realCrontab(t)
	block, _ := templates.Render(templates.Cron, spec.Params)
	if table != others+string(block[0].Content) {
		t.Fatalf("crontab after install:\n%s", table)
	}

	rep, err = m.Install(ctx, spec)
	if err != nil || rep.Changed {
		t.Fatalf("second install: %+v %v", rep, err)
	}
	if slices.Contains(rep.Commands, "crontab -") {
		t.Errorf("second install rewrote the crontab: %q", rep.Commands)
	}
	if again, _ := realCrontab(t); again != table {
		t.Error("second install changed the crontab")
	}

	st, err := m.Status(ctx, Spec{Kind: Auto, Params: spec.Params, HomeDir: root})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Installed || st.Kind != Cron || !st.Enabled || !st.Matches || st.Interval != 5*time.Minute {
		t.Errorf("status: %+v", st)
	}
	if want := time.Date(2026, 11, 26, 6, 5, 0, 0, time.UTC); !st.NextRun.Equal(want) {
		t.Errorf("NextRun %v, want %v", st.NextRun, want)
	}

	rm, err := m.Remove(ctx, spec)
	if err != nil || !slices.Equal(rm.Kinds, []Kind{Cron}) {
		t.Fatalf("remove: %+v %v", rm, err)
	}
	if got, _ := realCrontab(t); got != others {
		t.Errorf("crontab after remove differs from before install:\n--- got\n%q\n--- want\n%q", got, others)
	}
	rm, err = m.Remove(ctx, spec)
	if err != nil || len(rm.Kinds) != 0 {
		t.Errorf("second remove: %+v %v", rm, err)
	}

	// From no crontab at all, install then remove leaves no crontab.
	setRealCrontab(t, "", false)
	if _, err := m.Install(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Remove(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if got, has := realCrontab(t); has {
		t.Errorf("an empty crontab was left behind: %q", got)
	}
}
