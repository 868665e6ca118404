package collect

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysSeams holds the system calls that tests replace; nil means the real
// one.
type sysSeams struct {
	statfs   func(path string, st *unix.Statfs_t) error
	adjtimex func(tx *unix.Timex) (int, error)
	pagesize func() int // bytes per page; varies by architecture
}

func (s *sysSeams) setDefaults() {
	if s.statfs == nil {
		s.statfs = unix.Statfs
	}
	if s.adjtimex == nil {
		s.adjtimex = rawAdjtimex
	}
	if s.pagesize == nil {
		s.pagesize = unix.Getpagesize
	}
}

// rawAdjtimex is unix.Adjtimex (read-only: tx.Modes is 0) as a raw system
// call: it only copies the kernel's clock state. See fileReader.mayBlock
// for why raw calls matter.
func rawAdjtimex(tx *unix.Timex) (int, error) {
	state, _, errno := unix.RawSyscall(unix.SYS_ADJTIMEX, uintptr(unsafe.Pointer(tx)), 0, 0)
	if errno != 0 {
		return int(state), errno
	}
	return int(state), nil
}
