package rotate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/internal/clock"
	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/run"
	"github.com/voyce/voyce-auth/internal/testutil/binary"
	"github.com/voyce/voyce-auth/internal/testutil/fakedatabricks"
)

var t0 = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

type fixture struct {
	env     *fakedatabricks.Env
	envFile string
	token   string
	before  []byte
}

func setup(t testing.TB, now time.Time, left time.Duration) *fixture {
	t.Helper()
	f := &fixture{env: fakedatabricks.Start(t)}
	f.envFile = filepath.Join(t.TempDir(), ".env")
	f.token = f.env.MintToken(fakedatabricks.DefaultUser, now.Add(left-time.Hour), time.Hour)
	f.before = []byte("# Voyce\nDATABRICKS_HOST=" + f.env.Host + "\nDATABRICKS_OAUTH_TOKEN=" + f.token +
		"\nDATABRICKS_CONFIG_PROFILE=DEFAULT\nPOSTGRES_PASSWORD=${PGPASSWORD}\n")
	if err := os.WriteFile(f.envFile, f.before, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) run(t *testing.T, mod func(o *Options)) (string, string, error) {
	t.Helper()
	f.env.Update(func(s *fakedatabricks.State) { s.Now = t0 })
	ios, _, out, errOut := iostreams.Test()
	o := &Options{IO: ios, Runner: &run.Exec{Environ: f.env.Environ()}, Clock: clock.NewFake(t0), GOOS: "linux",
		EnvFile: f.envFile, Threshold: 15 * time.Minute,
		Sleep: func(context.Context, time.Duration) error { return nil }}
	if mod != nil {
		mod(o)
	}
	err := Run(o)
	f.noSecrets(t, out.String(), errOut.String())
	return out.String(), errOut.String(), err
}

// noSecrets asserts that no token is in the output or the log.
func (f *fixture) noSecrets(t testing.TB, texts ...string) {
	t.Helper()
	log, _ := os.ReadFile(filepath.Join(filepath.Dir(f.envFile), "logs", "oauth-rotation.log"))
	texts = append(texts, string(log))
	cur, _ := os.ReadFile(f.envFile)
	secrets := []string{f.token, f.env.State().CachedToken}
	for _, l := range strings.Split(string(cur), "\n") {
		if v, ok := strings.CutPrefix(l, "DATABRICKS_OAUTH_TOKEN="); ok {
			secrets = append(secrets, v)
		}
	}
	for _, s := range secrets {
		if len(s) < 20 {
			continue
		}
		sig := s[strings.LastIndexByte(s, '.')+1:]
		for _, txt := range texts {
			if strings.Contains(txt, s) || strings.Contains(txt, sig) {
				t.Fatalf("a token (%d bytes) appears in the output or log", len(s))
			}
		}
	}
}

func TestRotateText(t *testing.T) {
	f := setup(t, t0, 9*time.Minute)
	out, errOut, err := f.run(t, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	for _, want := range []string{
		"Token before: valid for 9 minutes more (until 07:09 UTC), dev.user@example.com\n",
		"Asked:        databricks auth token --host " + f.env.Host + " --profile DEFAULT\n",
		"✓ Rotated: the new token is valid for 1 hour (until 08:00 UTC).\n",
		"  Written: DATABRICKS_OAUTH_TOKEN in " + f.envFile + "\n",
		"  Log: " + filepath.Join(filepath.Dir(f.envFile), "logs", "oauth-rotation.log") + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	out, _, err = f.run(t, nil)
	if err != nil || !strings.HasPrefix(out, "✓ Token valid for 1 hour more (until 08:00 UTC), dev.user@example.com: nothing to do (threshold 15 minutes).") {
		t.Errorf("second run: %v\n%s", err, out)
	}
}

func TestRotateFailureText(t *testing.T) {
	f := setup(t, t0, 2*time.Minute)
	f.env.Update(func(s *fakedatabricks.State) { s.RefreshRejected = true })
	_, errOut, err := f.run(t, nil)
	if !errors.Is(err, cmdutil.ErrSilent) {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{
		"✗ Rotation failed: the workspace rejected the CLI's refresh token",
		"  Fix: databricks auth login --host " + f.env.Host + " --profile DEFAULT\n",
		"  " + f.envFile + " was not changed.\n",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("missing %q in:\n%s", want, errOut)
		}
	}
	if b, _ := os.ReadFile(f.envFile); !bytes.Equal(b, f.before) {
		t.Error(".env changed")
	}
}

func TestRotateJSONAndDryRun(t *testing.T) {
	f := setup(t, t0, 2*time.Minute)
	out, _, err := f.run(t, func(o *Options) { o.JSON = true; o.DryRun = true })
	var r map[string]any
	if err != nil || json.Unmarshal([]byte(out), &r) != nil || r["outcome"] != "dry-run" || r["ok"] != true {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(f.env.Calls()) != 0 {
		t.Error("dry run ran the CLI")
	}
	out, _, err = f.run(t, func(o *Options) { o.JSON = true })
	json.Unmarshal([]byte(out), &r)
	after, _ := r["after"].(map[string]any)
	if err != nil || r["outcome"] != "rotated" || after["expires_in_minutes"] != 60.0 {
		t.Errorf("%v\n%s", err, out)
	}
	f.env.LogOut()
	out, _, err = f.run(t, func(o *Options) { o.JSON = true; o.Force = true })
	json.Unmarshal([]byte(out), &r)
	if err == nil || r["outcome"] != "failed" || r["ok"] != false || !strings.Contains(r["fix"].(string), "databricks auth login") {
		t.Errorf("%v\n%s", err, out)
	}
}

func TestThresholdFlag(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IO: ios}
	for _, bad := range []string{"0s", "-5m", "48h"} {
		c := NewCmd(f)
		if _, err := cmdutil.ParseFlags(c.Flags, "rotate", []string{"--threshold", bad}); err != nil {
			t.Fatal(err)
		}
		err := c.Run(nil)
		if cmdutil.ExitCode(err) != 2 || !strings.Contains(err.Error(), "--threshold") {
			t.Errorf("--threshold %s: %v", bad, err)
		}
	}
	c := NewCmd(f)
	if _, err := cmdutil.ParseFlags(c.Flags, "rotate", []string{"--threshold", "soon"}); cmdutil.ExitCode(err) != 2 {
		t.Errorf("--threshold soon: %v", err)
	}
}

// Whole-process tests ------------------------------------------------------------------------------------

func TestMain(m *testing.M) {
	code := m.Run()
	binary.Cleanup()
	os.Exit(code)
}

// voyceAuth is the voyce-auth binary, built once per test binary.
func voyceAuth(t testing.TB) string { return binary.VoyceAuth(t) }

func TestConcurrentRotateProcesses(t *testing.T) {
	bin := voyceAuth(t)
	f := setup(t, time.Now(), 4*time.Minute)
	type result struct {
		out  string
		code int
	}
	results := make([]result, 2)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "rotate", "--env-file", f.envFile)
			cmd.Env = f.env.Environ()
			out, err := cmd.CombinedOutput()
			results[i].out = string(out)
			if ee, ok := err.(*exec.ExitError); ok {
				results[i].code = ee.ExitCode()
			} else if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("process %d: exit %d\n%s", i, r.code, r.out)
		}
		f.noSecrets(t, r.out)
	}
	if n := f.env.CallCount("auth", "token"); n != 1 {
		t.Errorf("auth token ran %d times", n)
	}
	got, _ := os.ReadFile(f.envFile)
	want := bytes.Replace(f.before, []byte(f.token), []byte(f.env.State().CachedToken), 1)
	if !bytes.Equal(got, want) {
		t.Errorf(".env is not the old file with the new token (%d bytes, want %d)", len(got), len(want))
	}
}

func TestNoopProcessStartsNoCLI(t *testing.T) {
	bin := voyceAuth(t)
	f := setup(t, time.Now(), 50*time.Minute)
	cmd := exec.Command(bin, "rotate", "--env-file", f.envFile)
	cmd.Env = f.env.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "nothing to do") {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(f.env.Calls()) != 0 {
		t.Errorf("the no-op run started the CLI: %v", f.env.Calls())
	}
}

// BenchmarkRotateNoop measures the path the timer takes five times out of six: a whole `voyce-auth rotate`
// process against a .env whose token is fresh.
func BenchmarkRotateNoop(b *testing.B) {
	bin := voyceAuth(b)
	f := setup(b, time.Now(), 59*time.Minute)
	env := f.env.Environ()
	for b.Loop() {
		cmd := exec.Command(bin, "rotate", "--env-file", f.envFile)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
	}
	b.StopTimer()
	if len(f.env.Calls()) != 0 {
		b.Fatal("the no-op path ran the CLI")
	}
}
