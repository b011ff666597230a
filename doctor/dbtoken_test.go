package doctor

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/testutil/fakedatabricks"
)

func TestCheckToken(t *testing.T) {
	env := fakedatabricks.Start(t)
	now := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	user := fakedatabricks.DefaultUser
	valid := env.MintToken(user, now.Add(-5*time.Minute), time.Hour)
	for _, tc := range []struct {
		name, raw, host string
		status          Status
		msg, fix        string
	}{
		{"valid", valid, env.Host, StatusOK, "valid for 55 minutes more, for " + user, ""},
		{"expiring", env.MintToken(user, now.Add(-50*time.Minute), time.Hour), env.Host, StatusWarn,
			"the token expires in 10 minutes (at 07:10 UTC)", "voyce-auth rotate"},
		{"expired", env.MintToken(user, now.Add(-3*time.Hour), time.Hour), env.Host, StatusFail,
			"The token expired 2 hours ago", "voyce-auth rotate --force\nthen keep it fresh: voyce-auth schedule install"},
		{"missing", "", env.Host, StatusFail, "DATABRICKS_OAUTH_TOKEN is not set in .env", "voyce-auth rotate --force"},
		{"malformed", "abc.def", env.Host, StatusFail, "not a well-formed JWT", "voyce-auth rotate --force"},
		{"other workspace", valid, "https://dbc-other.cloud.databricks.com", StatusFail, "not by the workspace in DATABRICKS_HOST",
			"Check DATABRICKS_HOST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := checkToken(tc.raw, tc.host, now)
			if r.Status != tc.status || !strings.Contains(r.Message, tc.msg) || !strings.HasPrefix(r.Fix, tc.fix) {
				t.Errorf("got %s %q fix %q; want %s %q fix %q", r.Status, r.Message, r.Fix, tc.status, tc.msg, tc.fix)
			}
			assertNoSecret(t, r, tc.raw)
		})
	}
}

func TestCheckClockSkew(t *testing.T) {
	env := fakedatabricks.Start(t)
	d := &Deps{HTTP: &http.Client{Timeout: 5 * time.Second}, GOOS: "linux"}
	ctx := withTimeout(t, 5*time.Second)
	if r := d.checkClockSkew(ctx, env.Host); r.Status != StatusOK || r.Message != "the local clock agrees with the workspace's" {
		t.Errorf("in sync: %+v", r)
	}
	env.Update(func(s *fakedatabricks.State) { s.ServerSkew = 5 * time.Minute })
	r := d.checkClockSkew(ctx, env.Host)
	if r.Status != StatusWarn || !strings.HasPrefix(r.Message, "the local clock is about 5 minutes behind the workspace's") ||
		!strings.Contains(r.Fix, "timedatectl set-ntp true") {
		t.Errorf("skewed: %+v", r)
	}
	env.Update(func(s *fakedatabricks.State) { s.ServerSkew = -90 * time.Second })
	if r := d.checkClockSkew(ctx, env.Host); r.Status != StatusOK || !strings.Contains(r.Message, "ahead of") {
		t.Errorf("small skew: %+v", r)
	}
	// An injected clock is what the check compares with.
	env.Update(func(s *fakedatabricks.State) {
		s.ServerSkew = 0
		s.ServerNow = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	})
	d.Clock = clock.NewFake(time.Date(2026, 11, 26, 7, 3, 0, 0, time.UTC))
	if r := d.checkClockSkew(ctx, env.Host); r.Status != StatusWarn || !strings.Contains(r.Message, "about 3 minutes ahead of") {
		t.Errorf("fake clock: %+v", r)
	}
	d.Clock = nil
	dead := fmt.Sprintf("http://127.0.0.1:%d", closedPort(t))
	if r := d.checkClockSkew(context.Background(), dead); r.Status != StatusWarn || !strings.Contains(r.Message, "could not reach") {
		t.Errorf("unreachable: %+v", r)
	}
}
