package procs

import (
	"errors"
	"testing"
)

// TestBackgroundPanics: a panic of the work reaches the caller.
func TestBackgroundPanics(t *testing.T) {
	boom := errors.New("boom")
	defer func() {
		if p := recover(); p != boom {
			t.Fatalf("recovered %v, want %v", p, boom)
		}
	}()
	Background(func() { panic(boom) })
	t.Fatal("Background returned")
}
