//go:build !windows

package safefile

import (
	"io/fs"
	"os"
	"syscall"
)

// syncDir makes the rename durable. Errors are ignored: some file systems cannot sync a folder.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// copyOwner gives f the owner and group of like, when running as root and they differ (best effort).
func copyOwner(f *os.File, like fs.FileInfo) {
	if os.Geteuid() != 0 {
		return
	}
	st, ok := like.Sys().(*syscall.Stat_t)
	if !ok || (int(st.Uid) == 0 && int(st.Gid) == 0) {
		return
	}
	_ = f.Chown(int(st.Uid), int(st.Gid))
}
