package store

import (
	"math"
	"syscall"
)

// limitFileSize sets RLIMIT_FSIZE (int64 fields on FreeBSD).
func limitFileSize(n int64) error {
	return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: math.MaxInt64})
}
