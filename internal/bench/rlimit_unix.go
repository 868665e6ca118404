//go:build unix

package bench

import (
	"fmt"
	"syscall"
)

// RaiseFileLimit lifts RLIMIT_NOFILE to at least n open files, raising the
// hard limit too when allowed (as root, up to fs.nr_open), and returns the
// soft limit now in force.
func RaiseFileLimit(n uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("bench: getrlimit: %w", err)
	}
	cur, hard := uint64(lim.Cur), uint64(lim.Max)
	if cur >= n {
		return cur, nil
	}
	want := lim
	set(&want.Cur, n)
	set(&want.Max, max(hard, n))
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
		return n, nil
	}
	// Not allowed to raise the hard limit: go as far as it.
	want.Cur, want.Max = lim.Max, lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		return cur, fmt.Errorf("bench: setrlimit %d: %w", n, err)
	}
	return hard, fmt.Errorf("bench: open files limited to %d, wanted %d", hard, n)
}

// set stores v in a limit field, whose type varies by system.
func set[T int64 | uint64](p *T, v uint64) { *p = T(v) }
