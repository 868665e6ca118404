//go:build !freebsd && !windows

package store

import (
	"math"
	"syscall"
)

// limitFileSize sets RLIMIT_FSIZE: a write past n bytes fails with EFBIG,
// the way a full disk fails it with ENOSPC.
func limitFileSize(n int64) error {
	return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(n), Max: math.MaxUint64})
}
