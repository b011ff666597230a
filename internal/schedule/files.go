package schedule

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// fileMode is what scheduler files need: launchd refuses group- or world-writable agents, and there is
// nothing secret in them. (internal/safefile writes 0600 credential files with a sibling lock file, which
// does not belong in ~/Library/LaunchAgents, so this package has its own small atomic writer.)
const fileMode fs.FileMode = 0o644

// writeFile writes content to path atomically (temporary file in the same folder, fsync, rename, fsync of
// the folder), mode 0644, creating the folder (0755). Identical content is not rewritten; a wrong mode on
// identical content is corrected.
func writeFile(path string, content []byte) (changed, created bool, err error) {
	old, err := os.ReadFile(path)
	switch {
	case err == nil:
		if bytes.Equal(old, content) {
			fi, err := os.Stat(path)
			if err != nil {
				return false, false, err
			}
			if fi.Mode().Perm() == fileMode {
				return false, false, nil
			}
			if err := os.Chmod(path, fileMode); err != nil {
				return false, false, fmt.Errorf("set %s to 0644: %w", path, err)
			}
			return true, false, nil
		}
	case errors.Is(err, fs.ErrNotExist):
		created = true
	default:
		return false, false, fmt.Errorf("read %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, created, fmt.Errorf("create folder %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".voyce-auth-*.tmp")
	if err != nil {
		return false, created, fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	_, err = tmp.Write(content)
	if err == nil {
		err = tmp.Chmod(fileMode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return false, created, fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return true, created, nil
}

// lastLine returns the last non-empty line of a file (reading at most its last 64 KiB), "" when there is
// none.
func lastLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 64 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		f.Seek(fi.Size()-max, io.SeekStart)
	}
	b, err := io.ReadAll(io.LimitReader(f, max))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\r\n\t "), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 500 {
		l = l[:500] + "..."
	}
	return l
}
