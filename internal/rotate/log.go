package rotate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxLogSize is the size at which logs/oauth-rotation.log is moved to oauth-rotation.log.1 (one old
// generation is kept).
const MaxLogSize = 1 << 20

// LogFile returns the rotation log for a .env file: logs/oauth-rotation.log next to it.
func LogFile(envFile string) string {
	return filepath.Join(filepath.Dir(envFile), "logs", "oauth-rotation.log")
}

// appendLog writes one line "TIME key=value ..." to path (0600, folder 0700), moving a full log aside first.
// Values are quoted when they contain spaces. Never pass a secret.
func appendLog(path string, now time.Time, fields map[string]string, order []string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(now.UTC().Format(time.RFC3339))
	seen := map[string]bool{}
	keys := append([]string(nil), order...)
	var rest []string
	for k := range fields {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	keys = append(keys, rest...)
	for _, k := range keys {
		v, ok := fields[k]
		if !ok || seen[k] || v == "" {
			continue
		}
		seen[k] = true
		if strings.ContainsAny(v, " \t\"=") {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	line := strings.ReplaceAll(b.String(), "\n", " ") + "\n"

	if fi, err := os.Stat(path); err == nil && fi.Size()+int64(len(line)) > MaxLogSize {
		if err := os.Rename(path, path+".1"); err != nil {
			return err
		}
		os.Chmod(path+".1", 0o600)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		f.Chmod(0o600)
	}
	_, err = f.WriteString(line)
	return err
}
