//go:build !linux

package agent

func newSleeper() sleeper { return newTimerSleeper() }
