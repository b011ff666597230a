//go:build !windows

package run

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts the program in its own process group and kills the whole group on cancel, so a
// program that started children (a hung CLI, a shell hook) does not outlive its time limit.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
