package collect

import (
	"golang.org/x/sys/unix"

	"hawk/internal/rawio"
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
		s.statfsLocal = rawio.Statfs
		if s.statfs != nil {
			s.statfsLocal = s.statfs
		}
	}
	if s.statfs == nil {
		s.statfs = unix.Statfs
	}
	if s.adjtimex == nil {
		s.adjtimex = rawio.Adjtimex
	}
	if s.pagesize == nil {
		s.pagesize = unix.Getpagesize
	}
}
