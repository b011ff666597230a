// Package binary builds the voyce-auth command for tests that run it as a whole process, as a person or a
// scheduler would: once per test binary, into a temporary folder that Cleanup removes.
//
//	func TestMain(m *testing.M) {
//		code := m.Run() // or pgtest.Main(m)
//		binary.Cleanup()
//		os.Exit(code)
//	}
package binary

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	once sync.Once
	dir  string
	path string
	err  error
)

// Build builds github.com/voyce/voyce-auth/cmd/voyce-auth (the first call; later ones return the same
// path) with the go command of the toolchain running the tests.
func Build() (string, error) {
	once.Do(func() {
		dir, err = os.MkdirTemp("", "voyce-auth-bin-")
		if err != nil {
			return
		}
		path = filepath.Join(dir, "voyce-auth")
		if runtime.GOOS == "windows" {
			path += ".exe"
		}
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, statErr := os.Stat(goBin); statErr != nil {
			goBin = "go"
		}
		out, buildErr := exec.Command(goBin, "build", "-o", path, "github.com/voyce/voyce-auth/cmd/voyce-auth").CombinedOutput()
		if buildErr != nil {
			err = fmt.Errorf("go build ./cmd/voyce-auth: %v\n%s", buildErr, out)
		}
	})
	return path, err
}

// VoyceAuth returns the path of the built voyce-auth, failing the test when it cannot be built.
func VoyceAuth(tb testing.TB) string {
	tb.Helper()
	p, err := Build()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// Cleanup removes the built binary; call it from TestMain once the tests have run.
func Cleanup() {
	if dir != "" {
		os.RemoveAll(dir)
	}
}
