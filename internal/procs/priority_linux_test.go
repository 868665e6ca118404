package procs

import (
	"runtime"
	"testing"
)

// TestBackgroundLowersItsThreadOnly: Background's work runs on a lowered
// thread, and the threads that run other goroutines afterwards are not:
// the lowered thread ended with its goroutine.
func TestBackgroundLowersItsThreadOnly(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if Lowered() {
		t.Fatal("the test's own thread is lowered")
	}
	for range 8 {
		var lowered bool
		Background(func() { lowered = Lowered() })
		if !lowered {
			t.Fatal("Background's work ran on a thread that is not lowered")
		}
	}
	// Goroutines each on a thread of their own, while they all wait: at
	// least as many threads as Background used.
	const n = 32
	low := make(chan bool, n)
	release := make(chan struct{})
	for range n {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			low <- Lowered()
			<-release
		}()
	}
	for range n {
		if <-low {
			t.Error("a later goroutine runs on a lowered thread")
		}
	}
	close(release)
}
