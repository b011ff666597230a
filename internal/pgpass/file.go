package pgpass

import (
	"errors"
	"io/fs"
	"os"

	"github.com/voyce/voyce-auth/internal/safefile"
)

// ReadFile parses the password file at path. A missing file reads as empty (exists == false).
func ReadFile(path string) (f *File, exists bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{}, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return Parse(data), true, nil
}

// UpsertFile upserts e into the file at path under the lock, in one atomic 0600 write (see package doc).
// When the entry is already right, nothing is written (Result.Changed is false).
func UpsertFile(path string, e Entry, opts safefile.Options) (UpsertResult, safefile.Result, error) {
	if err := Validate(e); err != nil {
		return UpsertResult{}, safefile.Result{}, err
	}
	var ur UpsertResult
	res, err := safefile.Update(path, opts, func(old []byte, _ bool) ([]byte, error) {
		f := Parse(old)
		var err error
		ur, err = f.Upsert(e)
		return f.Bytes(), err
	})
	return ur, res, err
}

// RemoveFile removes the entry for (host, port, database, user) from the file at path under the lock. A
// missing file is left missing.
func RemoveFile(path, host, port, database, user string, opts safefile.Options) (removed int, res safefile.Result, err error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return 0, safefile.Result{}, nil
	}
	res, err = safefile.Update(path, opts, func(old []byte, _ bool) ([]byte, error) {
		f := Parse(old)
		removed = f.Remove(host, port, database, user)
		return f.Bytes(), nil
	})
	return removed, res, err
}
