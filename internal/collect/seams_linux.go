package collect

import "golang.org/x/sys/unix"

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
		s.adjtimex = unix.Adjtimex
	}
	if s.pagesize == nil {
		s.pagesize = unix.Getpagesize
	}
}
