//go:build unix && !linux

package rawio

import "syscall"

// Off Linux the functions make ordinary calls: see the package
// documentation.
const rawSupported = false

// Pread is one pread(2) of fd into p at off, retried on EINTR.
func Pread(fd int, p []byte, off int64) (int, error) {
	for {
		n, err := syscall.Pread(fd, p, off)
		if err != syscall.EINTR {
			return max(n, 0), err
		}
	}
}

// Write is one write(2) of p to fd, retried on EINTR.
func Write(fd int, p []byte) (int, error) {
	for {
		n, err := syscall.Write(fd, p)
		if err != syscall.EINTR {
			return max(n, 0), err
		}
	}
}
