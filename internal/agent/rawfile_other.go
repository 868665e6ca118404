//go:build !linux || 386 || arm || mips || mipsle

package agent

import "os"

func preadProc(f *os.File, b []byte) (int, error) { return f.ReadAt(b, 0) }
