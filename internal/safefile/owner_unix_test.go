//go:build !windows

package safefile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestRootKeepsOwner: root (e.g. a system timer) rewriting a person's file leaves it owned by that person.
func TestRootKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can give a file to another user")
	}
	p := filepath.Join(t.TempDir(), ".pgpass")
	os.WriteFile(p, []byte("old\n"), 0o600)
	if err := os.Chown(p, 1234, 2345); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(p, []byte("new\n"), Options{Backup: true}); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 1234 || st.Gid != 2345 {
		t.Fatalf("owner now %d:%d", st.Uid, st.Gid)
	}
	fi, _ = os.Stat(p + ".bak")
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 1234 {
		t.Fatalf("backup owned by %d", st.Uid)
	}
}
