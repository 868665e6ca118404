//go:build !linux || 386 || arm || mips || mipsle

package spool

import "os"

func writeAll(f *os.File, b []byte) error {
	_, err := f.Write(b)
	return err
}

func readAt(f *os.File, b []byte, off int64) (int, error) { return f.ReadAt(b, off) }
