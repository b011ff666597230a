package safefile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestWriteCreatesFileAndFolder0600(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "postgresql")
	p := filepath.Join(dir, "pgpass.conf")
	res, err := Write(p, []byte("x\n"), Options{Backup: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || !res.Changed || res.BackupPath != "" || res.TightenedFrom != 0 || res.Path != p {
		t.Fatalf("result = %+v", res)
	}
	if got := mode(t, p); got != 0o600 {
		t.Fatalf("file mode %o, want 600", got)
	}
	if got := mode(t, dir); got != 0o700 {
		t.Fatalf("folder mode %o, want 700", got)
	}
	if got := mode(t, filepath.Dir(dir)); got != 0o700 {
		t.Fatalf("parent folder mode %o, want 700", got)
	}
}

func TestUpdateUnchangedWritesNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".env")
	if err := os.WriteFile(p, []byte("A=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(p)
	res, err := Update(p, Options{Backup: true}, func(old []byte, exists bool) ([]byte, error) {
		if !exists || string(old) != "A=1\n" {
			t.Fatalf("fn got exists=%v old=%q", exists, old)
		}
		return []byte("A=1\n"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed || res.Created || res.BackupPath != "" {
		t.Fatalf("result = %+v", res)
	}
	after, _ := os.Stat(p)
	if !os.SameFile(before, after) {
		t.Fatal("file was replaced although the bytes were identical")
	}
	if got := listDir(t, dir); strings.Join(got, ",") != ".env,.env.lock" {
		t.Fatalf("folder holds %v", got)
	}
}

func TestUpdateBackupAndMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".pgpass")
	if err := os.WriteFile(p, []byte("old\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	res, err := Write(p, []byte("new\n"), Options{Backup: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Created || res.BackupPath != p+".bak" || res.TightenedFrom != 0 {
		t.Fatalf("result = %+v", res)
	}
	if b, _ := os.ReadFile(p + ".bak"); string(b) != "old\n" {
		t.Fatalf("backup holds %q", b)
	}
	if got := mode(t, p+".bak"); got != 0o600 {
		t.Fatalf("backup mode %o", got)
	}
	if got := mode(t, p); got != 0o400 {
		t.Fatalf("stricter mode not kept: %o", got)
	}
	// Second change: the backup holds the previous generation only.
	if _, err := Write(p, []byte("newer\n"), Options{Backup: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p + ".bak"); string(b) != "new\n" {
		t.Fatalf("backup holds %q", b)
	}
}

func TestUpdateTightens(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix permissions")
	}
	for _, tc := range []struct {
		name    string
		content string
	}{{"changed", "new\n"}, {"unchanged", "old\n"}} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), ".pgpass")
			if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chmod(p, 0o644) // umask
			res, err := Write(p, []byte(tc.content), Options{Backup: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.TightenedFrom != 0o644 {
				t.Fatalf("TightenedFrom = %o", res.TightenedFrom)
			}
			if got := mode(t, p); got != 0o600 {
				t.Fatalf("mode %o", got)
			}
			if res.BackupPath != "" {
				if got := mode(t, res.BackupPath); got != 0o600 {
					t.Fatalf("backup mode %o", got)
				}
			}
		})
	}
}

func TestTighten(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, nil, 0o600)
	os.Chmod(p, 0o664)
	from, err := Tighten(p)
	if err != nil || from != 0o664 || mode(t, p) != 0o600 {
		t.Fatalf("from=%o err=%v mode=%o", from, err, mode(t, p))
	}
	from, err = Tighten(p)
	if err != nil || from != 0 {
		t.Fatalf("second: from=%o err=%v", from, err)
	}
}

func TestFnErrorChangesNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".env")
	os.WriteFile(p, []byte("A=1\n"), 0o600)
	os.Chmod(p, 0o644)
	boom := errors.New("boom")
	_, err := Update(p, Options{Backup: true}, func([]byte, bool) ([]byte, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if mode(t, p) != 0o644 {
		t.Fatal("mode changed on a refused update")
	}
	if got := listDir(t, dir); strings.Join(got, ",") != ".env,.env.lock" {
		t.Fatalf("folder holds %v", got)
	}
}

func TestCrashBeforeRenameKeepsOriginal(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".pgpass")
	orig := []byte("host:5432:db:user:secret\n# comment\n")
	os.WriteFile(p, orig, 0o600)
	crash := errors.New("injected crash")
	var sawTemp string
	_, err := Write(p, []byte("something else entirely\n"), Options{
		BeforeRename: func(tmp string) error {
			sawTemp = tmp
			b, err := os.ReadFile(tmp)
			if err != nil || string(b) != "something else entirely\n" {
				t.Errorf("temp file not fully written before the hook: %v", err)
			}
			if filepath.Dir(tmp) != dir {
				t.Errorf("temp file %s not in the target's folder", tmp)
			}
			if m := mode(t, tmp); m != 0o600 {
				t.Errorf("temp mode %o", m)
			}
			return crash
		},
	})
	if !errors.Is(err, crash) {
		t.Fatalf("err = %v", err)
	}
	if sawTemp == "" {
		t.Fatal("hook not called")
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, orig) {
		t.Fatal("original changed")
	}
	if got := listDir(t, dir); strings.Join(got, ",") != ".pgpass,.pgpass.lock" {
		t.Fatalf("folder holds %v (temp file left behind?)", got)
	}
}

func TestSymlinkWrittenThrough(t *testing.T) {
	dir := t.TempDir()
	dotfiles := filepath.Join(dir, "dotfiles")
	os.Mkdir(dotfiles, 0o700)
	target := filepath.Join(dotfiles, "pgpass")
	os.WriteFile(target, []byte("old\n"), 0o600)
	link := filepath.Join(dir, ".pgpass")
	if err := os.Symlink("dotfiles/pgpass", link); err != nil {
		t.Fatal(err)
	}
	res, err := Write(link, []byte("new\n"), Options{Backup: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Path != target || res.BackupPath != target+".bak" {
		t.Fatalf("result = %+v", res)
	}
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("symlink replaced by a plain file")
	}
	if b, _ := os.ReadFile(target); string(b) != "new\n" {
		t.Fatalf("target holds %q", b)
	}
	// A dangling link: the target is created where the link points.
	link2 := filepath.Join(dir, ".env")
	os.Symlink(filepath.Join(dotfiles, "env"), link2)
	res, err = Write(link2, []byte("A=1\n"), Options{})
	if err != nil || !res.Created || res.Path != filepath.Join(dotfiles, "env") {
		t.Fatalf("dangling: res=%+v err=%v", res, err)
	}
	if fi, _ := os.Lstat(link2); fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("dangling symlink replaced")
	}
}

func TestNotRegular(t *testing.T) {
	dir := t.TempDir()
	if _, err := Write(dir, []byte("x"), Options{}); err == nil {
		t.Fatal("writing over a folder succeeded")
	}
}

func TestLockTimeout(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".env")
	unlock, err := Lock(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Write(p, []byte("x"), Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), p+".lock") {
		t.Fatalf("error does not name the lock file: %v", err)
	}
	unlock()
	if _, err := Write(p, []byte("x"), Options{LockTimeout: -1}); err != nil {
		t.Fatal(err)
	}
}

// addLine is the read-modify-write every concurrent writer performs.
func addLine(p, line string) error {
	_, err := Update(p, Options{Backup: true}, func(old []byte, _ bool) ([]byte, error) {
		time.Sleep(time.Millisecond) // widen the race window
		return append(old, line+"\n"...), nil
	})
	return err
}

func checkLines(t *testing.T, p string, want []string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("file has %d lines, want %d: lost or duplicated updates\n got %v", len(got), len(want), got)
	}
	if m := mode(t, p); m != 0o600 {
		t.Fatalf("mode %o", m)
	}
}

func TestConcurrentGoroutinesLoseNothing(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".pgpass")
	const n = 20
	var wg sync.WaitGroup
	var want []string
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		line := fmt.Sprintf("entry-%02d", i)
		want = append(want, line)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- addLine(p, line)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkLines(t, p, want)
}

// TestHelperProcess is not a test: TestConcurrentProcessesLoseNothing re-runs the test binary with it.
func TestHelperProcess(t *testing.T) {
	p, line := os.Getenv("SAFEFILE_HELPER_PATH"), os.Getenv("SAFEFILE_HELPER_LINE")
	if p == "" {
		t.Skip("helper process only")
	}
	for i := 0; i < 5; i++ {
		if err := addLine(p, fmt.Sprintf("%s-%d", line, i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
	os.Exit(0)
}

func TestConcurrentProcessesLoseNothing(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".env")
	const n = 8
	var want []string
	cmds := make([]*exec.Cmd, n)
	for i := range cmds {
		line := fmt.Sprintf("proc-%d", i)
		for j := 0; j < 5; j++ {
			want = append(want, fmt.Sprintf("%s-%d", line, j))
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), "SAFEFILE_HELPER_PATH="+p, "SAFEFILE_HELPER_LINE="+line)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("helper %d output: %s", i, out.String())
			}
		})
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper %d: %v", i, err)
		}
	}
	checkLines(t, p, want)
}
