package setup_test

import "golang.org/x/sys/unix"

const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlInputQueue = 0x4004667f // FIONREAD, which x/sys/unix does not name on darwin
)
