package collect

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysSeams holds the system calls that tests replace; nil means the real
// one.
type sysSeams struct {
	statfs func(path string, st *unix.Statfs_t) error
	// statfsLocal is statfs for a file system on a local device, which
	// answers from memory: a raw system call (see fileReader.mayBlock).
	// A test that replaces statfs replaces this too.
	statfsLocal func(path string, st *unix.Statfs_t) error
	adjtimex    func(tx *unix.Timex) (int, error)
	pagesize    func() int // bytes per page; varies by architecture
}

func (s *sysSeams) setDefaults() {
	if s.statfsLocal == nil {
		s.statfsLocal = rawStatfs
		if s.statfs != nil {
			s.statfsLocal = s.statfs
		}
	}
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

// rawStatfs is unix.Statfs as a raw system call, for local file systems.
func rawStatfs(path string, st *unix.Statfs_t) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	if _, _, errno := unix.RawSyscall(unix.SYS_STATFS, uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(st)), 0); errno != 0 {
		return errno
	}
	return nil
}

// rawStatx is unix.Statx (basic fields) as a raw system call, for a file
// on the root file system whose metadata is in memory.
func rawStatx(path string, st *unix.Statx_t) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	if _, _, errno := unix.RawSyscall6(unix.SYS_STATX, atFDCWD, uintptr(unsafe.Pointer(p)), 0,
		unix.STATX_BASIC_STATS, uintptr(unsafe.Pointer(st)), 0); errno != 0 {
		return errno
	}
	return nil
}
