package agent

import (
	"context"
	"testing"
	"time"
)

func TestSleeper(t *testing.T) {
	for name, sl := range map[string]sleeper{"default": newSleeper(), "timer": newTimerSleeper()} {
		t.Run(name, func(t *testing.T) {
			defer sl.close()
			ctx := context.Background()
			for range 3 { // reused, as the loops reuse it
				start := time.Now()
				if !sl.sleep(ctx, 20*time.Millisecond) {
					t.Fatal("sleep reported cancellation")
				}
				if d := time.Since(start); d < 20*time.Millisecond {
					t.Fatalf("woke after %v of 20ms", d)
				}
			}
			if !sl.sleep(ctx, 0) {
				t.Fatal("zero sleep reported cancellation")
			}
			cctx, cancel := context.WithCancel(ctx)
			done := make(chan bool)
			go func() { done <- sl.sleep(cctx, time.Hour) }()
			cancel()
			select {
			case ok := <-done:
				if ok {
					t.Fatal("an hour's sleep reported it elapsed after cancellation")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("sleep did not end with its context")
			}
			if sl.sleep(cctx, time.Millisecond) {
				t.Fatal("sleep with a cancelled context reported it elapsed")
			}
		})
	}
}

// A rearm from another goroutine moves the end of a running sleep.
func TestSleeperRearm(t *testing.T) {
	sl, ok := newSleeper().(rearmer)
	if !ok {
		t.Skip("this platform's sleeper cannot be rearmed")
	}
	defer sl.(sleeper).close()
	done := make(chan bool)
	go func() { done <- sl.(sleeper).sleep(context.Background(), time.Hour) }()
	// The rearm may come before the sleep starts, which then sets its hour
	// again; so rearm until the sleep ends.
	for {
		sl.rearm(time.Millisecond)
		select {
		case ok := <-done:
			if !ok {
				t.Fatal("a rearmed sleep reported cancellation")
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// keepAlive signals once per interval on a silent link, and a write
// postpones the next signal to a full interval after it.
func TestKeepAlive(t *testing.T) {
	const period = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	k := newKeepAlive(period)
	defer k.close()
	done := make(chan struct{})
	go func() { defer close(done); k.run(ctx) }()
	defer func() { cancel(); <-done }()
	next := func() time.Time {
		select {
		case <-k.c:
			return time.Now()
		case <-time.After(10 * time.Second):
			t.Fatal("no keep-alive signal")
		}
		return time.Time{}
	}
	prev := next()
	for range 3 { // silent: one signal per period
		s := next()
		if d := s.Sub(prev); d < period {
			t.Fatalf("signals %v apart on a silent link, period %v", d, period)
		}
		prev = s
	}
	for range 3 { // writes at half the period: each postpones the signal
		k.wrote()
		time.Sleep(period / 2)
		w := time.Now()
		k.wrote()
		if d := next().Sub(w); d < period {
			t.Fatalf("signal %v after a write, period %v", d, period)
		}
	}
}
