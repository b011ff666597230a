//go:build windows

package safefile

import (
	"io/fs"
	"os"
)

// syncDir is a no-op on Windows, where folders cannot be opened for syncing.
func syncDir(string) {}

// copyOwner is a no-op on Windows.
func copyOwner(f *os.File, like fs.FileInfo) {}
