//go:build !linux

package procs

// Lower does nothing where hawk does not know how to lower one thread's
// priority.
func Lower() {}

// Lowered reports false: Lower does nothing here.
func Lowered() bool { return false }
