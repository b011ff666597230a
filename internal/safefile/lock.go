package safefile

import (
	"errors"
	"fmt"
	"os"
	"time"
)

var errWouldBlock = errors.New("lock held by another process")

// Lock takes the advisory lock for path (on the sibling file PATH.lock, created 0600 and left in place),
// waiting up to timeout (0 means DefaultLockTimeout, negative means try once). The returned function
// releases it. The lock excludes other processes and other goroutines of this process alike.
func Lock(path string, timeout time.Duration) (unlock func(), err error) {
	if timeout == 0 {
		timeout = DefaultLockTimeout
	}
	lp := LockPath(path)
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, os.ErrPermission) {
		// A lock file left by another user (say, a run under sudo): a read-only handle locks just as well.
		f, err = os.Open(lp)
	}
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", lp, err)
	}
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	wait := 5 * time.Millisecond
	for {
		err := tryLock(f)
		if err == nil {
			return func() { _ = unlockFile(f); _ = f.Close() }, nil
		}
		if !errors.Is(err, errWouldBlock) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", lp, err)
		}
		if deadline == nil {
			f.Close()
			return nil, fmt.Errorf("%s is being changed by another voyce-auth (lock file %s): %w", path, lp, ErrLockTimeout)
		}
		select {
		case <-deadline:
			f.Close()
			return nil, fmt.Errorf("%s is being changed by another voyce-auth (lock file %s held for %s): %w", path, lp, timeout, ErrLockTimeout)
		case <-time.After(wait):
		}
		if wait < 100*time.Millisecond {
			wait *= 2
		}
	}
}
