//go:build !unix

package bench

import "errors"

// RaiseFileLimit fails where the system has no RLIMIT_NOFILE.
func RaiseFileLimit(n uint64) (uint64, error) {
	return 0, errors.New("bench: no open-files limit to raise on this system")
}
