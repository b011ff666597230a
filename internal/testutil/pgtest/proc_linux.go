//go:build linux

package pgtest

import "syscall"

// procAttr runs a child as the given user (nil: as ourselves) and, on Linux, has the kernel send the server
// SIGINT (PostgreSQL's "fast shutdown") when the test binary dies, so a killed test run leaves no server
// behind.
func procAttr(as *runAs, deathSignal bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{}
	if as != nil {
		a.Credential = &syscall.Credential{Uid: as.uid, Gid: as.gid, Groups: []uint32{}}
	}
	if deathSignal {
		a.Pdeathsig = syscall.SIGINT
	}
	return a
}
