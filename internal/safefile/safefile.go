// Package safefile writes credential files (.env, .pgpass) so that they are never half-written, never
// readable by others, and never edited by two processes at once.
//
// Guarantees of Update and Write:
//   - The new content reaches the file through a temporary file in the same folder (created 0600), fsync,
//     rename, fsync of the folder: a reader sees the old bytes or the new bytes, never a mix. A failure
//     before the rename leaves the original byte-identical and removes the temporary file.
//   - The result is never looser than 0600: a new file is 0600, an existing file with group/world access is
//     tightened (Result.TightenedFrom says from what), a stricter mode (0400) is kept.
//   - The read-modify-write runs under an advisory lock on a sibling lock file (PATH.lock, flock on unix,
//     LockFileEx on Windows), waited for up to Options.LockTimeout.
//   - Identical bytes are not written: no rename, no backup, Result.Changed is false.
//   - With Options.Backup, the previous content is kept in PATH.bak (same folder, 0600), one generation.
//   - A symlink is written through to its final target, which stays where it is; the link is untouched.
//   - A missing parent folder is created 0700.
package safefile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// DefaultLockTimeout is how long Update waits for another process's lock when Options.LockTimeout is 0.
const DefaultLockTimeout = 10 * time.Second

// ErrLockTimeout is returned (wrapped) when the lock could not be taken within the timeout.
var ErrLockTimeout = errors.New("timed out waiting for the lock")

// Options tune Update and Write. The zero value is sensible: 10s lock timeout, no backup.
type Options struct {
	// Backup keeps the previous content in PATH.bak (0600) before a change.
	Backup bool
	// LockTimeout is how long to wait for the lock; 0 means DefaultLockTimeout, negative means try once.
	LockTimeout time.Duration
	// BeforeRename, when set, is called after the temporary file is written and synced and before it is
	// renamed over the target. Returning an error aborts the write as a crash at that point would (tests
	// use it for crash injection); the temporary file is removed.
	BeforeRename func(tempPath string) error
}

// Result says what Update or Write did.
type Result struct {
	// Path is the file that was (or would have been) written: the symlink's final target when the given
	// path is a symlink.
	Path string
	// Created is true when the file did not exist before.
	Created bool
	// Changed is true when new bytes were written (also true for Created).
	Changed bool
	// TightenedFrom is the previous permission bits when the existing file had group/world access and was
	// tightened; 0 otherwise.
	TightenedFrom fs.FileMode
	// BackupPath is where the previous content was saved, "" when no backup was made.
	BackupPath string
}

// BackupPath returns the backup file name used for path: PATH.bak in the same folder.
func BackupPath(path string) string { return path + ".bak" }

// LockPath returns the lock file name used for path: PATH.lock in the same folder.
func LockPath(path string) string { return path + ".lock" }

// Update runs a read-modify-write of path under the lock: fn gets the current content (nil, false when the
// file does not exist) and returns the new content. An error from fn is returned as is and nothing changes.
func Update(path string, opts Options, fn func(old []byte, exists bool) ([]byte, error)) (Result, error) {
	target, err := Resolve(path)
	if err != nil {
		return Result{}, err
	}
	res := Result{Path: target}
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, fmt.Errorf("create folder %s: %w", dir, err)
	}
	unlock, err := Lock(target, opts.LockTimeout)
	if err != nil {
		return res, err
	}
	defer unlock()

	old, err := os.ReadFile(target)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("read %s: %w", target, err)
	}
	var mode fs.FileMode = 0o600
	var oldInfo fs.FileInfo
	if exists {
		fi, err := os.Stat(target)
		if err != nil {
			return res, err
		}
		if !fi.Mode().IsRegular() {
			return res, fmt.Errorf("%s is not a regular file", target)
		}
		mode, oldInfo = fi.Mode().Perm(), fi
	}
	data, err := fn(old, exists)
	if err != nil {
		return res, err
	}
	res.Created = !exists
	if exists && looser(mode) {
		if err := os.Chmod(target, mode&0o600); err != nil {
			return res, fmt.Errorf("tighten %s to 0600: %w", target, err)
		}
		res.TightenedFrom = mode
		mode &= 0o600
	}
	if exists && bytes.Equal(old, data) {
		return res, nil
	}
	if exists && opts.Backup {
		bak := BackupPath(target)
		if err := writeAtomic(bak, old, 0o600, nil, oldInfo); err != nil {
			return res, fmt.Errorf("back up %s: %w", target, err)
		}
		res.BackupPath = bak
	}
	if err := writeAtomic(target, data, mode, opts.BeforeRename, oldInfo); err != nil {
		return res, err
	}
	res.Changed = true
	return res, nil
}

// Write replaces path's content with data under the same guarantees as Update.
func Write(path string, data []byte, opts Options) (Result, error) {
	return Update(path, opts, func([]byte, bool) ([]byte, error) { return data, nil })
}

// Tighten removes group/world access from an existing file (as libpq requires of a passfile). It returns
// the previous permission bits when it changed them, 0 when the file was already private. Symlinks are
// followed. On Windows it does nothing.
func Tighten(path string) (fs.FileMode, error) {
	if runtime.GOOS == "windows" {
		return 0, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	mode := fi.Mode().Perm()
	if !looser(mode) {
		return 0, nil
	}
	if err := os.Chmod(path, mode&0o600); err != nil {
		return 0, fmt.Errorf("tighten %s to 0600: %w", path, err)
	}
	return mode, nil
}

// looser reports whether mode gives access beyond the owner's read/write (group, world or execute bits).
func looser(mode fs.FileMode) bool {
	if runtime.GOOS == "windows" {
		return false // Windows reports 0666 for every writable file; ACLs are not modelled here.
	}
	return mode&^0o600 != 0
}

// Resolve follows symlinks in the last element of path (repeatedly) and returns the file that a write
// should go to. A dangling link resolves to its (missing) target, which a write then creates.
func Resolve(path string) (string, error) {
	p := filepath.Clean(path)
	for i := 0; i < 40; i++ {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		t, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(p), t)
		}
		p = filepath.Clean(t)
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// writeAtomic writes data to path through a temporary file in the same folder. mode is applied to the
// temporary file (it is created 0600 and only ever made stricter). When like is non-nil and the process
// may, the new file gets like's owner (root editing a person's file must not take it over).
func writeAtomic(path string, data []byte, mode fs.FileMode, beforeRename func(string) error, like fs.FileInfo) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if mode = mode & 0o600; mode != 0o600 && runtime.GOOS != "windows" {
		if err := tmp.Chmod(mode); err != nil {
			return fmt.Errorf("set mode of %s: %w", tmpName, err)
		}
	}
	if like != nil {
		copyOwner(tmp, like)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmpName, err)
	}
	if beforeRename != nil {
		if err := beforeRename(tmpName); err != nil {
			return err
		}
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}
