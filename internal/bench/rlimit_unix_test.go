//go:build unix

package bench

import (
	"syscall"
	"testing"
)

func TestRaiseFileLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	cur := uint64(lim.Cur)
	got, err := RaiseFileLimit(cur) // already there: no change
	if err != nil || got != cur {
		t.Fatalf("got %d %v, want %d", got, err, lim.Cur)
	}
}
