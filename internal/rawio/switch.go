package rawio

import (
	"os"
	"sync/atomic"
)

// raw is the switch: whether the functions of this package make raw
// system calls where they can.
var raw atomic.Bool

func init() { raw.Store(os.Getenv("HAWK_RAW_SYSCALLS") != "off") }

// SetRaw turns raw system calls on or off and returns the previous
// setting. Off, every function makes the ordinary call.
func SetRaw(on bool) (was bool) { return raw.Swap(on) }

// Raw reports whether the functions make raw system calls: the switch is
// on and this system has them (64-bit Linux).
func Raw() bool { return rawSupported && raw.Load() }
