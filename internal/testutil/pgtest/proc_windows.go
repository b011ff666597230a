//go:build windows

package pgtest

import "syscall"

// procAttr: on Windows the server runs as the current user; there is no user switch or parent-death signal.
func procAttr(as *runAs, deathSignal bool) *syscall.SysProcAttr { return nil }
