package run

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestExecCapturesOutputAndExitCode(t *testing.T) {
	r := &Exec{}
	res, err := r.Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "echo out; echo err >&2; exit 3"}})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.ExitCode != 3 {
		t.Fatalf("want *ExitError with code 3, got %v", err)
	}
	if string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" || res.ExitCode != 3 {
		t.Errorf("unexpected result %+v", res)
	}
	if !strings.Contains(err.Error(), "err") {
		t.Errorf("error should carry the first stderr line: %v", err)
	}
}

func TestExecStdinAndEnv(t *testing.T) {
	r := &Exec{}
	res, err := r.Run(context.Background(), Cmd{
		Name:  "sh",
		Args:  []string{"-c", `read line; echo "$line-$VOYCE_TEST_VAR"`},
		Stdin: strings.NewReader("secret\n"),
		Env:   []string{"VOYCE_TEST_VAR=x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Stdout); got != "secret-x\n" {
		t.Errorf("got %q", got)
	}
}

func TestExecTimeoutKillsProcessGroup(t *testing.T) {
	r := &Exec{}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		// The child sleeps too, holding stdout open: without a group kill Run would wait for it.
		_, err := r.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", "sleep 30 & sleep 30"}})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("want a deadline error, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestExecNotFound(t *testing.T) {
	r := &Exec{Environ: []string{"PATH=/nonexistent"}}
	_, err := r.Run(context.Background(), Cmd{Name: "databricks"})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("want ErrNotFound, got %v", err)
	}
}

func TestCmdStringQuotes(t *testing.T) {
	c := Cmd{Name: "databricks", Args: []string{"auth", "login", "--host", "https://x.cloud.databricks.com", "--profile", "my profile"}}
	if got, want := c.String(), "databricks auth login --host https://x.cloud.databricks.com --profile 'my profile'"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFake(t *testing.T) {
	f := &Fake{}
	f.HandleOutput("databricks", "Databricks CLI v0.240.0\n", "", 0)
	res, err := f.Run(context.Background(), Cmd{Name: "/usr/bin/databricks", Args: []string{"--version"}})
	if err != nil || string(res.Stdout) != "Databricks CLI v0.240.0\n" {
		t.Fatalf("got %q, %v", res.Stdout, err)
	}
	if _, err := f.Run(context.Background(), Cmd{Name: "systemctl"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unhandled program should look missing, got %v", err)
	}
	if got := f.CallStrings(); len(got) != 2 || got[0] != "/usr/bin/databricks --version" {
		t.Errorf("calls %q", got)
	}
}
