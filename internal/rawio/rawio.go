//go:build unix

package rawio

import (
	"io"
	"os"
	"runtime"
)

// ReadAt is f.ReadAt: fewer bytes than len(b) come with an error (io.EOF
// at the end of the file).
func ReadAt(f *os.File, b []byte, off int64) (int, error) {
	fd := int(f.Fd())
	defer runtime.KeepAlive(f)
	done := 0
	for done < len(b) {
		n, err := Pread(fd, b[done:], off+int64(done))
		if err != nil {
			return done, &os.PathError{Op: "read", Path: f.Name(), Err: err}
		}
		if n == 0 {
			return done, io.EOF
		}
		done += n
	}
	return done, nil
}

// WriteAll writes all of b to f.
func WriteAll(f *os.File, b []byte) error {
	fd := int(f.Fd())
	defer runtime.KeepAlive(f)
	for len(b) > 0 {
		n, err := Write(fd, b)
		if err != nil {
			return &os.PathError{Op: "write", Path: f.Name(), Err: err}
		}
		if n == 0 {
			return &os.PathError{Op: "write", Path: f.Name(), Err: io.ErrShortWrite}
		}
		b = b[n:]
	}
	return nil
}
