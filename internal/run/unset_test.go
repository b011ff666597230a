//go:build !windows

package run

import (
	"context"
	"strings"
	"testing"
)

func TestExecUnset(t *testing.T) {
	e := &Exec{Environ: []string{"PATH=/usr/bin:/bin", "SECRET_TOKEN=s3cret", "KEEP=1"}}
	res, err := e.Run(context.Background(), Cmd{Name: "env", Env: []string{"ADDED=2"}, Unset: []string{"SECRET_TOKEN"}})
	if err != nil {
		t.Fatal(err)
	}
	out := string(res.Stdout)
	if strings.Contains(out, "SECRET_TOKEN") || !strings.Contains(out, "KEEP=1") || !strings.Contains(out, "ADDED=2") {
		t.Errorf("environment:\n%s", out)
	}
}
