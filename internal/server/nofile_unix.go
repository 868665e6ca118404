//go:build unix

package server

import "syscall"

// openFilesLimit returns the soft RLIMIT_NOFILE (an int64 on some systems,
// a uint64 on others).
func openFilesLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return 0, false
	}
	return uint64(rl.Cur), true
}
