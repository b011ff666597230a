//go:build unix && !linux

package pgtest

import "syscall"

// procAttr runs a child as the given user (nil: as ourselves). Only Linux has a parent-death signal.
func procAttr(as *runAs, deathSignal bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{}
	if as != nil {
		a.Credential = &syscall.Credential{Uid: as.uid, Gid: as.gid, Groups: []uint32{}}
	}
	return a
}
