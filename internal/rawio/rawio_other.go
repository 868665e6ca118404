//go:build !unix

package rawio

import "os"

// Off Unix, os.File does the I/O.
const rawSupported = false

// ReadAt is f.ReadAt.
func ReadAt(f *os.File, b []byte, off int64) (int, error) { return f.ReadAt(b, off) }

// WriteAll writes all of b to f.
func WriteAll(f *os.File, b []byte) error {
	_, err := f.Write(b)
	return err
}
